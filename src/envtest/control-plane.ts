// One local Kubernetes control plane for tests and `xapi dev`: etcd + kube-apiserver on loopback
// (TESTING.md tier 2). TLS from the API server's self-signed serving certificate, an admin token
// in system:masters, RBAC on, CRDs installed and Established before it is handed out.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { envtestAssets, type EnvtestAssets } from './assets.js';
import { installCrds, readCrdDir } from './crds.js';
import { apiRequest, httpGet } from './http.js';
import { writeKubeconfig } from './kubeconfig.js';
import { freePort } from './ports.js';
import { killGroupNow, logTail, startLogged, stopGroup, type Started } from './processes.js';

export interface StartOptions {
  /** Shown in errors and used as the kubeconfig's cluster/context name. */
  name: string;
  /** Folders of CRD YAML files (every *.yaml / *.yml, multi-document allowed). */
  crdDirs?: string[];
  /** CRD objects to install as well (e.g. crossAccountApiCrd()). */
  crds?: object[];
  /** Working folder (etcd data, certificates, logs, kubeconfig); a fresh temp folder by default. */
  dir?: string;
  /** Binaries; envtestAssets() by default. */
  assets?: EnvtestAssets;
  /** Leave the processes running when this Node process exits (`xapi dev up`). */
  detach?: boolean;
  /** Upper bound for etcd health, /readyz and CRD establishment each (default 60 s). */
  timeoutMs?: number;
  /** Extra kube-apiserver flags (fault tests: e.g. --watch-cache=false). */
  apiserverArgs?: string[];
  /** Write the API server's audit log (Metadata level, every request) to `<dir>/audit.log`. */
  audit?: boolean;
}

export interface ControlPlaneProcess {
  pid: number;
  port: number;
  logPath: string;
}

export interface ControlPlane {
  name: string;
  /** https://127.0.0.1:<port> */
  server: string;
  kubeconfigPath: string;
  dir: string;
  etcd: ControlPlaneProcess;
  apiserver: ControlPlaneProcess;
  /** Set when started with `audit: true`: one JSON audit event per line. */
  auditLogPath?: string;
  /** Stops the API server and etcd (whole process groups), waits for them, removes dir. */
  stop(): Promise<void>;
  /**
   * Fault tests: stops the API server (etcd keeps running), waits downMs, starts it again with the
   * same flags, port and certificates, and waits for /readyz. `apiserver.pid` changes.
   */
  restartApiServer(downMs?: number): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PORT_RETRIES = 3;

class StartError extends Error {
  constructor(
    message: string,
    readonly portClash: boolean,
  ) {
    super(message);
  }
}

export async function startControlPlane(opts: StartOptions): Promise<ControlPlane> {
  const assets = opts.assets ?? envtestAssets();
  // Read the CRDs before starting anything: a bad folder fails fast and starts nothing.
  const crds: object[] = [...(opts.crdDirs ?? []).flatMap((d) => readCrdDir(d)), ...(opts.crds ?? [])];
  for (let attempt = 1; ; attempt++) {
    const dir = opts.dir ? resolve(opts.dir) : mkdtempSync(join(tmpdir(), `xapi-envtest-${opts.name}-`));
    if (opts.dir) {
      rmSync(dir, { recursive: true, force: true }); // stale data from a crashed run would confuse etcd
      mkdirSync(dir, { recursive: true });
    }
    try {
      return await startOnce(opts, assets, crds, dir);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      if (err instanceof StartError && err.portClash && attempt < PORT_RETRIES) continue;
      throw err;
    }
  }
}

async function startOnce(opts: StartOptions, assets: EnvtestAssets, crds: object[], dir: string): Promise<ControlPlane> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const [etcdPort, peerPort, apiPort] = (await distinctPorts(3)) as [number, number, number];
  const certDir = join(dir, 'pki');
  mkdirSync(certDir, { recursive: true });
  mkdirSync(join(dir, 'etcd'), { recursive: true });

  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const etcd = startLogged(
    assets.etcd,
    [
      '--name=envtest',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=envtest=${peerUrl}`,
      '--unsafe-no-fsync', // test data: durability costs seconds on a busy disk and buys nothing
      '--log-level=warn',
    ],
    join(dir, 'etcd.log'),
  );
  let apiserver: Started | undefined;
  const hook = () => {
    if (apiserver) killGroupNow(apiserver.pid);
    killGroupNow(etcd.pid);
  };
  if (!opts.detach) process.on('exit', hook);
  const stopAll = async () => {
    if (apiserver) await stopGroup(apiserver.pid);
    await stopGroup(etcd.pid);
    process.off('exit', hook);
  };

  try {
    await waitFor(`${opts.name}: etcd health on ${etcdUrl}`, etcd, timeoutMs, async () => (await httpGet(`${etcdUrl}/health`)).includes('"health":"true"'));

    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    writeFileSync(join(certDir, 'sa.pub'), publicKey);
    writeFileSync(join(certDir, 'sa.key'), privateKey, { mode: 0o600 });
    const token = randomBytes(24).toString('hex');
    // token,user,uid,"groups"
    writeFileSync(join(certDir, 'tokens.csv'), `${token},envtest-admin,envtest-admin,"system:masters"\n`, { mode: 0o600 });

    const apiserverArgs = [
      `--etcd-servers=${etcdUrl}`,
      `--cert-dir=${certDir}`,
      `--secure-port=${apiPort}`,
      '--bind-address=127.0.0.1',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(certDir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(certDir, 'sa.key')}`,
      `--token-auth-file=${join(certDir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      // no token controller runs, so pods could never get a service account token
      '--disable-admission-plugins=ServiceAccount',
      '--allow-privileged=true',
    ];
    if (opts.audit) {
      // Every request at Metadata level: who (user), what (verb, object) and when; no bodies.
      writeFileSync(join(dir, 'audit-policy.yaml'), 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n  - level: Metadata\n');
      apiserverArgs.push(`--audit-policy-file=${join(dir, 'audit-policy.yaml')}`, `--audit-log-path=${join(dir, 'audit.log')}`, '--audit-log-maxsize=0');
    }
    apiserverArgs.push(...(opts.apiserverArgs ?? []));
    apiserver = startLogged(assets.kubeApiserver, apiserverArgs, join(dir, 'kube-apiserver.log'));
    const server = `https://127.0.0.1:${apiPort}`;
    const caPath = join(certDir, 'apiserver.crt');
    await waitFor(`${opts.name}: ${caPath}`, apiserver, timeoutMs, async () => existsSync(caPath) && readFileSync(caPath, 'utf8').includes('END CERTIFICATE'));
    const ca = readFileSync(caPath, 'utf8');
    const ep = { server, ca, token };
    await waitFor(`${opts.name}: ${server}/readyz`, apiserver, timeoutMs, async () => {
      const res = await apiRequest(ep, 'GET', '/readyz', undefined, 5000);
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
      return true;
    });

    const kubeconfigPath = join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfigPath, opts.name, server, ca, token);
    try {
      await installCrds(ep, crds, timeoutMs);
    } catch (err) {
      throw new Error(`${opts.name}: ${(err as Error).message}\n--- kube-apiserver log (last lines) ---\n${logTail(apiserver.logPath)}`);
    }

    let stopped: Promise<void> | undefined;
    const plane: ControlPlane = {
      name: opts.name,
      server,
      kubeconfigPath,
      dir,
      etcd: { pid: etcd.pid, port: etcdPort, logPath: etcd.logPath },
      apiserver: { pid: apiserver.pid, port: apiPort, logPath: apiserver.logPath },
      ...(opts.audit && { auditLogPath: join(dir, 'audit.log') }),
      stop: () =>
        (stopped ??= (async () => {
          await stopAll();
          rmSync(dir, { recursive: true, force: true });
        })()),
      restartApiServer: async (downMs = 0) => {
        if (apiserver) await stopGroup(apiserver.pid);
        await sleep(downMs);
        const next = startLogged(assets.kubeApiserver, apiserverArgs, join(dir, 'kube-apiserver.log'));
        apiserver = next;
        plane.apiserver.pid = next.pid;
        await waitFor(`${opts.name}: ${server}/readyz after restart`, next, timeoutMs, async () => {
          const res = await apiRequest(ep, 'GET', '/readyz', undefined, 5000);
          if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
          return true;
        });
      },
    };
    return plane;
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
}

async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** Polls check() until true; fails at once with the log tail when the process exits first. */
async function waitFor(what: string, proc: Started, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + timeoutMs;
  let lastErr = '';
  for (;;) {
    const exited = proc.exited();
    if (exited) {
      const tail = logTail(proc.logPath);
      throw new StartError(`${what}: ${proc.child.spawnfile} ${exited} before it was ready\n--- ${proc.logPath} (last lines) ---\n${tail}`, /address already in use/.test(tail));
    }
    try {
      if (await check()) return;
    } catch (err) {
      lastErr = (err as Error).message;
    }
    if (Date.now() > end) {
      throw new Error(`${what}: not ready after ${timeoutMs} ms${lastErr ? ` (last error: ${lastErr})` : ''}\n--- ${proc.logPath} (last lines) ---\n${logTail(proc.logPath)}`);
    }
    await sleep(100);
  }
}
