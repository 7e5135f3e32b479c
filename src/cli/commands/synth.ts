import type { Command } from 'commander';

// Placeholder until its issue lands; see the issue that names `xapi synth`.
export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('(not implemented yet)')
    .action(() => {
      throw new Error('xapi synth is not implemented yet');
    });
}
