// `xapi dev up --aws [--operator]`: beside the control planes, the AWS emulator with the network
// examples/orders.yaml names, the real ACK controllers (CARM maps the example's accounts) and
// optionally xapi's operator, all in the background until
// `xapi dev down`. What runs is recorded in DIR/aws-state.json; the emulator's URL and region go
// to DIR/aws-endpoint and DIR/aws-region.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { AckControllerName } from '../charts/ack-controllers.js';
import type { CrossAccountApi } from '../api/types.js';
import { carmRoleArn, createNetwork, networkFor, startAwsEmulator } from './aws.js';
import { provisionControllers, startAckControllers } from './controllers.js';
import type { DevState } from './dev-state.js';
import { httpGet } from './http.js';
import { freePort } from './ports.js';
import { commandLine, isAlive, logTail, startLogged, stopGroup } from './processes.js';

export const AWS_STATE_FILE = 'aws-state.json';
const CONTROLLERS: AckControllerName[] = ['ec2', 'apigateway', 'iam'];

interface Recorded {
  what: string;
  pid: number;
  /** Part of the process's command line (binary or script), to tell a reused PID apart. */
  bin: string;
}

export interface DevAwsState {
  version: 1;
  endpoint?: string;
  region?: string;
  processes: Recorded[];
}

export interface DevExtras {
  aws: boolean;
  operator: boolean;
}

/** Started before the control planes so that a first controller build overlaps their start. */
export function beginDevExtras(root: string, extras: DevExtras, progress: (line: string) => void): Promise<Record<AckControllerName, string>> | undefined {
  if (!extras.aws) return undefined;
  const build = provisionControllers(root, CONTROLLERS, process.env, progress);
  build.catch(() => undefined); // reported when awaited
  return build;
}

function example(root: string): CrossAccountApi {
  return parse(readFileSync(join(root, 'examples', 'orders.yaml'), 'utf8')) as CrossAccountApi;
}


export async function startDevExtras(
  root: string,
  dir: string,
  state: DevState,
  extras: DevExtras,
  binaries: Promise<Record<AckControllerName, string>> | undefined,
  progress: (line: string) => void,
): Promise<string[]> {
  const record: DevAwsState = { version: 1, processes: [] };
  const save = () => writeFileSync(join(dir, AWS_STATE_FILE), `${JSON.stringify(record, null, 2)}\n`);
  const lines: string[] = [];
  const cr = example(root);
  const [a, b] = [state.clusters[0]!, state.clusters[1] ?? state.clusters[0]!];
  save();
  if (extras.aws && binaries) {
    const region = cr.spec.region;
    const emulator = await startAwsEmulator({ root, dir: join(dir, 'aws'), region, detach: true, progress });
    record.processes.push({ what: 'aws-emulator', pid: emulator.pid, bin: join(root, 'scripts', 'aws-emulator.py') });
    record.endpoint = emulator.endpoint;
    record.region = region;
    save();
    writeFileSync(join(dir, 'aws-endpoint'), `${emulator.endpoint}\n`);
    writeFileSync(join(dir, 'aws-region'), `${region}\n`);
    await createNetwork(emulator.endpoint, networkFor(cr));
    const bins = await binaries;
    const consumer = cr.spec.consumer.accountId;
    const provider = cr.spec.provider.accountId;
    const plan =
      state.clusters.length === 1
        ? [{ cluster: a, names: CONTROLLERS, accounts: [consumer, provider] }]
        : [
            { cluster: a, names: ['ec2', 'iam'] as AckControllerName[], accounts: [consumer] },
            { cluster: b, names: ['apigateway'] as AckControllerName[], accounts: [provider] },
          ];
    for (const p of plan) {
      progress(`starting the ACK ${p.names.join(', ')} controller(s) for ${p.cluster.name}`);
      const running = await startAckControllers({
        name: p.cluster.name,
        kubeconfigPath: p.cluster.kubeconfig,
        dir: join(dir, 'aws', p.cluster.name),
        endpoint: emulator.endpoint,
        region,
        binaries: Object.fromEntries(p.names.map((n) => [n, bins[n]])),
        accounts: Object.fromEntries(p.accounts.map((id) => [id, carmRoleArn(id)])),
        detach: true,
      });
      for (const c of running.controllers) record.processes.push({ what: `${c.name}-controller (${p.cluster.name})`, pid: c.pid, bin: c.bin });
      save();
    }
    lines.push(`AWS emulator: ${emulator.endpoint} (region ${region}; ${emulator.patches.length} patches, see scripts/aws-emulator.py), ACK controllers with manifests/ack-controllers settings`);
  }
  if (extras.operator) {
    const healthPort = await freePort();
    const logPath = join(dir, 'operator.log');
    const p = startLogged(process.execPath, [join(root, 'bin', 'xapi.js'), 'operator', '--kubeconfig', a.kubeconfig, '--metrics-port', '-1', '--health-port', String(healthPort)], logPath);
    record.processes.push({ what: 'xapi operator', pid: p.pid, bin: process.execPath });
    save();
    const end = Date.now() + 60_000;
    for (;;) {
      if (p.exited()) throw new Error(`xapi operator ${p.exited()}\n--- ${logPath} ---\n${logTail(logPath)}`);
      if (await httpGet(`http://127.0.0.1:${healthPort}/readyz`).then(() => true, () => false)) break;
      if (Date.now() > end) throw new Error(`xapi operator not ready after 60 s\n--- ${logPath} ---\n${logTail(logPath)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    lines.push(`xapi operator: running against ${a.name}, log ${logPath}`);
  }
  return lines;
}

export function readDevAws(dir: string): DevAwsState | undefined {
  const path = join(dir, AWS_STATE_FILE);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as DevAwsState;
}

/** Stops what startDevExtras started (operator first, emulator last) and removes its files. */
export async function stopDevExtras(dir: string): Promise<string[]> {
  const state = readDevAws(dir);
  const stopped: string[] = [];
  for (const p of [...(state?.processes ?? [])].reverse()) {
    if (!isAlive(p.pid)) continue;
    const cmd = commandLine(p.pid);
    if (cmd !== undefined && !cmd.includes(p.bin)) continue; // the PID was reused
    await stopGroup(p.pid);
    stopped.push(p.what);
  }
  for (const f of [AWS_STATE_FILE, 'aws-endpoint', 'aws-region', 'operator.log']) rmSync(join(dir, f), { force: true });
  rmSync(join(dir, 'aws'), { recursive: true, force: true });
  return stopped;
}
