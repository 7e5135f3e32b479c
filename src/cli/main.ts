// Entry point of the `xapi` command. Each command lives in its own module under commands/.
import { Command, CommanderError } from 'commander';
import { registerSynth } from './commands/synth.js';
import { registerDev } from './commands/dev.js';
import { registerOperator } from './commands/operator.js';
import { registerStatus } from './commands/status.js';
import { registerExplain } from './commands/explain.js';
import { registerLint } from './commands/lint.js';
import { registerGateway } from './commands/gateway.js';

export function buildProgram(): Command {
  const program = new Command('xapi')
    .description('Private cross-account API Gateway access over PrivateLink, rendered for ACK')
    .showHelpAfterError()
    .exitOverride();
  registerSynth(program);
  registerDev(program);
  registerOperator(program);
  registerStatus(program);
  registerExplain(program);
  registerLint(program);
  registerGateway(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors already printed their message
      process.exitCode = err.exitCode;
      return;
    }
    throw err;
  }
}
