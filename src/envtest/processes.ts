// Child processes of a control plane: each runs in its own process group (detached) so that
// stop() can signal the whole group, with stdout/stderr going to a log file in the plane's dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

export interface Started {
  child: ChildProcess;
  pid: number;
  logPath: string;
  /** Set once the process has exited (code or signal). */
  exited: () => string | undefined;
}

export function startLogged(bin: string, args: string[], logPath: string, env?: NodeJS.ProcessEnv): Started {
  const fd = openSync(logPath, 'a');
  let exit: string | undefined;
  try {
    const child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd], ...(env && { env }) });
    if (child.pid === undefined) throw new Error(`could not start ${bin}`);
    child.on('exit', (code, signal) => (exit = signal ? `killed by ${signal}` : `exited with code ${code}`));
    child.on('error', (err) => (exit = `failed to start: ${err.message}`));
    // Never keeps the parent's event loop alive: a dev plane outlives the CLI that started it,
    // and a test plane is stopped explicitly.
    child.unref();
    return { child, pid: child.pid, logPath, exited: () => exit };
  } finally {
    closeSync(fd);
  }
}

export function logTail(path: string, lines = 25): string {
  if (!existsSync(path)) return '(no log)';
  const all = readFileSync(path, 'utf8').trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** Alive and not a zombie (a detached process whose parent is gone may linger as one). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM the process group, wait up to graceMs, then SIGKILL it and wait for it to go. */
export async function stopGroup(pid: number, graceMs = 10_000): Promise<void> {
  if (!isAlive(pid)) return;
  signalGroup(pid, 'SIGTERM');
  const end = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < end) await sleep(25);
  if (!isAlive(pid)) return;
  signalGroup(pid, 'SIGKILL');
  const hardEnd = Date.now() + 10_000;
  while (isAlive(pid)) {
    if (Date.now() > hardEnd) throw new Error(`process ${pid} survived SIGKILL`);
    await sleep(25);
  }
}

/** Synchronous last-resort kill, for process 'exit' handlers. */
export function killGroupNow(pid: number): void {
  signalGroup(pid, 'SIGKILL');
}

/** The command line of a live process, to check a recorded PID still is what we started. */
export function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}
