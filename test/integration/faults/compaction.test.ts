// Issue 14: etcd compacted while the operator's watches were away, so resuming them from their
// last resourceVersion is answered 410 Gone; the operator must relist, not retry the same
// resourceVersion forever. The API server runs without its watch cache so that resumed watches
// reach etcd's history directly (with the cache, a 410 needs the cache's window to pass instead).
// Both sides of the CRs live in the one cluster; the operator reaches it through a TCP proxy so
// the test can cut its connections.
import { readFileSync } from 'node:fs';
import { Watch } from '@kubernetes/client-node';
import { ACK } from '../../../src/api/ack.js';
import { OWNER_LABEL } from '../../../src/api/types.js';
import { ensureNamespace, sleep } from '../helpers.js';
import { Fixture } from './fixture.js';
import { OperatorProcess, waitWorking } from './operator-process.js';
import { auditEvents, compactEtcd, serverOf, startPlane, tempFile, withServer, type Plane } from './planes.js';
import { TcpProxy } from './tcp-proxy.js';

const RUN = Date.now().toString(36).slice(-4);
const COUNT = 3;
let P: Plane;
let f: Fixture;
let op: OperatorProcess;
let proxy: TcpProxy;

beforeAll(async () => {
  P = await startPlane(`fault-compact-${RUN}`, { audit: true, apiserverArgs: ['--watch-cache=false'] });
  proxy = await TcpProxy.forUrl(serverOf(P.kubeconfig)).listen();
  // Cluster "B" is the same API server, reached directly by the Secret's kubeconfig.
  f = await Fixture.create({ name: `cp-${RUN}`, a: P.clients, b: P.clients, bKubeconfig: P.kubeconfig, count: COUNT });
  await f.createCrs();
  op = await f.operator(tempFile('via-proxy.kubeconfig', withServer(P.kubeconfig, proxy.url)), { resyncSeconds: 20 });
  await f.waitAllReady();
}, 600_000);

afterAll(async () => {
  await op?.kill('SIGKILL');
  await f?.stop();
  await proxy?.close();
  await P?.plane.stop();
});

/** What a watch from `rv` gets now: the HTTP status of the request, or the code of an ERROR event. */
async function watchAnswer(rv: string): Promise<number> {
  const r = ACK.VPCEndpoint;
  return new Promise((resolve) => {
    let settled = false;
    const done = (code: number) => {
      if (!settled) {
        settled = true;
        resolve(code);
      }
    };
    new Watch(P.clients.kc)
      .watch(`/apis/${r.group}/${r.version}/${r.plural}`, { resourceVersion: rv, labelSelector: OWNER_LABEL }, (phase, obj: { code?: number }) => done(phase === 'ERROR' ? (obj.code ?? 0) : 200), (err: { statusCode?: number; code?: number } | null) => done(err?.statusCode ?? err?.code ?? 200))
      .then((abort) => setTimeout(() => abort.abort(), 5000), (err: { statusCode?: number; code?: number }) => done(err?.statusCode ?? err?.code ?? 0));
  });
}

it('resumed watches answered 410 after an etcd compaction: the operator relists, no disruption, the rotation lands', async () => {
  await sleep(2000);
  const before = await f.snapshot();
  f.changes!.mark();
  const r = ACK.VPCEndpoint;
  const oldRv = ((await P.clients.custom.listClusterCustomObject({ group: r.group, version: r.version, plural: r.plural, labelSelector: OWNER_LABEL })) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;

  proxy.refuse(); // the operator's watches break and cannot come back yet
  const cutAt = new Date().toISOString();
  const rotation = await f.rotate(0);
  // Unrelated writes move etcd's revision on, then compaction drops the history behind it.
  await ensureNamespace(P.clients.core, `${f.ns}-noise`);
  for (let i = 0; i < 20; i++) await P.clients.core.createNamespacedConfigMap({ namespace: `${f.ns}-noise`, body: { metadata: { name: `noise-${i}` }, data: { i: String(i) } } });
  const revision = await compactEtcd(P);
  // The fault is real: a watch resumed from before the compaction is refused with 410.
  expect(await watchAnswer(oldRv)).toBe(410);
  proxy.forward();

  await waitWorking(op, 0, 300_000);
  await f.waitRotationsLanded();
  // Learnt only from the relist, the replacement is still told in the operator's log, old ID and
  // new: once by each connection that watches it (both sides are this server, reached two ways).
  const told = readFileSync(op.logPath, 'utf8').split('\n').filter((l) => l.includes('"endpoint replaced"')).map((l) => JSON.parse(l) as { cluster?: string; from?: string; to?: string; crs?: number });
  expect(told.filter((e) => e.cluster === 'local').map((e) => ({ to: e.to, crs: e.crs, replaced: typeof e.from === 'string' && e.from !== e.to }))).toEqual([{ to: rotation.id, crs: 1, replaced: true }]);
  expect(new Set(told.map((e) => e.cluster)).size).toBe(told.length);
  await f.waitAllReady();
  await sleep(5000);
  const gone = auditEvents(P).filter((e) => e.verb === 'watch' && e.requestReceivedTimestamp > cutAt && e.responseStatus?.code === 410).length;
  console.log(`[faults] compaction at revision ${revision}: ${gone} watch request(s) answered 410 by the API server afterwards`);
  expect({ snapshot: f.compare(before, await f.snapshot()), watched: f.logged(true) }).toEqual({ snapshot: [], watched: [] });
}, 900_000);
