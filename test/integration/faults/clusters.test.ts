// Issue 14: faults of the clusters the operator talks to. Cluster A's API server restarts;
// cluster B is unreachable for a minute; cluster B's connection stalls (bytes stop, nothing
// closes). The operator reaches B through a loopback TCP proxy (the cluster Secret names the
// proxy), so B itself is never touched. One operator process runs through all three cases.
import { CONDITION } from '../../../src/api/types.js';
import { sleep, until } from '../helpers.js';
import { Fixture } from './fixture.js';
import { OperatorProcess, waitWorking } from './operator-process.js';
import { auditEvents, serverOf, startPair, withServer, type Plane } from './planes.js';
import { TcpProxy } from './tcp-proxy.js';

const RUN = Date.now().toString(36).slice(-4);
const COUNT = 5;
const RESYNC_SECONDS = 15;
let A: Plane;
let B: Plane;
let f: Fixture;
let op: OperatorProcess;
let proxy: TcpProxy;

beforeAll(async () => {
  [A, B] = await startPair(`fault-clusters-${RUN}`, { audit: true });
  proxy = await TcpProxy.forUrl(serverOf(B.kubeconfig)).listen();
  f = await Fixture.create({ name: `cl-${RUN}`, a: A.clients, b: B.clients, bKubeconfig: withServer(B.kubeconfig, proxy.url), count: COUNT });
  await f.createCrs();
  op = await f.operator(A.plane.kubeconfigPath, { resyncSeconds: RESYNC_SECONDS });
  await f.waitAllReady();
}, 600_000);

afterAll(async () => {
  await op?.kill('SIGKILL');
  await f?.stop();
  await proxy?.close();
  await Promise.all([A?.plane.stop(), B?.plane.stop()]);
});

const readyOf = async () => new Map((await f.listCrs()).map((cr) => [cr.metadata.name, Fixture.isReady(cr)]));

it("cluster A's API server restarts: the operator recovers by itself, no disruption, the rotation lands", async () => {
  await sleep(2000);
  const before = await f.snapshot();
  f.changes!.mark();
  await A.plane.restartApiServer(5000);
  await f.rotate(0); // right after A is back, while the operator's watches reconnect
  await waitWorking(op, 0, 300_000);
  await f.waitRotationsLanded();
  await f.waitAllReady();
  await sleep(5000);
  expect({ snapshot: f.compare(before, await f.snapshot()), watched: f.logged(true) }).toEqual({ snapshot: [], watched: [] });
  expect(op.exitStatus).toBeUndefined();
}, 900_000);

it('cluster B unreachable for 60 s while an endpoint rotates: CRs not Ready meanwhile, the rotation lands after', async () => {
  await sleep(2000);
  const before = await f.snapshot();
  f.changes!.mark();
  const secretGets = () => auditEvents(A).filter((e) => e.verb === 'get' && e.objectRef?.resource === 'secrets' && e.objectRef.namespace === f.ns).length;
  const getsBefore = secretGets();
  const downAt = Date.now();
  proxy.refuse();
  let rotationId = '';
  let allNotReady: true | string = 'not observed';
  const claimedReady = new Set<string>();
  let policyDuringOutage = '';
  try {
    rotationId = (await f.rotate(1)).id;
    // Each part is observed and reported together; the proxy forwards again whatever happens.
    allNotReady = await until('every CR not Ready while B is unreachable', async () => [...(await readyOf()).values()].every((r) => !r), 60_000, 1000).then(
      () => true as const,
      async () => `still Ready: ${[...(await readyOf())].filter(([, r]) => r).map(([n]) => n).join(', ')}`,
    );
    // Stay down for the full minute; once every CR went not Ready, none may claim Ready again.
    while (Date.now() - downAt < 60_000) {
      if (allNotReady === true) for (const [name, ready] of await readyOf()) if (ready) claimedReady.add(name);
      await sleep(2000);
    }
    const reasons = (await f.listCrs()).map((cr) => cr.status?.conditions?.find((c) => c.type === CONDITION.Degraded)?.reason);
    console.log(`[faults] B unreachable 60 s: ${secretGets() - getsBefore} GETs of Secrets in ${f.ns} meanwhile; Degraded reasons ${JSON.stringify(reasons)}`);
    policyDuringOutage = await f.restApiPolicy(1);
  } finally {
    proxy.forward();
  }
  const landed = await f.waitRotationsLanded().then(() => true, (err: Error) => err.message);
  const allReady = await f.waitAllReady().then(() => true, (err: Error) => err.message);
  await sleep(5000);
  expect({
    rotationHeldBackDuringOutage: !policyDuringOutage.includes(rotationId),
    allNotReady,
    claimedReadyDuringOutage: [...claimedReady],
    rotationLanded: landed,
    allReady,
    snapshot: f.compare(before, await f.snapshot()),
    watched: f.logged(true),
  }).toEqual({ rotationHeldBackDuringOutage: true, allNotReady: true, claimedReadyDuringOutage: [], rotationLanded: true, allReady: true, snapshot: [], watched: [] });
}, 900_000);

it("cluster B's connection stalls: noticed within the resync period (/readyz fails), the rotation lands once it flows again", async () => {
  await waitWorking(op, 0);
  await sleep(2000);
  const before = await f.snapshot();
  f.changes!.mark();
  proxy.stall();
  const stalledAt = Date.now();
  await f.rotate(2);
  // Each part is observed and reported together, so one failure does not hide the others.
  // Generous: a resync period, plus request timeouts, plus a busy machine.
  const noticedMs = await until('/readyz fails while the watches on B are not live', async () => (await op.status('/readyz')) === 503, RESYNC_SECONDS * 1000 * 4 + 60_000, 500).then(
    () => Date.now() - stalledAt,
    () => undefined,
  );
  console.log(`[faults] stall: /readyz 503 ${noticedMs === undefined ? 'never' : `${noticedMs} ms`} after the proxy stopped forwarding (resync ${RESYNC_SECONDS} s)`);
  const notReady = await until('the CR whose endpoint rotated is not Ready', async () => (await readyOf()).get(f.crName(2)) === false, 120_000, 1000).then(
    () => true,
    () => false,
  ).finally(() => proxy.forward());
  const landed = await f.waitRotationsLanded(300_000).then(() => true, (err: Error) => err.message);
  const allReady = await f.waitAllReady(300_000).then(() => true, (err: Error) => err.message);
  const readyz = await until('/readyz 200 again', async () => (await op.status('/readyz')) === 200, 120_000, 500).then(() => true, () => false);
  await sleep(5000);
  expect({
    noticedStall: noticedMs !== undefined,
    rotatedCrNotReadyDuringStall: notReady,
    rotationLanded: landed,
    allReady,
    readyzAgain: readyz,
    snapshot: f.compare(before, await f.snapshot()),
    watched: f.logged(true),
  }).toEqual({ noticedStall: true, rotatedCrNotReadyDuringStall: true, rotationLanded: true, allReady: true, readyzAgain: true, snapshot: [], watched: [] });
}, 900_000);
