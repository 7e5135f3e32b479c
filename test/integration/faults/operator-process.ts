// The operator as its own process, started through the CLI as a Deployment would run it
// (`xapi operator ...`), with its /healthz, /readyz and /metrics endpoints on free loopback ports.
// Only the public surfaces are used: flags, environment, HTTP endpoints, signals.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../src/envtest/ports.js';
import { repoRoot, until } from '../helpers.js';

const ROOT = repoRoot();
export const XAPI_BIN = join(ROOT, 'bin', 'xapi.js');

export interface OperatorProcessOptions {
  kubeconfig: string;
  namespace: string;
  /** Lease name; leader election is on unless `leaderElect: false`. */
  leaseName: string;
  leaderElect?: boolean;
  /** POD_NAME: the replica's identity in the Lease. */
  identity: string;
  /** XAPI_RESYNC_SECONDS: the periodic full resync (the runtime's --resync-seconds). */
  resyncSeconds?: number;
  env?: Record<string, string>;
  args?: string[];
  /** Options for node itself, before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** The CLI launcher to run (default bin/xapi.js of this checkout, which runs dist/). */
  bin?: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export class OperatorProcess {
  readonly logPath: string;
  private child!: ChildProcess;
  private exit: Exit | undefined;
  private exited!: Promise<Exit>;
  metricsPort = 0;
  healthPort = 0;

  private constructor(readonly opts: OperatorProcessOptions) {
    this.logPath = join(mkdtempSync(join(tmpdir(), `xapi-op-${opts.identity}-`)), 'operator.log');
  }

  /** Starts the process and waits until /healthz answers. */
  static async start(opts: OperatorProcessOptions): Promise<OperatorProcess> {
    if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error('dist/ is missing: build first (npx tsc -p tsconfig.json; npm test does)');
    const p = new OperatorProcess(opts);
    await p.spawn();
    return p;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get exitStatus(): Exit | undefined {
    return this.exit;
  }

  private async spawn(): Promise<void> {
    this.metricsPort = await freePort();
    this.healthPort = await freePort();
    const o = this.opts;
    const args = [...(o.nodeArgs ?? []), o.bin ?? XAPI_BIN, 'operator', '--kubeconfig', o.kubeconfig, '--namespace', o.namespace, '--metrics-port', String(this.metricsPort), '--health-port', String(this.healthPort), '--lease-name', o.leaseName];
    if (o.leaderElect !== false) args.push('--leader-elect');
    args.push(...(o.args ?? []));
    const fd = openSync(this.logPath, 'a');
    try {
      this.child = spawn(process.execPath, args, {
        stdio: ['ignore', fd, fd],
        env: { ...process.env, POD_NAME: o.identity, ...(o.resyncSeconds !== undefined && { XAPI_RESYNC_SECONDS: String(o.resyncSeconds) }), ...o.env },
      });
    } finally {
      closeSync(fd);
    }
    this.exit = undefined;
    running.add(this.child);
    const child = this.child;
    this.exited = new Promise((r) =>
      child.once('exit', (code, signal) => {
        running.delete(child);
        this.exit = { code, signal };
        r(this.exit);
      }),
    );
    await until(
      `operator ${o.identity} /healthz`,
      async () => {
        if (this.exit) throw new Error(`operator ${o.identity} exited (${JSON.stringify(this.exit)}) at start:\n${this.logTail()}`);
        return (await fetch(`http://127.0.0.1:${this.healthPort}/healthz`)).status === 200;
      },
      60_000,
      200,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- ${this.logPath} ---\n${this.logTail()}`);
    });
  }

  /** Same flags and identity again (a restarted pod keeps its name). */
  async restart(): Promise<void> {
    if (!this.exit) throw new Error('restart() of a running operator: kill it first');
    await this.spawn();
  }

  /** Sends the signal and waits for the process to exit (SIGKILL after graceMs). */
  async kill(signal: 'SIGTERM' | 'SIGKILL', graceMs = 60_000): Promise<Exit> {
    if (this.exit) return this.exit;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async waitExit(timeoutMs: number): Promise<Exit | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), timeoutMs)));
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async status(path: '/healthz' | '/readyz'): Promise<number> {
    try {
      return (await fetch(`http://127.0.0.1:${this.healthPort}${path}`, { signal: AbortSignal.timeout(5000) })).status;
    } catch {
      return 0;
    }
  }

  async metricsText(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`, { signal: AbortSignal.timeout(10_000) });
    return res.text();
  }

  /** The value of one sample (`name` or `name{labels}` as printed), undefined when absent. */
  async metric(sample: string): Promise<number | undefined> {
    return metricValue(await this.metricsText(), sample);
  }

  logTail(lines = 40): string {
    try {
      return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/** Sum of every sample of `name` whose labels include all of `labels` (Prometheus text format). */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const set = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

export function metricValue(text: string, sample: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  return undefined;
}

/**
 * Waits until the operator is ready (/readyz 200) and has run at least `reconciles` reconciles
 * (`xapi_reconcile_total`, any result) since it started: it has looked at every CR once.
 */
export async function waitWorking(op: OperatorProcess, reconciles: number, timeoutMs = 180_000): Promise<void> {
  let last = '';
  await until(
    `operator ${op.opts.identity} ready and ${reconciles} reconciles done`,
    async () => {
      if (op.exitStatus) throw new Error(`operator exited: ${JSON.stringify(op.exitStatus)}`);
      const ready = await op.status('/readyz');
      const done = metricSum(await op.metricsText(), 'xapi_reconcile_total');
      last = `readyz ${ready}, xapi_reconcile_total ${done}`;
      return ready === 200 && done >= reconciles;
    },
    timeoutMs,
    500,
  ).catch((err: Error) => {
    throw new Error(`${err.message} (last: ${last})\n--- ${op.logPath} ---\n${op.logTail()}`);
  });
}
