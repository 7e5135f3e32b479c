// Entry point of the `xapi` command. Each command lives in its own module under commands/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerSynth } from './commands/synth.js';
import { registerDev } from './commands/dev.js';
import { registerOperator } from './commands/operator.js';
import { registerStatus } from './commands/status.js';
import { registerExplain } from './commands/explain.js';
import { registerLint } from './commands/lint.js';
import { registerGateway } from './commands/gateway.js';

/** Exit code of a usage error (unknown flag or command, bad flag value); 1 means findings / denied / not ready. */
export const USAGE_EXIT = 2;

/** The version in xapi's package.json, found upward from this module (src/ or dist/src/). */
function version(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const json = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
      if (json.name === 'xapi' && json.version) return json.version;
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

export function buildProgram(): Command {
  const program = new Command('xapi')
    .description('Private cross-account API Gateway access over PrivateLink, rendered for ACK')
    .version(version(), '-V, --version', 'print the xapi version')
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

const ERRNO: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EEXIST: 'already exists',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'is a folder, not a file',
  ENAMETOOLONG: 'name too long for the filesystem',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only filesystem',
};

/** A raw Node errno error ("ENOENT: no such file or directory, mkdtemp '…'") as "PATH: what is wrong". */
function plainErrno(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof e.code !== 'string' || !ERRNO[e.code] || !e.path) return err;
  return new Error(`${e.path}: ${ERRNO[e.code]} (while trying to ${e.syscall ?? 'use it'}); check the flag or file that names it`);
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors already printed their message and exit 2
      process.exitCode = err.exitCode === 0 ? 0 : USAGE_EXIT;
      return;
    }
    throw plainErrno(err);
  }
}
