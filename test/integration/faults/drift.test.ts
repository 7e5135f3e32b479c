// Issue 14: drift of what the operator depends on. Another field manager edits a field xapi owns
// (the RestAPI's resource policy): restored once, and no write loop. The cluster Secret is
// rotated to new credentials: the operator switches to them and the old connection's watches
// stop. Cluster B's audit log shows whose requests are whose (the operator's B identity is a
// ServiceAccount token issued for this file).
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { ACK } from '../../../src/api/ack.js';
import { FIELD_MANAGER } from '../../../src/api/types.js';
import { objectNames } from '../../../src/charts/names.js';
import { sleep, until } from '../helpers.js';
import { Fixture } from './fixture.js';
import { OperatorProcess, waitWorking } from './operator-process.js';
import { auditEvents, issueIdentity, startPair, WRITE_VERBS, type Plane } from './planes.js';

const RUN = Date.now().toString(36).slice(-4);
const COUNT = 2;
const RESYNC_SECONDS = 10;
let A: Plane;
let B: Plane;
let f: Fixture;
let op: OperatorProcess;
let first: { kubeconfig: string; user: string };

beforeAll(async () => {
  [A, B] = await startPair(`fault-drift-${RUN}`, { audit: true });
  first = await issueIdentity(B, 'xapi-operator', 'operator-1');
  f = await Fixture.create({ name: `dr-${RUN}`, a: A.clients, b: B.clients, bKubeconfig: first.kubeconfig, count: COUNT });
  await f.createCrs();
  op = await f.operator(A.plane.kubeconfigPath, { resyncSeconds: RESYNC_SECONDS });
  await f.waitAllReady();
}, 600_000);

afterAll(async () => {
  await op?.kill('SIGKILL');
  await f?.stop();
  await Promise.all([A?.plane.stop(), B?.plane.stop()]);
});

type Managed = { metadata: { generation: number; resourceVersion: string; managedFields?: Array<{ manager: string; fieldsV1?: { 'f:spec'?: Record<string, unknown> } }> }; spec: { policy?: string } };

async function restApi(): Promise<Managed> {
  const r = ACK.RestAPI;
  return (await B.clients.custom.getNamespacedCustomObject({ group: r.group, version: r.version, plural: r.plural, namespace: f.bNs, name: objectNames(f.cr(0)).restApi })) as Managed;
}

it('another field manager edits the RestAPI policy: restored once, then no writes over two resync periods', async () => {
  await sleep(2000);
  const before = await f.snapshot();
  const original = await restApi();
  const r = ACK.RestAPI;
  const foreign = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: '*' }] });
  const editedAt = new Date().toISOString();
  await B.clients.custom.patchNamespacedCustomObject(
    { group: r.group, version: r.version, plural: r.plural, namespace: f.bNs, name: objectNames(f.cr(0)).restApi, body: { spec: { policy: foreign } }, fieldManager: 'someone-else' },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  const restored = await until('policy restored', async () => {
    const o = await restApi();
    return o.spec.policy === original.spec.policy && o;
  }, 120_000, 100);
  // Edited once, restored once.
  expect(restored.metadata.generation).toBe(original.metadata.generation + 2);
  expect(restored.metadata.managedFields?.find((m) => m.fieldsV1?.['f:spec']?.['f:policy'])?.manager).toBe(FIELD_MANAGER);
  // No loop: over two resync periods the object stays as restored and the operator writes it no more.
  await sleep(RESYNC_SECONDS * 2000 + 5000);
  const later = await restApi();
  expect(later.metadata.generation).toBe(restored.metadata.generation);
  const writes = auditEvents(B).filter((e) => e.user.username === first.user && WRITE_VERBS.has(e.verb) && e.objectRef?.resource === 'restapis' && e.requestReceivedTimestamp > editedAt);
  expect(writes.map((e) => `${e.verb} ${e.objectRef?.name}`)).toEqual([`patch ${objectNames(f.cr(0)).restApi}`]);
  expect(f.compare(before, await f.snapshot(), { changedOwners: [f.owner(0)] }).filter((d) => !d.includes('/RestAPI/'))).toEqual([]);
}, 600_000);

it('the cluster Secret is rotated to new credentials: the operator uses them, the old watches stop', async () => {
  await waitWorking(op, 0);
  await sleep(2000);
  const before = await f.snapshot();
  f.changes!.mark();
  const second = await issueIdentity(B, 'xapi-operator', 'operator-2');
  const switchedAt = new Date().toISOString();
  await f.setClusterSecret(second.kubeconfig);
  await f.rotate(1);
  await f.waitRotationsLanded();
  await until('the new identity watches cluster B', async () => auditEvents(B, 'all').some((e) => e.user.username === second.user && e.verb === 'watch' && e.requestReceivedTimestamp > switchedAt), 120_000, 1000);
  // Every watch the old identity had open ends (ResponseComplete), and it opens no new ones.
  const openOld = () => {
    const events = auditEvents(B, 'all').filter((e) => e.user.username === first.user && e.verb === 'watch');
    const ended = new Set(events.filter((e) => e.stage === 'ResponseComplete').map((e) => e.auditID));
    return events.filter((e) => e.stage === 'ResponseStarted' && !ended.has(e.auditID));
  };
  await until('the old identity has no watch open', async () => openOld().length === 0, 120_000, 1000).catch((err: Error) => {
    throw new Error(`${err.message}: ${openOld().length} open, e.g. ${openOld()[0]?.requestURI}`);
  });
  const settled = new Date().toISOString();
  await sleep(RESYNC_SECONDS * 2000);
  const oldRequests = auditEvents(B, 'all').filter((e) => e.user.username === first.user && e.requestReceivedTimestamp > settled);
  expect(oldRequests.map((e) => `${e.verb} ${e.requestURI}`)).toEqual([]);
  await f.waitAllReady();
  expect({ snapshot: f.compare(before, await f.snapshot()), watched: f.logged(true) }).toEqual({ snapshot: [], watched: [] });
}, 600_000);
