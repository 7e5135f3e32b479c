import type { Command } from 'commander';

// Placeholder until its issue lands; see the issue that names `xapi explain`.
export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description('(not implemented yet)')
    .action(() => {
      throw new Error('xapi explain is not implemented yet');
    });
}
