import type { Command } from 'commander';

// Placeholder until its issue lands; see the issue that names `xapi status`.
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('(not implemented yet)')
    .action(() => {
      throw new Error('xapi status is not implemented yet');
    });
}
