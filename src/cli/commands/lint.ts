import type { Command } from 'commander';

// Placeholder until its issue lands; see the issue that names `xapi lint`.
export function registerLint(program: Command): void {
  program
    .command('lint')
    .description('(not implemented yet)')
    .action(() => {
      throw new Error('xapi lint is not implemented yet');
    });
}
