// A Stage move on a real API server: the operator records the Stage's ACK sync stamp when it
// points the Stage at another Deployment, and writes that move only on the version it read (a
// resourceVersion in a server-side apply is a precondition). ACK's status write in between makes
// the move wait for the next pass instead of recording a stamp that is already stale.
import { ACK } from '../../../src/api/ack.js';
import type { KubeObject } from '../../../src/api/types.js';
import { CONFLICT_RETRY_MS, STAGE_SYNC_AT_MOVE_ANNOTATION, applyAll } from '../../../src/reconciler/apply.js';
import { Cluster, NAMESPACE_SETTLE_MS } from '../../../src/reconciler/cluster.js';
import { ConnectedKubeConfig } from '../../../src/reconciler/kube.js';
import type { LiveObject } from '../../../src/reconciler/observed.js';
import { clients, deleteNamespace, ensureNamespace, getAck, runSuffix, setAckStatus, sleep } from '../helpers.js';

const NS = `stage-move-${runSuffix()}`;
const a = clients('A');
const silent = { info: () => {}, warn: () => {}, error: () => {} };

beforeAll(async () => {
  await ensureNamespace(a.core, NS);
  await sleep(NAMESPACE_SETTLE_MS + 500); // applyAll holds ACK objects back from a younger namespace
}, 60_000);

afterAll(async () => {
  await deleteNamespace(a.core, NS);
});

const stage = (deployment: string): KubeObject =>
  ({
    apiVersion: ACK.Stage.apiVersion,
    kind: ACK.Stage.kind,
    metadata: { name: 'orders-stage', namespace: NS, labels: { 'app.kubernetes.io/managed-by': 'xapi', 'xapi.dev/owner': 'stage-move' } },
    spec: { stageName: 'prod', restAPIRef: { from: { name: 'orders-api' } }, deploymentRef: { from: { name: deployment } } },
  }) as KubeObject;

const record = (o: { metadata?: unknown }) => (o.metadata as { annotations?: Record<string, string> }).annotations?.[STAGE_SYNC_AT_MOVE_ANNOTATION];
const stamp = (o: { status?: unknown }) => (o.status as { conditions?: Array<{ type: string; lastTransitionTime?: string }> } | undefined)?.conditions?.find((c) => c.type === 'ACK.ResourceSynced')?.lastTransitionTime;

it('records the sync stamp a moved Stage had, and writes the move only on the version it read', async () => {
  const cluster = new Cluster('A', ConnectedKubeConfig.from(a.kc));
  const read = async () => ({ ...(await getAck(a.custom, 'Stage', NS, 'orders-stage')), kind: ACK.Stage.kind, apiVersion: ACK.Stage.apiVersion }) as unknown as LiveObject;

  // Created pointing at d1: nothing synced yet, so the record is empty.
  expect(await applyAll(cluster, [stage('d1')], [], new Map(), silent)).toEqual({ written: 1, waitMs: 0 });
  expect(record(await read())).toBe('');
  await setAckStatus(a.custom, 'Stage', NS, 'orders-stage', { conditions: [{ type: 'ACK.ResourceSynced', status: 'True', lastTransitionTime: '2026-11-26T10:00:00Z' }] });
  const synced = await read();

  // ACK writes the Stage again after the operator's read: the move to d2 is refused (409), not written.
  await setAckStatus(a.custom, 'Stage', NS, 'orders-stage', { conditions: [{ type: 'ACK.ResourceSynced', status: 'True', lastTransitionTime: '2026-11-26T10:00:05Z' }] });
  expect(await applyAll(cluster, [stage('d2')], [synced], new Map(), silent)).toEqual({ written: 0, waitMs: CONFLICT_RETRY_MS });
  const after = await read();
  expect((after.spec as { deploymentRef: { from: { name: string } } }).deploymentRef.from.name).toBe('d1');

  // On the current version the move is written, with the stamp of exactly that version.
  expect(await applyAll(cluster, [stage('d2')], [after], new Map(), silent)).toEqual({ written: 1, waitMs: 0 });
  const moved = await read();
  expect((moved.spec as { deploymentRef: { from: { name: string } } }).deploymentRef.from.name).toBe('d2');
  expect(record(moved)).toBe(stamp(after));
  expect(record(moved)).toBe('2026-11-26T10:00:05Z');

  // Nothing changed: no write, and the record stays.
  expect(await applyAll(cluster, [stage('d2')], [moved], new Map(), silent)).toEqual({ written: 0, waitMs: 0 });
}, 60_000);
