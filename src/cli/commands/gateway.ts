import type { Command } from 'commander';

// Placeholder until its issue lands; see the issue that names `xapi gateway`.
export function registerGateway(program: Command): void {
  program
    .command('gateway')
    .description('(not implemented yet)')
    .action(() => {
      throw new Error('xapi gateway is not implemented yet');
    });
}
