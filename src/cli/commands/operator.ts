import type { Command } from 'commander';

// Placeholder until its issue lands; see the issue that names `xapi operator`.
export function registerOperator(program: Command): void {
  program
    .command('operator')
    .description('(not implemented yet)')
    .action(() => {
      throw new Error('xapi operator is not implemented yet');
    });
}
