// The operator image (scripts/image.sh) run as a container from its own root filesystem: umoci
// unpacks it, crun runs it as the Deployment does (UID 65532, read-only root, no capabilities,
// entrypoint + `operator ...` args) against the shared real API servers. It must take the Lease,
// reconcile the example CR to Ready (the test plays ACK), answer /healthz and /metrics, and exit
// 0 on SIGTERM, releasing the Lease. The image must hold no shell; its packages are listed.
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { ACK, type AckKindName } from '../../../src/api/ack.js';
import type { CrossAccountApi } from '../../../src/api/types.js';
import { MANAGED_SELECTOR } from '../../../src/reconciler/cluster.js';
import { ackWouldSync, clients, deleteNamespace, ensureNamespace, exampleCr, kubeconfigPath, playSync, until } from '../helpers.js';
import { buildImage, containerPid, deleteContainer, freePort, killContainer, prepareBundle, secretFolder, startContainer, unpack, type BuiltImage } from './bundle.js';

const run = promisify(execFile);
const RUN = Date.now().toString(36).slice(-5);
const NS = `img-op-${RUN}`;
const A_NS = `img-op-a-${RUN}`;
const B_NS = `img-op-b-${RUN}`;
const ID = `xapi-image-test-${RUN}`;
const IDENTITY = `xapi-operator-image-${RUN}`;
const LEASE = 'xapi-operator-image';

let image: BuiltImage;
let work: string;
let bundle: string;
let state: string;
let child: ChildProcess | undefined;
let exited: Promise<number | null>;
let logs = '';
let ports: { metrics: number; health: number };
let startedAt = 0;
let a: ReturnType<typeof clients>;
let b: ReturnType<typeof clients>;

type Item = { metadata: { name: string; namespace: string; labels?: Record<string, string> }; status?: { conditions?: Array<{ type: string; status: string }> } };

/** Play ACK: every object the operator created or changed reports Ready, with the IDs AWS would assign. */
async function markAllReady(): Promise<void> {
  for (const c of [a, b]) {
    for (const kind of Object.keys(ACK) as AckKindName[]) {
      const r = ACK[kind];
      const list = (await c.custom.listClusterCustomObject({ group: r.group, version: r.version, plural: r.plural, labelSelector: MANAGED_SELECTOR })) as { items: Item[] };
      for (const o of list.items) {
        if (o.metadata.namespace !== A_NS && o.metadata.namespace !== B_NS) continue;
        const ids: Record<string, unknown> =
          kind === 'SecurityGroup' ? { id: `sg-${o.metadata.name.slice(-12)}` }
          : kind === 'VPCEndpoint' ? { vpcEndpointID: 'vpce-0image', state: 'available', networkInterfaceIDs: ['eni-0image0000000001', 'eni-0image0000000002'] }
          : kind === 'RestAPI' ? { id: 'apiimage', rootResourceID: 'rootimg' }
          : kind === 'Resource' ? { id: `res-${o.metadata.name.slice(-6)}` }
          : kind === 'Role' ? { ackResourceMetadata: { arn: 'arn:aws:iam::111111111111:role/orders-caller', ownerAccountID: '111111111111', region: 'us-east-1' } }
          : {};
        // ACK syncs what is new or changed since its last sync (a changed RestAPI too: the Deployment waits for it)
        if (ackWouldSync(o, ids)) await playSync(c.custom, kind, o, ids);
      }
    }
  }
}

/** /readyz and the operator's own gauges and counters, one line. */
async function operatorProbe(): Promise<string> {
  try {
    const readyz = (await fetch(`http://127.0.0.1:${ports.health}/readyz`)).status;
    const text = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
    const wanted = /^xapi_(leader|watches_live|workqueue_depth|reconcile_total|reconcile_waiting_total|reconcile_errors_total)\b/;
    return `readyz ${readyz}; ${text.split('\n').filter((l) => wanted.test(l)).join('; ')}`;
  } catch (err) {
    return `not answering: ${(err as Error).message}`;
  }
}

async function leaseHolder(): Promise<string | undefined> {
  const api = a.kc.makeApiClient(CoordinationV1Api);
  try {
    return (await api.readNamespacedLease({ name: LEASE, namespace: NS })).spec?.holderIdentity ?? undefined;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  image = await buildImage();
  work = mkdtempSync(join(tmpdir(), 'xapi-image-test-'));
  bundle = join(work, 'bundle');
  state = join(work, 'crun');
  await unpack(image, bundle);
  a = clients('A');
  b = clients('B');
  for (const ns of [NS, A_NS]) await ensureNamespace(a.core, ns);
  await ensureNamespace(b.core, B_NS);
  await a.core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'img-cluster-b', namespace: NS }, stringData: { kubeconfig: readFileSync(kubeconfigPath('B'), 'utf8') } } });
}, 25 * 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    await killContainer(state, ID, 'KILL').catch(() => undefined);
    await exited;
  }
  if (state) await deleteContainer(state, ID);
  if (work) rmSync(work, { recursive: true, force: true });
  if (a) {
    await a.custom.deleteNamespacedCustomObject({ group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis', namespace: NS, name: 'orders' }).catch(() => undefined);
    for (const ns of [NS, A_NS]) await deleteNamespace(a.core, ns);
  }
  if (b) await deleteNamespace(b.core, B_NS);
  if (logs && process.env.XAPI_TEST_VERBOSE) process.stderr.write(`\n[operator image logs]\n${logs}\n`);
});

describe('the operator image', () => {
  it('is configured as the Deployment expects: UID 65532, entrypoint xapi, Cmd operator', () => {
    expect(image.env.DIGEST).toBe(image.digest);
    expect(image.config.User).toBe('65532:65532');
    expect(image.config.Entrypoint).toEqual(['/usr/bin/node', '/app/bin/xapi.js']);
    expect(image.config.Cmd).toEqual(['operator']);
    expect(image.manifest.layers).toHaveLength(2);
    const [major, minor] = image.env.NODE_VERSION!.split('.').map(Number);
    expect(major! > 20 || (major === 20 && minor! >= 10)).toBe(true);
  });

  it('holds node, the bundled app with its npm packages listed, its Debian packages, and no shell', async () => {
    const rootfs = join(bundle, 'rootfs');
    for (const f of ['usr/bin/node', 'app/bin/xapi.js', 'app/dist/src/cli/main.js', 'app/package.json', 'etc/ssl/certs/ca-certificates.crt']) {
      expect(existsSync(join(rootfs, f))).toBe(true);
    }
    // dist/ and node_modules are one bundle; the npm packages in it are listed, with their licences.
    expect(existsSync(join(rootfs, 'app/node_modules'))).toBe(false);
    const npmPackages = readFileSync(join(rootfs, 'app/licenses/packages.txt'), 'utf8').trim().split('\n');
    expect(readFileSync(join(image.dir, 'npm-packages.txt'), 'utf8').trim().split('\n')).toEqual(npmPackages);
    const npmNames = npmPackages.map((p) => p.split(' ')[0]);
    for (const dep of ['@kubernetes/client-node', 'cdk8s', 'cdk8s-plus-28', 'pino', 'prom-client', 'yaml']) expect(npmNames).toContain(dep);
    for (const dev of ['typescript', 'jest', 'esbuild', 'cdk8s-cli']) expect(npmNames).not.toContain(dev);
    expect(readdirSync(join(rootfs, 'app/licenses/@kubernetes/client-node'))).toHaveLength(1);
    const shells = ['sh', 'bash', 'dash', 'ash', 'zsh', 'busybox', 'mksh', 'ksh'];
    const bins = ['usr/bin', 'usr/sbin', 'usr/local/bin'].flatMap((d) => (existsSync(join(rootfs, d)) ? readdirSync(join(rootfs, d)) : []));
    expect(bins.filter((f) => shells.includes(f))).toEqual([]);
    for (const s of ['bin/sh', 'usr/bin/sh', 'bin/bash']) expect(existsSync(join(rootfs, s)) || isLink(join(rootfs, s))).toBe(false);
    const { stdout } = await run('dpkg-query', [`--admindir=${join(rootfs, 'var/lib/dpkg')}`, '-W', '-f', '${Package} ${Version}\n']);
    const packages = stdout.trim().split('\n');
    console.log(`operator image ${image.digest}: ${packages.length} Debian packages\n  ${packages.join('\n  ')}`);
    const names = packages.map((p) => p.split(' ')[0]);
    expect(names).toContain('nodejs');
    expect(names).toContain('libnode115');
    for (const unwanted of ['bash', 'dash', 'coreutils', 'busybox', 'perl-base', 'apt', 'dpkg']) expect(names).not.toContain(unwanted);
    expect(readFileSync(join(image.dir, 'packages.txt'), 'utf8').trim().split('\n')).toEqual(packages);
  });

  it('runs from its root filesystem: takes the Lease, reconciles the example, serves /healthz and /metrics, stops on SIGTERM', async () => {
    ports = { metrics: await freePort(), health: await freePort() };
    const secretDir = secretFolder(join(work, 'secret'), kubeconfigPath('A'));
    const spec = prepareBundle(image, {
      bundle,
      secretDir,
      // the rendered Deployment's args, with this run's ports, Lease and namespace
      args: ['operator', '--leader-elect', `--metrics-port=${ports.metrics}`, `--health-port=${ports.health}`, '--kubeconfig=/run/xapi/kubeconfig', `--namespace=${NS}`, `--lease-name=${LEASE}`],
      env: { POD_NAME: IDENTITY, POD_NAMESPACE: NS },
    });
    expect(spec.process.user).toEqual({ uid: 65532, gid: 65532 });

    startedAt = Date.now();
    child = startContainer(state, bundle, ID);
    child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    exited = new Promise((res) => child!.once('exit', (code) => res(code)));
    const failFast = exited.then((code) => {
      throw new Error(`the container exited early (${code}):\n${logs}`);
    });
    failFast.catch(() => undefined);
    const race = <T>(p: Promise<T>) => Promise.race([p, failFast]);

    // The process runs as 65532 on a read-only root.
    const pid = await race(until('container running', () => containerPid(state, ID), 60_000, 100));
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
    expect(status).toMatch(/^CapEff:\s+0+$/m);
    const rootMount = readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/');
    expect(rootMount?.split(' ')[5]?.split(',')).toContain('ro');

    await race(until('the Lease held by the image', async () => (await leaseHolder()) === IDENTITY, 90_000, 100));
    console.log(`operator image: start to leader ${Date.now() - startedAt} ms (crun run to Lease held)`);
    const health = await fetch(`http://127.0.0.1:${ports.health}/healthz`);
    expect(health.status).toBe(200);

    const cr: CrossAccountApi = exampleCr('orders', NS);
    cr.spec.consumer.namespace = A_NS;
    delete cr.spec.consumer.cluster;
    cr.spec.provider.namespace = B_NS;
    cr.spec.provider.cluster = { secretName: 'img-cluster-b' };
    await a.custom.createNamespacedCustomObject({ group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis', namespace: NS, body: cr });
    // Kept for the failure message: the CR's last status and the operator's own view (/metrics,
    // /readyz) at most 10 s old, to tell a stalled watch from a failing request.
    let lastStatus: unknown;
    let probe = { at: 0, text: '(none taken)' };
    const ready = await race(
      until(
        'the example CR Ready (operator state and log on failure, below)',
        async () => {
          if (Date.now() - probe.at >= 10_000) probe = { at: Date.now(), text: await operatorProbe() };
          await markAllReady();
          const live = (await a.custom.getNamespacedCustomObject({ group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis', namespace: NS, name: 'orders' })) as CrossAccountApi;
          lastStatus = live.status;
          return live.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && live;
        },
        180_000,
        500,
      ).catch((err: Error) => {
        // What the operator said is the first thing to read when this fails.
        throw new Error(
          `${err.message}\nCR status: ${JSON.stringify(lastStatus)}\noperator ${Math.round((Date.now() - probe.at) / 1000)} s ago: ${probe.text}\n` +
            `${logSummary(logs)}\noperator log (last 4000 characters):\n${logs.slice(-4000)}`,
        );
      }),
    );
    console.log(`operator image: example CR Ready ${Date.now() - startedAt} ms after start\n${logSummary(logs)}`);
    expect(ready.status?.layers).toBe('4/4');
    expect(ready.status?.allowedEndpoints).toEqual([{ id: 'vpce-0image' }]);
    // The image's node (Debian's 20.19.2) is where node-fetch took whole chunked answers on reused
    // connections for cut ones; the operator's own requests no longer go through it (kube.ts).
    expect(logs).not.toMatch(/Premature close/);

    const metrics = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
    expect(metrics).toContain('xapi_leader 1');
    expect(metrics).toMatch(/xapi_reconcile_total\{result="ok"\} [1-9]/);
    expect((await fetch(`http://127.0.0.1:${ports.health}/readyz`)).status).toBe(200);

    await killContainer(state, ID, 'TERM');
    const code = await until('exit after SIGTERM', async () => (child!.exitCode !== null ? { code: child!.exitCode } : undefined), 60_000, 100);
    expect(code.code).toBe(0);
    expect(await leaseHolder()).not.toBe(IDENTITY);
    // JSON logs only (pino): no stray warnings from the runtime on stderr or stdout.
    const lines = logs.trim().split('\n').filter(Boolean);
    expect(lines.filter((l) => !l.startsWith('{'))).toEqual([]);
  }, 300_000);
});

/**
 * The operator's leadership changes and its failed reconciles counted by error, from its JSON log:
 * a long log's tail alone hides whether it stepped down or kept failing on one request.
 */
function logSummary(text: string): string {
  const leadership: string[] = [];
  const failures = new Map<string, number>();
  for (const line of text.split('\n')) {
    let o: { msg?: string; err?: string; time?: number };
    try {
      o = JSON.parse(line) as typeof o;
    } catch {
      continue;
    }
    if (/leader|stepped down/.test(o.msg ?? '')) leadership.push(`${new Date(o.time ?? 0).toISOString()} ${o.msg}`);
    if (o.msg === 'reconcile failed') {
      const why = (o.err ?? '').replace(/https?:\/\/\S+/g, 'URL').slice(0, 160);
      failures.set(why, (failures.get(why) ?? 0) + 1);
    }
  }
  const counted = [...failures].sort((x, y) => y[1] - x[1]).map(([why, n]) => `  ${n} x ${why}`);
  return `operator leadership:\n  ${leadership.join('\n  ') || '(none logged)'}\nfailed reconciles by error:\n${counted.join('\n') || '  (none)'}`;
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
