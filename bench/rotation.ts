// Rotation latency: over N CRs on two real API servers, the time from writing a new endpoint ID
// into a VPCEndpoint's status in cluster A to that ID appearing in the RestAPI policy in cluster
// B. Baseline in the same run: a raw write in A → its watch event (the floor any controller pays).
// Last line: `rotation p50=<ms> p99=<ms> n=<count>`.
//
// Env: XAPI_BENCH_COUNT (default 100); XAPI_BENCH_KUBECONFIG_A/B to use running API servers
// instead of starting two with src/envtest (needs KUBEBUILDER_ASSETS and XAPI_CRDS_DIR).
import { readFileSync } from 'node:fs';
import { KubeConfig, CoreV1Api, CustomObjectsApi, Watch } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { ACK } from '../src/api/ack.js';
import { crossAccountApiCrd } from '../src/api/crd.js';
import type { CrossAccountApi } from '../src/api/types.js';
import { objectNames } from '../src/charts/names.js';
import { startOperator } from '../src/reconciler/operator.js';
import type { PartRenderFn } from '../src/reconciler/render-cache.js';

const COUNT = Number(process.env.XAPI_BENCH_COUNT ?? 100);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const silent = { info() {}, warn() {}, error() {} };

interface Plane {
  kubeconfigPath: string;
  stop(): Promise<void>;
}

async function planes(): Promise<[Plane, Plane]> {
  const { XAPI_BENCH_KUBECONFIG_A: ka, XAPI_BENCH_KUBECONFIG_B: kb } = process.env;
  if (ka && kb) return [{ kubeconfigPath: ka, stop: async () => {} }, { kubeconfigPath: kb, stop: async () => {} }];
  const envtestPath = '../src/envtest/index.js';
  const { startControlPlane } = (await import(envtestPath)) as { startControlPlane: (o: { name: string; crdDirs?: string[]; crds?: object[] }) => Promise<Plane> };
  const crdDir = process.env.XAPI_CRDS_DIR;
  if (!crdDir) throw new Error('XAPI_CRDS_DIR is not set (run through `npm run bench:rotation`, which sets it)');
  return Promise.all([startControlPlane({ name: 'bench-a', crdDirs: [crdDir], crds: [crossAccountApiCrd()] }), startControlPlane({ name: 'bench-b', crdDirs: [crdDir], crds: [crossAccountApiCrd()] })]) as Promise<[Plane, Plane]>;
}

async function loadRenderPart(): Promise<PartRenderFn> {
  const path = process.env.XAPI_BENCH_RENDER_MODULE ?? '../src/charts/render.js';
  return ((await import(path)) as { renderPart: PartRenderFn }).renderPart;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function retry409<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if ((err as { code?: number }).code !== 409 || i > 50) throw err;
    }
  }
}

async function main(): Promise<void> {
  const [pa, pb] = await planes();
  const RUN = Date.now().toString(36).slice(-5);
  const NS = `bench-${RUN}`, A_NS = `bench-a-${RUN}`, B_NS = `bench-b-${RUN}`;
  const kcA = new KubeConfig();
  kcA.loadFromFile(pa.kubeconfigPath);
  const kcB = new KubeConfig();
  kcB.loadFromFile(pb.kubeconfigPath);
  const coreA = kcA.makeApiClient(CoreV1Api), coreB = kcB.makeApiClient(CoreV1Api);
  const customA = kcA.makeApiClient(CustomObjectsApi), customB = kcB.makeApiClient(CustomObjectsApi);
  let op: Awaited<ReturnType<typeof startOperator>> | undefined;
  const aborts: AbortController[] = [];
  try {
    for (const ns of [NS, A_NS]) await coreA.createNamespace({ body: { metadata: { name: ns } } });
    await coreB.createNamespace({ body: { metadata: { name: B_NS } } });
    await coreA.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'bench-b' }, stringData: { kubeconfig: readFileSync(pb.kubeconfigPath, 'utf8') } } });

    // Baseline: a write in A and its watch event.
    const base: number[] = [];
    {
      const pending = new Map<string, number>();
      const w = await new Watch(kcA).watch(`/api/v1/namespaces/${NS}/configmaps`, {}, (phase, obj: { metadata: { name: string }; data?: { t?: string } }) => {
        const t0 = pending.get(`${obj.metadata.name}/${obj.data?.t}`);
        if (t0 !== undefined) base.push(performance.now() - t0);
      }, () => {});
      aborts.push(w);
      await sleep(200);
      for (let i = 0; i < COUNT; i++) {
        const t = String(i);
        pending.set(`cm/${t}`, performance.now());
        if (i === 0) await coreA.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'cm' }, data: { t } } });
        else await coreA.replaceNamespacedConfigMap({ name: 'cm', namespace: NS, body: { metadata: { name: 'cm' }, data: { t } } });
      }
      await sleep(500);
    }

    const example = parse(readFileSync('examples/orders.yaml', 'utf8') /* npm runs scripts from the package root */) as CrossAccountApi;
    const crs: CrossAccountApi[] = [];
    for (let i = 0; i < COUNT; i++) {
      const cr = structuredClone(example);
      cr.metadata = { name: `bench-${i}`, namespace: NS };
      delete cr.spec.consumer.cluster;
      cr.spec.consumer.namespace = A_NS;
      cr.spec.provider.namespace = B_NS;
      cr.spec.provider.cluster = { secretName: 'bench-b' };
      // A VPC per CR: each rotation measures one API (CRs in one VPC share its endpoint).
      cr.spec.consumer.vpcId = `vpc-0${i.toString(16).padStart(16, '0')}`;
      crs.push(cr);
    }
    op = await startOperator({ kubeConfig: kcA, namespace: NS, renderPart: await loadRenderPart(), metricsPort: -1, healthPort: -1, logger: silent, concurrency: 8 });

    // Watch B's RestAPIs: resolve waiters when their policy contains the expected ID.
    const waiters = new Map<string, { id: string; resolve: () => void }>();
    const policies = new Map<string, string>();
    const w = await new Watch(kcB).watch(`/apis/${ACK.RestAPI.group}/${ACK.RestAPI.version}/namespaces/${B_NS}/${ACK.RestAPI.plural}`, {}, (_p, obj: { metadata: { name: string }; spec?: { policy?: string } }) => {
      const policy = obj.spec?.policy ?? '';
      policies.set(obj.metadata.name, policy);
      const wt = waiters.get(obj.metadata.name);
      if (wt && policy.includes(wt.id)) {
        waiters.delete(obj.metadata.name);
        wt.resolve();
      }
    }, () => {});
    aborts.push(w);
    const waitFor = (name: string, id: string) =>
      new Promise<void>((resolve) => {
        if ((policies.get(name) ?? '').includes(id)) return resolve();
        waiters.set(name, { id, resolve });
      });

    for (const cr of crs) await customA.createNamespacedCustomObject({ group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis', namespace: NS, body: cr });
    const setStatus = (custom: CustomObjectsApi, kind: keyof typeof ACK, ns: string, name: string, status: object) =>
      retry409(async () => {
        const r = ACK[kind];
        const obj = (await custom.getNamespacedCustomObject({ group: r.group, version: r.version, plural: r.plural, namespace: ns, name })) as object;
        await custom.replaceNamespacedCustomObjectStatus({ group: r.group, version: r.version, plural: r.plural, namespace: ns, name, body: { ...obj, status } });
      });
    const ready = () => [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }];
    const exists = async (custom: CustomObjectsApi, kind: keyof typeof ACK, ns: string, name: string) => {
      const r = ACK[kind];
      for (;;) {
        try {
          return await custom.getNamespacedCustomObject({ group: r.group, version: r.version, plural: r.plural, namespace: ns, name });
        } catch {
          await sleep(50);
        }
      }
    };
    // Initial state: endpoint 1 available, API created; wait until every policy holds it.
    await Promise.all(
      crs.map(async (cr, i) => {
        const n = objectNames(cr);
        await exists(customB, 'RestAPI', B_NS, n.restApi);
        await setStatus(customB, 'RestAPI', B_NS, n.restApi, { id: `api${i}`, rootResourceID: 'root', conditions: ready() });
        await exists(customA, 'VPCEndpoint', A_NS, n.vpcEndpoint);
        const first = waitFor(n.restApi, `vpce-first-${i}`);
        await setStatus(customA, 'VPCEndpoint', A_NS, n.vpcEndpoint, { vpcEndpointID: `vpce-first-${i}`, state: 'available', conditions: ready() });
        await first;
      }),
    );
    await sleep(1000);

    // Rotation: one CR at a time, so each figure is the operator's latency, not queueing.
    const rot: number[] = [];
    for (let i = 0; i < crs.length; i++) {
      const n = objectNames(crs[i]!);
      const id = `vpce-second-${i}`;
      const r = ACK.VPCEndpoint;
      const obj = (await customA.getNamespacedCustomObject({ group: r.group, version: r.version, plural: r.plural, namespace: A_NS, name: n.vpcEndpoint })) as object;
      const seen = waitFor(n.restApi, id);
      const t0 = performance.now();
      await customA.replaceNamespacedCustomObjectStatus({ group: r.group, version: r.version, plural: r.plural, namespace: A_NS, name: n.vpcEndpoint, body: { ...obj, status: { vpcEndpointID: id, state: 'available', conditions: ready() } } });
      await seen;
      rot.push(performance.now() - t0);
    }
    rot.sort((x, y) => x - y);
    base.sort((x, y) => x - y);
    const p50 = pct(rot, 50), p99 = pct(rot, 99), b50 = pct(base, 50), b99 = pct(base, 99);
    console.log(`baseline apiserver write→watch p50=${b50.toFixed(1)} p99=${b99.toFixed(1)} n=${base.length}`);
    console.log(`ratio rotation/baseline p50=${(p50 / b50).toFixed(1)}x p99=${(p99 / b99).toFixed(1)}x`);
    console.log(`rotation p50=${Math.round(p50)} p99=${Math.round(p99)} n=${rot.length}`);
  } finally {
    for (const a of aborts) a.abort();
    await op?.stop();
    await Promise.all([pa.stop(), pb.stop()]);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench:rotation failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
