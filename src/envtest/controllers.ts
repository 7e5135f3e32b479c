// Real ACK controllers for a local control plane (TESTING.md tier 3): binaries from
// scripts/ack-controllers.sh, run against the AWS emulator with the settings xapi recommends
// (src/charts/ack-controllers.ts), CARM through the ack-role-account-map ConfigMap.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ACK_CONTROLLER_NAMES, controllerFlags, type AckControllerName } from '../charts/ack-controllers.js';
import { EMULATOR_CREDENTIALS } from './aws.js';
import { httpGet } from './http.js';
import { freePort } from './ports.js';
import { killGroupNow, logTail, startLogged, stopGroup } from './processes.js';

/** Where ACK looks for its ConfigMaps (ACK_SYSTEM_NAMESPACE). */
export const ACK_SYSTEM_NAMESPACE = 'ack-system';
export const CARM_CONFIGMAP = 'ack-role-account-map';

export type ControllerBinaries = Partial<Record<AckControllerName, string>>;

/** NAME-controller binaries in a folder (what scripts/ack-controllers.sh prints). */
export function controllerBinaries(folder: string, names: readonly AckControllerName[]): Record<AckControllerName, string> {
  const out = {} as Record<AckControllerName, string>;
  const problems: string[] = [];
  for (const n of names) {
    const bin = join(folder, `${n}-controller`);
    try {
      accessSync(bin, constants.X_OK);
      out[n] = bin;
    } catch {
      problems.push(`${bin} is missing or not executable`);
    }
  }
  if (problems.length > 0) throw new Error(`ACK controllers not found: ${problems.join('; ')}. Run \`bash scripts/ack-controllers.sh ${names.join(' ')}\`.`);
  return out;
}

/**
 * XAPI_ACK_CONTROLLERS_DIR when set, else scripts/ack-controllers.sh (a build of minutes the first
 * time: `progress` is told every 30 s while it runs).
 */
export async function provisionControllers(root: string, names: readonly AckControllerName[], env: NodeJS.ProcessEnv = process.env, progress: (line: string) => void = () => {}): Promise<Record<AckControllerName, string>> {
  if (env.XAPI_ACK_CONTROLLERS_DIR) return controllerBinaries(env.XAPI_ACK_CONTROLLERS_DIR, names);
  const script = join(root, 'scripts', 'ack-controllers.sh');
  if (!existsSync(script)) throw new Error(`${script} not found: set XAPI_ACK_CONTROLLERS_DIR instead`);
  const started = Date.now();
  const folder = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [script, ...names], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      for (const line of c.split('\n')) if (line.startsWith('[ack-controllers]')) progress(line);
    });
    const timer = setInterval(() => progress(`[ack-controllers] still building (${Math.round((Date.now() - started) / 1000)} s; 3-6 minutes per controller the first time)`), 30_000);
    child.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.on('exit', (code) => {
      clearInterval(timer);
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last || !existsSync(last)) reject(new Error(`${script} failed (exit ${code}); see its messages above`));
      else resolve(last);
    });
  });
  return controllerBinaries(folder, names);
}

export interface ControllersOptions {
  /** Label for logs and errors (e.g. the cluster's name). */
  name: string;
  kubeconfigPath: string;
  /** Folder for the controllers' logs. */
  dir: string;
  endpoint: string;
  region: string;
  binaries: ControllerBinaries;
  /** CARM: account ID → role ARN, written to the ack-role-account-map ConfigMap. */
  accounts: Record<string, string>;
  /** Leave the controllers running when this process exits (`xapi dev up`). */
  detach?: boolean;
  timeoutMs?: number;
}

export interface RunningController {
  name: AckControllerName;
  pid: number;
  bin: string;
  logPath: string;
  args: string[];
}

export interface RunningControllers {
  controllers: RunningController[];
  stop(): Promise<void>;
}

/** Namespace ack-system and the CARM ConfigMap, created or replaced. */
export async function writeCarmMap(kubeconfigPath: string, accounts: Record<string, string>): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  try {
    await core.createNamespace({ body: { metadata: { name: ACK_SYSTEM_NAMESPACE } } });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
  const body = { metadata: { name: CARM_CONFIGMAP, namespace: ACK_SYSTEM_NAMESPACE }, data: { ...accounts } };
  try {
    await core.createNamespacedConfigMap({ namespace: ACK_SYSTEM_NAMESPACE, body });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
    await core.replaceNamespacedConfigMap({ name: CARM_CONFIGMAP, namespace: ACK_SYSTEM_NAMESPACE, body });
  }
}

/** The command line of one controller: endpoints, region, CARM, and the recommended resync settings. */
export function controllerArgs(name: AckControllerName, o: { endpoint: string; region: string; healthPort: number; metricsPort: number }): string[] {
  return [
    `--aws-region=${o.region}`,
    `--aws-endpoint-url=${o.endpoint}`,
    `--aws-identity-endpoint-url=${o.endpoint}`,
    '--allow-unsafe-aws-endpoint-urls', // the emulator speaks plain http on loopback
    '--enable-carm=true',
    `--healthz-addr=127.0.0.1:${o.healthPort}`,
    `--metrics-addr=127.0.0.1:${o.metricsPort}`,
    '--log-level=info',
    ...controllerFlags(name),
  ];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The controller's log says it serves its health probe on `port` (controller-runtime logs the address). */
function servesHealth(logPath: string, port: number): boolean {
  return existsSync(logPath) && readFileSync(logPath, 'utf8').includes(`"name":"health probe","addr":"127.0.0.1:${port}"`);
}

export async function startAckControllers(o: ControllersOptions): Promise<RunningControllers> {
  await writeCarmMap(o.kubeconfigPath, o.accounts);
  mkdirSync(o.dir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    KUBECONFIG: o.kubeconfigPath,
    ACK_SYSTEM_NAMESPACE,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    AWS_REGION: o.region,
    AWS_ENDPOINT_URL: o.endpoint,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const running: Array<RunningController & { healthPort: number; exited: () => string | undefined }> = [];
  const hook = () => running.forEach((c) => killGroupNow(c.pid));
  if (!o.detach) process.on('exit', hook);
  const stopAll = async () => {
    await Promise.all(running.map((c) => stopGroup(c.pid)));
    process.off('exit', hook);
  };
  try {
    for (const name of ACK_CONTROLLER_NAMES) {
      const bin = o.binaries[name];
      if (!bin) continue;
      const healthPort = await freePort();
      const metricsPort = await freePort();
      const args = controllerArgs(name, { endpoint: o.endpoint, region: o.region, healthPort, metricsPort });
      const logPath = join(o.dir, `${name}-controller.log`);
      const p = startLogged(bin, args, logPath, env);
      running.push({ name, pid: p.pid, bin, logPath, args, healthPort, exited: p.exited });
    }
    const end = Date.now() + (o.timeoutMs ?? 120_000);
    for (const c of running) {
      for (;;) {
        const exited = c.exited();
        if (exited) throw new Error(`${o.name}: ACK ${c.name} controller ${exited} before it was ready\n--- ${c.logPath} (last lines) ---\n${logTail(c.logPath)}`);
        const ok = await httpGet(`http://127.0.0.1:${c.healthPort}/readyz`).then(
          () => true,
          () => false,
        );
        // The answer must be this controller's: a port taken by another process between
        // freePort() and the controller's bind would answer for a controller that exited.
        if (ok && servesHealth(c.logPath, c.healthPort) && !c.exited()) break;
        if (Date.now() > end) throw new Error(`${o.name}: ACK ${c.name} controller not ready on :${c.healthPort}\n--- ${c.logPath} (last lines) ---\n${logTail(c.logPath)}`);
        await sleep(200);
      }
    }
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
  let stopped: Promise<void> | undefined;
  return {
    controllers: running.map(({ name, pid, bin, logPath, args }) => ({ name, pid, bin, logPath, args })),
    stop: () => (stopped ??= stopAll()),
  };
}
