import type { Command } from 'commander';

// Placeholder until its issue lands; see the issue that names `xapi dev`.
export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('(not implemented yet)')
    .action(() => {
      throw new Error('xapi dev is not implemented yet');
    });
}
