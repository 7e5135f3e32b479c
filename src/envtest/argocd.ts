// Argo CD next to local control planes (TESTING.md tier 3b): redis, the repo server and the
// application controller as processes on loopback, against control plane A; a git daemon serving a
// local repository; and the objects Argo CD expects in its namespace (argocd-secret, the default
// AppProject, cluster Secrets). One `argocd` binary plays each component by the name it is started
// under (a symlink), as in Argo CD's images.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { apiRequest, type Endpoint } from './http.js';
import { freePort } from './ports.js';
import { killGroupNow, logTail, startLogged, stopGroup, type Started } from './processes.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ArgoCdAssets {
  /** The `argocd` binary (scripts/argocd-assets.sh). */
  argocd: string;
  /** Argo CD's CRDs (Application, ApplicationSet, AppProject). */
  crdDir: string;
  /** Argo CD's hack/git-verify-wrapper.sh, which the repo server runs for every generation. */
  gitVerifyWrapper: string;
  redisServer: string;
}

/** XAPI_ARGOCD_DIR (the folder scripts/argocd-assets.sh prints) and redis-server from PATH. */
export function argoCdAssets(env: NodeJS.ProcessEnv = process.env): ArgoCdAssets {
  const dir = env.XAPI_ARGOCD_DIR;
  if (!dir) throw new Error('XAPI_ARGOCD_DIR is not set: export XAPI_ARGOCD_DIR="$(bash scripts/argocd-assets.sh | tail -n 1)" (it builds Argo CD once)');
  const argocd = join(dir, 'argocd');
  if (!existsSync(argocd)) throw new Error(`XAPI_ARGOCD_DIR=${dir} holds no argocd binary; run bash scripts/argocd-assets.sh`);
  const crdDir = join(dir, 'crds');
  if (!existsSync(crdDir)) throw new Error(`XAPI_ARGOCD_DIR=${dir} holds no crds/ folder; run bash scripts/argocd-assets.sh`);
  const gitVerifyWrapper = join(dir, 'git-verify-wrapper.sh');
  if (!existsSync(gitVerifyWrapper)) throw new Error(`XAPI_ARGOCD_DIR=${dir} holds no git-verify-wrapper.sh; run bash scripts/argocd-assets.sh`);
  const redisServer = env.XAPI_REDIS_SERVER ?? ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server'].find((p) => existsSync(p));
  if (!redisServer || !existsSync(redisServer)) throw new Error('redis-server not found (scripts/argocd-assets.sh installs Debian\'s redis-server; XAPI_REDIS_SERVER names another)');
  return { argocd, crdDir, gitVerifyWrapper, redisServer };
}

export interface ManagedProcess {
  name: string;
  pid: number;
  port: number;
  logPath: string;
}

async function waitPort(what: string, proc: Started, port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const exited = proc.exited();
    if (exited) throw new Error(`${what} ${exited} before it listened on ${port}\n--- ${proc.logPath} ---\n${logTail(proc.logPath)}`);
    const open = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (open) return;
    if (Date.now() > end) throw new Error(`${what}: port ${port} not open after ${timeoutMs} ms\n--- ${proc.logPath} ---\n${logTail(proc.logPath)}`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------- git

export interface GitServer {
  /** git://127.0.0.1:<port>/ — append the repository folder's name. */
  baseUrl: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** `git daemon` exporting every repository directly under baseDir, read-only, on loopback. */
export async function startGitServer(baseDir: string, logDir: string, opts: { detach?: boolean } = {}): Promise<GitServer> {
  const port = await freePort();
  const logPath = join(logDir, 'git-daemon.log');
  const proc = startLogged('git', ['daemon', '--reuseaddr', '--export-all', '--informative-errors', `--base-path=${resolve(baseDir)}`, '--listen=127.0.0.1', `--port=${port}`, resolve(baseDir)], logPath);
  const hook = () => killGroupNow(proc.pid);
  if (!opts.detach) process.on('exit', hook);
  await waitPort('git daemon', proc, port, 20_000);
  return {
    baseUrl: `git://127.0.0.1:${port}/`,
    process: { name: 'git-daemon', pid: proc.pid, port, logPath },
    stop: async () => {
      await stopGroup(proc.pid);
      process.off('exit', hook);
    },
  };
}

/** Commits everything in a working tree (creating the repository on first use); returns the commit. */
export async function commitAll(repoDir: string, message: string): Promise<string> {
  const git = (...args: string[]) => run('git', ['-C', repoDir, ...args], { env: { ...process.env, GIT_AUTHOR_NAME: 'xapi', GIT_AUTHOR_EMAIL: 'xapi@localhost', GIT_COMMITTER_NAME: 'xapi', GIT_COMMITTER_EMAIL: 'xapi@localhost' } });
  if (!existsSync(join(repoDir, '.git'))) await git('init', '-q', '-b', 'main');
  await git('add', '-A');
  await git('commit', '-q', '--allow-empty', '-m', message);
  return (await git('rev-parse', 'HEAD')).stdout.trim();
}

// ---------------------------------------------------------------- Argo CD in cluster A

export interface ArgoCluster {
  /** Argo CD cluster name (destination.name), e.g. cluster-b. */
  name: string;
  server: string;
  ca: string;
  token: string;
}

/** An Argo CD cluster Secret (declarative setup): name, server, config with a bearer token. */
export function clusterSecret(c: ArgoCluster, namespace: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: c.name, namespace, labels: { 'argocd.argoproj.io/secret-type': 'cluster' } },
    type: 'Opaque',
    stringData: {
      name: c.name,
      server: c.server,
      config: JSON.stringify({ bearerToken: c.token, tlsClientConfig: { caData: Buffer.from(c.ca).toString('base64') } }),
    },
  };
}

async function create(ep: Endpoint, path: string, body: object): Promise<void> {
  const res = await apiRequest(ep, 'POST', path, body);
  if (res.status === 409) return;
  if (res.status >= 300) throw new Error(`POST ${path}: HTTP ${res.status}: ${res.body.slice(0, 400)}`);
}

/**
 * What an Argo CD install holds besides its Deployments: the namespace, argocd-secret, an empty
 * argocd-rbac-cm, the `default` AppProject (argocd-server creates it; no server runs here) and the
 * cluster Secrets. argocd-cm is not created here: xapi's generated one is applied on top.
 */
export async function installArgoCdObjects(ep: Endpoint, namespace: string, clusters: ArgoCluster[]): Promise<void> {
  const partOf = { 'app.kubernetes.io/part-of': 'argocd' };
  await create(ep, '/api/v1/namespaces', { metadata: { name: namespace } });
  await create(ep, `/api/v1/namespaces/${namespace}/secrets`, {
    metadata: { name: 'argocd-secret', namespace, labels: partOf },
    stringData: { 'server.secretkey': randomBytes(32).toString('base64') },
  });
  await create(ep, `/api/v1/namespaces/${namespace}/configmaps`, { metadata: { name: 'argocd-rbac-cm', namespace, labels: partOf } });
  await create(ep, `/api/v1/namespaces/${namespace}/configmaps`, { metadata: { name: 'argocd-cm', namespace, labels: partOf } });
  await create(ep, `/apis/argoproj.io/v1alpha1/namespaces/${namespace}/appprojects`, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: 'default', namespace },
    spec: { sourceRepos: ['*'], destinations: [{ server: '*', namespace: '*', name: '*' }], clusterResourceWhitelist: [{ group: '*', kind: '*' }] },
  });
  for (const c of clusters) await create(ep, `/api/v1/namespaces/${namespace}/secrets`, clusterSecret(c, namespace));
}

export interface ArgoCdOptions {
  assets: ArgoCdAssets;
  /** Kubeconfig of the cluster Argo CD runs in (its "in-cluster" destination too). */
  kubeconfig: string;
  namespace: string;
  /** Working folder: logs, repo-server checkouts, redis data. */
  dir: string;
  /** Seconds between polls of git (the controller's --app-resync); Argo CD's default is 120. */
  resyncSeconds?: number;
  detach?: boolean;
}

export interface ArgoCd {
  redis: ManagedProcess;
  repoServer: ManagedProcess;
  controller: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * redis, argocd-repo-server and argocd-application-controller on loopback. Outside a pod the
 * controller reaches its own cluster through KUBECONFIG: ARGOCD_FAKE_IN_CLUSTER makes the
 * in-cluster destination (https://kubernetes.default.svc) use it instead of a service account.
 */
export async function startArgoCd(o: ArgoCdOptions): Promise<ArgoCd> {
  const dir = resolve(o.dir);
  const bin = join(dir, 'bin');
  const tmp = join(dir, 'tmp');
  mkdirSync(bin, { recursive: true });
  mkdirSync(tmp, { recursive: true });
  for (const name of ['argocd-application-controller', 'argocd-repo-server', 'argocd-git-ask-pass']) {
    rmSync(join(bin, name), { force: true });
    symlinkSync(o.assets.argocd, join(bin, name));
  }
  rmSync(join(bin, 'git-verify-wrapper.sh'), { force: true });
  symlinkSync(o.assets.gitVerifyWrapper, join(bin, 'git-verify-wrapper.sh'));
  const [redisPort, repoPort, repoMetrics, ctrlMetrics] = (await distinctPorts(4)) as [number, number, number, number];
  const resync = String(o.resyncSeconds ?? 120);
  const env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    KUBECONFIG: o.kubeconfig,
    ARGOCD_FAKE_IN_CLUSTER: 'true',
    ARGOCD_GPG_ENABLED: 'false',
    TMPDIR: tmp,
    HOME: dir, // git and helm state of the repo server stay in the working folder
    // the controller's resync, and how long the repo server trusts a branch's resolved commit
    ARGOCD_RECONCILIATION_TIMEOUT: `${resync}s`,
  };
  const started: Started[] = [];
  const hook = () => started.forEach((p) => killGroupNow(p.pid));
  if (!o.detach) process.on('exit', hook);
  const stop = async () => {
    for (const p of [...started].reverse()) await stopGroup(p.pid);
    process.off('exit', hook);
  };
  try {
    const redis = startLogged(o.assets.redisServer, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp], join(dir, 'redis.log'));
    started.push(redis);
    await waitPort('redis-server', redis, redisPort, 20_000);
    const redisAddr = `127.0.0.1:${redisPort}`;
    const repo = startLogged(
      join(bin, 'argocd-repo-server'),
      ['--address', '127.0.0.1', '--port', String(repoPort), '--metrics-address', '127.0.0.1', '--metrics-port', String(repoMetrics), '--disable-tls', '--client-ca-path=', '--redis', redisAddr, '--parallelismlimit', '2', '--loglevel', 'info'],
      join(dir, 'repo-server.log'),
      env,
    );
    started.push(repo);
    await waitPort('argocd-repo-server', repo, repoPort, 60_000);
    const controller = startLogged(
      join(bin, 'argocd-application-controller'),
      [
        '--namespace', o.namespace,
        '--repo-server', `127.0.0.1:${repoPort}`,
        '--repo-server-plaintext',
        '--redis', redisAddr,
        '--metrics-port', String(ctrlMetrics),
        '--app-resync', resync,
        '--app-resync-jitter', '0',
        '--status-processors', '4',
        '--operation-processors', '2',
        '--loglevel', 'info',
      ],
      join(dir, 'application-controller.log'),
      env,
    );
    started.push(controller);
    await waitPort('argocd-application-controller', controller, ctrlMetrics, 60_000);
    const m = (name: string, p: Started, port: number): ManagedProcess => ({ name, pid: p.pid, port, logPath: p.logPath });
    return { redis: m('redis', redis, redisPort), repoServer: m('argocd-repo-server', repo, repoPort), controller: m('argocd-application-controller', controller, ctrlMetrics), stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** `kubectl apply --server-side` of files (what a user runs for manifests/argocd). */
export async function applyServerSide(kubectl: string, kubeconfig: string, files: string[], fieldManager = 'kubectl'): Promise<string> {
  const args = ['--kubeconfig', kubeconfig, 'apply', '--server-side', `--field-manager=${fieldManager}`, '--force-conflicts'];
  for (const f of files) args.push('-f', f);
  return (await run(kubectl, args)).stdout;
}

/** Endpoint (server, CA, token) of a kubeconfig written by the envtest harness. */
export function endpointOf(kubeconfigPath: string): Endpoint {
  const doc = parse(readFileSync(kubeconfigPath, 'utf8')) as {
    clusters?: { cluster?: { server?: string; 'certificate-authority-data'?: string } }[];
    users?: { user?: { token?: string } }[];
  };
  const server = doc.clusters?.[0]?.cluster?.server;
  const ca = doc.clusters?.[0]?.cluster?.['certificate-authority-data'];
  const token = doc.users?.[0]?.user?.token;
  if (!server || !ca || !token) throw new Error(`${kubeconfigPath}: not a kubeconfig of the envtest harness`);
  return { server, ca: Buffer.from(ca, 'base64').toString('utf8'), token };
}
