// The AWS emulator of the end-to-end tests and `xapi dev up --aws`: scripts/aws-emulator.py (moto's
// server with the project's patches) on loopback, one server for every account. Python with
// `moto[server]` is needed; where it is missing, `pip install 'moto[server]'` is tried once, as a
// user would, and a failure says what to do.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CrossAccountApi } from '../api/types.js';
import { httpGet } from './http.js';
import { freePort } from './ports.js';
import { killGroupNow, logTail, startLogged, stopGroup } from './processes.js';

export interface AwsEmulator {
  /** http://127.0.0.1:<port>: every service, STS included. */
  endpoint: string;
  region: string;
  port: number;
  pid: number;
  python: string;
  logPath: string;
  /** Names of the patches the launcher applied (GET /xapi/patches). */
  patches: EmulatorPatch[];
  stop(): Promise<void>;
}

export interface EmulatorPatch {
  name: string;
  restores: string;
  doc: string;
}

export interface EmulatorOptions {
  /** Package root (holds scripts/aws-emulator.py). */
  root: string;
  /** Folder for the log. */
  dir: string;
  region: string;
  /** Leave the server running when this process exits (`xapi dev up`). */
  detach?: boolean;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Progress lines (the pip attempt). */
  progress?: (line: string) => void;
}

/** Static keys of the callers' home account (moto's default account); accounts are reached by AssumeRole. */
export const EMULATOR_CREDENTIALS = { accessKeyId: 'AKIAXAPIEMULATOR0001', secretAccessKey: 'xapi-emulator-secret-not-a-real-key' } as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function canImportMoto(python: string, env: NodeJS.ProcessEnv): boolean {
  const r = spawnSync(python, ['-c', 'import moto.moto_server.werkzeug_app, werkzeug'], { env, stdio: 'ignore' });
  return r.status === 0;
}

/** A Python that has moto's server: XAPI_PYTHON, else python3; installs moto[server] with pip when missing. */
export function emulatorPython(env: NodeJS.ProcessEnv = process.env, progress: (line: string) => void = () => {}): string {
  const python = env.XAPI_PYTHON || 'python3';
  const probe = spawnSync(python, ['--version'], { env, encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(`the AWS emulator needs Python 3 with moto[server]: cannot run ${python} (${probe.error?.message ?? probe.stderr.trim()}); install Python 3 or set XAPI_PYTHON`);
  }
  if (canImportMoto(python, env)) return python;
  progress(`moto[server] is not installed for ${python}; trying: ${python} -m pip install 'moto[server]'`);
  const pip = spawnSync(python, ['-m', 'pip', 'install', 'moto[server]'], { env, encoding: 'utf8', timeout: 600_000 });
  if (pip.status === 0 && canImportMoto(python, env)) return python;
  const out = `${pip.stdout ?? ''}${pip.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n');
  throw new Error(
    `the AWS emulator needs moto[server] (moto 5.x) for ${python}, and \`${python} -m pip install 'moto[server]'\` failed` +
      `${pip.error ? ` (${pip.error.message})` : ''}:\n${out}\n` +
      `Install it (pip install 'moto[server]'), or set XAPI_PYTHON to a Python that has it.`,
  );
}

export async function startAwsEmulator(o: EmulatorOptions): Promise<AwsEmulator> {
  const env = o.env ?? process.env;
  const script = join(o.root, 'scripts', 'aws-emulator.py');
  if (!existsSync(script)) throw new Error(`${script} not found`);
  const python = emulatorPython(env, o.progress);
  mkdirSync(o.dir, { recursive: true });
  const timeoutMs = o.timeoutMs ?? 60_000;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const logPath = join(o.dir, 'aws-emulator.log');
    const proc = startLogged(python, [script, '--host', '127.0.0.1', '--port', String(port)], logPath);
    const hook = () => killGroupNow(proc.pid);
    if (!o.detach) process.on('exit', hook);
    const endpoint = `http://127.0.0.1:${port}`;
    const end = Date.now() + timeoutMs;
    let patches: EmulatorPatch[] | undefined;
    let last = '';
    while (!patches) {
      const exited = proc.exited();
      if (exited) {
        process.off('exit', hook);
        const tail = logTail(logPath);
        if (/address already in use/i.test(tail) && attempt < 3) break;
        throw new Error(`the AWS emulator (${python} ${script}) ${exited} before it answered\n--- ${logPath} (last lines) ---\n${tail}`);
      }
      try {
        patches = JSON.parse(await httpGet(`${endpoint}/xapi/patches`)) as EmulatorPatch[];
      } catch (err) {
        last = (err as Error).message;
      }
      if (!patches) {
        if (Date.now() > end) {
          await stopGroup(proc.pid);
          process.off('exit', hook);
          throw new Error(`the AWS emulator did not answer on ${endpoint} within ${timeoutMs} ms (${last})\n--- ${logPath} ---\n${logTail(logPath)}`);
        }
        await sleep(100);
      }
    }
    if (!patches) continue; // port clash: another port
    let stopped: Promise<void> | undefined;
    return {
      endpoint,
      region: o.region,
      port,
      pid: proc.pid,
      python,
      logPath,
      patches,
      stop: () =>
        (stopped ??= (async () => {
          await stopGroup(proc.pid);
          process.off('exit', hook);
        })()),
    };
  }
}

async function post(endpoint: string, path: string, body: unknown): Promise<string> {
  const res = await fetch(`${endpoint}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${endpoint}${path}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

/** Forget everything (moto's reset). */
export async function resetEmulator(endpoint: string): Promise<void> {
  await post(endpoint, '/moto-api/reset', {});
}

/** An account's existing network: the VPC and subnets a CrossAccountApi's consumer names. */
export interface NetworkFixture {
  account: string;
  region: string;
  vpcId: string;
  cidr: string;
  subnets: { id: string; cidr: string; az: string }[];
}

/** The network the consumer side of a CR expects to exist in its account (10.0.0.0/16, one /24 per subnet). */
export function networkFor(cr: Pick<CrossAccountApi, 'spec'>): NetworkFixture {
  const { consumer, region } = cr.spec;
  const zones = ['a', 'b', 'c', 'd', 'e', 'f'];
  return {
    account: consumer.accountId,
    region,
    vpcId: consumer.vpcId,
    cidr: '10.0.0.0/16',
    subnets: consumer.subnetIds.map((id, i) => ({ id, cidr: `10.0.${i + 1}.0/24`, az: `${region}${zones[i % zones.length]}` })),
  };
}

/** Creates the fixture's VPC and subnets with their IDs (idempotent). */
export async function createNetwork(endpoint: string, fixture: NetworkFixture): Promise<void> {
  await post(endpoint, '/xapi/network', fixture);
}

/** The role ACK's CARM assumes in an account (moto's AssumeRole does not require it to exist). */
export function carmRoleArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:role/xapi-ack-controller`;
}
