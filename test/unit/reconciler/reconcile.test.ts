// The reconcile pipeline against a fake cluster and a fake ACK: which writes it makes, and above
// all which it does not (nothing before the clusters are listed, nothing at steady state or after
// a restart, no prune on a partial render).
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ACK } from '../../../src/api/ack.js';
import type { CrossAccountApi, KubeObject } from '../../../src/api/types.js';
import type { Resolution } from '../../../src/reconciler/clusters.js';
import { OperatorMetrics } from '../../../src/reconciler/metrics.js';
import type { LiveObject } from '../../../src/reconciler/observed.js';
import { Reconciler, type ReconcilerDeps } from '../../../src/reconciler/reconcile.js';
import { APPLIED_HASH_ANNOTATION, applyAll, withAppliedHashes, CONFLICT_RETRY_MS, RESTAPI_SYNC_AT_CHANGE_ANNOTATION, STAGE_SYNC_AT_MOVE_ANNOTATION, SYNC_STAMP_AGE_MS } from '../../../src/reconciler/apply.js';
import { FakeCluster, FakeWriter } from './fakes.js';
import { reconcileGroup } from '../../../src/reconciler/endpoint-group.js';
import { endpointGroup } from '../../../src/charts/names.js';
import { renderMember } from '../../../src/charts/render.js';

const example = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;
const silent = { info: () => {}, warn: () => {}, error: () => {} };

function setup(state: { a: 'ready' | 'waiting'; b: 'ready' | 'waiting' } = { a: 'ready', b: 'ready' }, groupState: { sharedBy: number; refused?: string } = { sharedBy: 1 }) {
  const a = new FakeCluster('a');
  const b = new FakeCluster('b');
  const cr: CrossAccountApi = { ...example, metadata: { name: 'orders', namespace: 'xapi-system', generation: 1, uid: 'u1' } };
  const writer = new FakeWriter(cr);
  const resolve = (_ns: string | undefined, ref: { secretName: string } | undefined): Resolution => {
    const which = ref?.secretName === 'cluster-a' ? 'a' : 'b';
    return state[which] === 'ready' ? { state: 'ready', cluster: which === 'a' ? a : b, deps: [which] } : { state: 'waiting', why: 'not listed', deps: [which] };
  };
  const reconciler = (extra: Pick<ReconcilerDeps, 'policiesWritten' | 'render'> = {}) =>
    new Reconciler({ registry: { resolve }, writer, metrics: new OperatorMetrics(), log: silent, endpointGroup: () => groupState, now: () => new Date('2026-11-26T00:00:00Z'), ...extra });
  // The CR's endpoint group, reconciled as the operator does: with the CR as its member until it is deleted.
  const group = () => reconcileGroup(endpointGroup(writer.cr)!, writer.cr.metadata.deletionTimestamp ? [] : [writer.cr], { registry: { resolve }, log: silent });
  return { a, b, writer, reconciler, group, state };
}

/** Reconcile and play ACK until nothing is written any more. */
async function converge(s: ReturnType<typeof setup>, r = s.reconciler()): Promise<void> {
  for (let i = 0; i < 12; i++) {
    const before = s.a.writes.length + s.b.writes.length + s.writer.writes.length;
    await r.reconcile(s.writer.cr);
    await s.group();
    s.a.playAck('111111111111');
    s.b.playAck('222222222222');
    if (s.a.writes.length + s.b.writes.length + s.writer.writes.length === before) return;
  }
  throw new Error('did not converge in 12 passes');
}

const ready = (cr: CrossAccountApi) => cr.status?.conditions?.find((c) => c.type === 'Ready')?.status;

describe('Reconciler', () => {
  it('writes nothing at all while a cluster it needs has not been listed', async () => {
    const s = setup({ a: 'ready', b: 'waiting' });
    const outcome = await s.reconciler().reconcile(s.writer.cr);
    expect(s.a.writes).toEqual([]);
    expect(s.b.writes).toEqual([]);
    expect(s.writer.writes).toEqual([]); // no finalizer, no status
    expect(outcome).toEqual({ deps: ['a', 'b'], waiting: true });
  });

  it('writes nothing into a namespace too new for ACK to know its account, and comes back when it has settled', async () => {
    const s = setup();
    const providerNs = s.writer.cr.spec.provider.namespace;
    s.b.settling.set(providerNs, 3_000);
    const outcome = await s.reconciler().reconcile(s.writer.cr);
    expect(s.b.writes).toEqual([]);
    expect(s.a.writes.length).toBeGreaterThan(0); // the other side's namespace is settled
    expect(outcome.requeueAfterMs).toBe(3_050);
    // the new API is not reported as allowed anywhere before its policy was written
    expect(s.writer.cr.status?.allowedEndpoints ?? []).toEqual([]);
    s.b.settling.delete(providerNs);
    await converge(s);
    expect(ready(s.writer.cr)).toBe('True');
    expect(s.b.writes.some((w) => w.startsWith(`apply RestAPI/${providerNs}/`))).toBe(true);
  });

  it("writes the CR's status only after its policy writes are out and the burst lets it (policiesWritten)", async () => {
    const s = setup();
    let release!: () => void;
    const calls: Array<{ key: string; hold: boolean; clusterWrites: number; statusWrites: number }> = [];
    const r = s.reconciler({
      policiesWritten: (cr, hold) => {
        calls.push({ key: `${cr.metadata.namespace}/${cr.metadata.name}`, hold, clusterWrites: s.a.writes.length + s.b.writes.length, statusWrites: s.writer.writes.filter((w) => w === 'status').length });
        return new Promise<void>((res) => (release = res));
      },
    });
    const pass = r.reconcile(s.writer.cr);
    for (let i = 0; i < 50 && calls.length === 0; i++) await new Promise((res) => setImmediate(res));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.key).toBe('xapi-system/orders');
    expect(calls[0]!.hold).toBe(true);
    // The pass's applies are out before it asks; its status is not.
    expect(calls[0]!.clusterWrites).toBeGreaterThan(0);
    expect(calls[0]!.statusWrites).toBe(0);
    await new Promise((res) => setTimeout(res, 20));
    expect(s.writer.writes).not.toContain('status');
    release();
    await pass;
    expect(s.writer.writes).toContain('status');
  });

  it('a pass with no status to write is not held by a burst (policiesWritten hold=false)', async () => {
    const s = setup();
    await converge(s);
    const holds: boolean[] = [];
    const r = s.reconciler({
      // A burst that never settles: a pass that waited here would never end.
      policiesWritten: (_cr, hold) => {
        holds.push(hold);
        return hold ? new Promise<void>(() => undefined) : Promise.resolve();
      },
    });
    await r.reconcile(s.writer.cr);
    expect(holds).toEqual([false]);
  });

  it('converges to Ready and then, at steady state, writes nothing', async () => {
    const s = setup();
    await converge(s);
    expect(ready(s.writer.cr)).toBe('True');
    expect(s.b.owned('xapi-system.orders').some((o) => o.kind === 'Stage')).toBe(true);
    const writes = [...s.a.writes, ...s.b.writes, ...s.writer.writes].length;
    await s.reconciler().reconcile(s.writer.cr);
    await s.reconciler().reconcile(s.writer.cr);
    expect([...s.a.writes, ...s.b.writes, ...s.writer.writes]).toHaveLength(writes);
  });

  it('after a restart (a new Reconciler over the same live objects) changes nothing', async () => {
    const s = setup();
    await converge(s);
    const snapshot = (c: FakeCluster) => [...c.objects.values()].map((o) => `${o.kind}/${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort();
    const before = [snapshot(s.a), snapshot(s.b)];
    const writes = s.a.writes.length + s.b.writes.length + s.writer.writes.length;
    await s.reconciler().reconcile(s.writer.cr);
    expect([snapshot(s.a), snapshot(s.b)]).toEqual(before);
    expect(s.a.writes.length + s.b.writes.length + s.writer.writes.length).toBe(writes);
  });

  it('never prunes what a partial render leaves out; prunes it once the render is complete', async () => {
    const s = setup();
    await converge(s);
    const deployments = () => s.b.owned('xapi-system.orders').filter((o) => o.kind === 'Deployment').map((o) => o.metadata?.name);
    const [first] = deployments();
    expect(first).toBeDefined();
    // The endpoint is replaced and ACK has not reported the new one's ID yet: the provider's
    // render waits (no Deployment rendered), and the live Deployment and Stage must stay.
    const vpce = [...s.a.objects.values()].find((o) => o.kind === 'VPCEndpoint')!;
    vpce.status = { conditions: [{ type: 'Ready', status: 'False' }] };
    s.writer.cr = { ...s.writer.cr, status: { ...s.writer.cr.status, allowedEndpoints: [] } };
    await s.reconciler().reconcile(s.writer.cr);
    expect(s.b.writes.filter((w) => w.startsWith('delete'))).toEqual([]);
    expect(deployments()).toEqual([first]);
    // The new endpoint's ID arrives: the policy admits it, a new Deployment replaces the old one.
    s.a.playAck('111111111111', 'vpce-0fedcba9876543210');
    await converge(s);
    expect(deployments()).toHaveLength(1);
    expect(deployments()[0]).not.toBe(first);
    expect(s.b.writes).toContain(`delete Deployment/account-b/${first}`);
    expect(JSON.stringify(s.b.owned('xapi-system.orders').find((o) => o.kind === 'RestAPI')?.spec)).toContain('vpce-0fedcba9876543210');
  });

  it("keeps the live FlowLogs while the endpoint's ENIs are unknown (undecided, not unwanted); replaces them once the new ENIs are known", async () => {
    const s = setup();
    await converge(s);
    const flows = () => s.a.owned('xapi-system.orders').filter((o) => o.kind === 'FlowLog').map((o) => (o as { spec?: { resourceID?: string } }).spec?.resourceID).sort();
    const before = flows();
    expect(before).toEqual(['eni-123456789abcdef01', 'eni-123456789abcdef02']);
    const vpce = [...s.a.objects.values()].find((o) => o.kind === 'VPCEndpoint')!;
    vpce.status = { conditions: [{ type: 'Ready', status: 'False' }] };
    await s.reconciler().reconcile(s.writer.cr);
    expect(s.a.writes.filter((w) => w.startsWith('delete'))).toEqual([]);
    expect(flows()).toEqual(before);
    // converge() would report the old endpoint again: play the new one
    for (let i = 0; i < 6; i++) {
      s.a.playAck('111111111111', 'vpce-0fedcba9876543210');
      s.b.playAck('222222222222');
      await s.reconciler().reconcile(s.writer.cr);
    }
    expect(flows()).toEqual(['eni-fedcba98765432101', 'eni-fedcba98765432102']);
    expect(s.a.writes.filter((w) => w.startsWith('delete FlowLog'))).toHaveLength(2);
  });

  it('keeps a superseded Deployment until the Stage names the new one and ACK has synced the Stage since the move (AWS refuses to delete a served Deployment)', async () => {
    const s = setup();
    await converge(s);
    const live = (kind: string) => [...s.b.objects.values()].filter((o) => o.kind === kind);
    const stage = () => live('Stage')[0]!;
    const moveRecord = () => (stage().metadata as { annotations?: Record<string, string> }).annotations?.[STAGE_SYNC_AT_MOVE_ANNOTATION];
    const stampOf = (o: LiveObject) => (o.status as { conditions: Array<{ type: string; lastTransitionTime: string }> }).conditions.find((c) => c.type === 'ACK.ResourceSynced')!.lastTransitionTime;
    const [first] = live('Deployment');
    const before = stampOf(stage());
    const deleted = () => s.b.writes.includes(`delete Deployment/account-b/${first!.metadata?.name}`);
    // rotate: the policy first; once ACK has synced it, the new Deployment and the Stage's move
    s.a.playAck('111111111111', 'vpce-0fedcba9876543210');
    await s.reconciler().reconcile(s.writer.cr);
    expect(live('Deployment')).toEqual([first]);
    s.b.playAck('222222222222');
    await s.reconciler().reconcile(s.writer.cr);
    const second = live('Deployment').find((d) => d !== first)!;
    expect((stage().spec as { deploymentRef: { from: { name: string } } }).deploymentRef.from.name).toBe(second.metadata?.name);
    // the move records the sync stamp the Stage had, written on exactly the version it replaced
    expect(moveRecord()).toBe(before);
    expect(deleted()).toBe(false);
    // The failure CI met: the new Deployment is Ready, but ACK has not synced the Stage since it moved.
    s.b.playAck('222222222222');
    stage().status = { ...stage().status, conditions: [{ type: 'ACK.ResourceSynced', status: 'True', lastTransitionTime: before }, { type: 'Ready', status: 'True', lastTransitionTime: before }] };
    await s.reconciler().reconcile(s.writer.cr);
    expect(deleted()).toBe(false);
    expect(live('Deployment')).toHaveLength(2);
    // ACK synced the Stage, but AWS dates it before the new Deployment: not moved yet
    stage().status = { ...stage().status, lastUpdatedDate: '2026-11-26T00:00:01Z', conditions: [{ type: 'ACK.ResourceSynced', status: 'True', lastTransitionTime: '2026-11-26T01:00:00Z' }] };
    second.status = { ...second.status, createdDate: '2026-11-26T00:00:10Z' };
    await s.reconciler().reconcile(s.writer.cr);
    expect(deleted()).toBe(false);
    // the Stage updated in AWS after the new Deployment was created: now the old one goes, once
    stage().status = { ...stage().status, lastUpdatedDate: '2026-11-26T00:00:11Z' };
    await s.reconciler().reconcile(s.writer.cr);
    expect(deleted()).toBe(true);
    expect(live('Deployment').map((d) => d.metadata?.name)).toEqual([second.metadata?.name]);
    // steady state: the record is carried over, nothing is written again
    const writes = s.b.writes.length;
    await s.reconciler().reconcile(s.writer.cr);
    expect(s.b.writes.length).toBe(writes);
    expect(moveRecord()).toBe(before);
  });

  it('creates a new Deployment only once ACK has synced the RestAPI change it deploys (a Deployment snapshots the policy AWS holds when it is created)', async () => {
    const s = setup();
    await converge(s);
    const live = (kind: string) => [...s.b.objects.values()].filter((o) => o.kind === kind);
    const api = () => live('RestAPI')[0]!;
    const stampOf = (o: LiveObject) => (o.status as { conditions: Array<{ type: string; lastTransitionTime: string }> }).conditions.find((c) => c.type === 'ACK.ResourceSynced')!.lastTransitionTime;
    const record = () => (api().metadata as { annotations?: Record<string, string> }).annotations?.[RESTAPI_SYNC_AT_CHANGE_ANNOTATION];
    const deployments = () => live('Deployment').map((d) => d.metadata?.name);
    const servedBy = () => (live('Stage')[0]!.spec as { deploymentRef: { from: { name: string } } }).deploymentRef.from.name;
    const [first] = deployments();
    const synced = stampOf(api());
    const writes = () => s.b.writes.length;
    // A new endpoint: the policy changes, written on exactly the version whose stamp it records.
    s.a.playAck('111111111111', 'vpce-0fedcba9876543210');
    await s.reconciler().reconcile(s.writer.cr);
    expect(JSON.stringify(api().spec)).toContain('vpce-0fedcba9876543210');
    expect(record()).toBe(synced);
    expect(deployments()).toEqual([first]);
    expect(servedBy()).toBe(first);
    // Passes before ACK has synced the RestAPI (its stamp is still the recorded one) write nothing.
    let before = writes();
    await s.reconciler().reconcile(s.writer.cr);
    expect(writes()).toBe(before);
    // ACK synced it, but the sync failed (Synced=False, a new stamp): still no Deployment.
    const failedAt = '2026-11-26T05:00:00Z';
    api().status = { ...api().status, conditions: [{ type: 'ACK.ResourceSynced', status: 'False', lastTransitionTime: failedAt }, { type: 'ACK.Recoverable', status: 'True', lastTransitionTime: failedAt }] };
    await s.reconciler().reconcile(s.writer.cr);
    expect(deployments()).toEqual([first]);
    // A successful sync since the change: the Deployment is created and the Stage moves to it.
    api().status = { ...api().status, conditions: [{ type: 'ACK.ResourceSynced', status: 'True', lastTransitionTime: '2026-11-26T05:00:01Z' }] };
    before = writes();
    await s.reconciler().reconcile(s.writer.cr);
    const created = deployments().filter((d) => d !== first);
    expect(created).toHaveLength(1);
    expect(servedBy()).toBe(created[0]);
    expect(s.b.writes.slice(before).map((w) => w.split('/')[0])).toEqual(['apply Deployment', 'apply Stage']);
    // The record is carried over while the RestAPI keeps its render: ACK's later syncs write nothing.
    await converge(s);
    expect(record()).toBe(synced);
  });

  it('a RestAPI change that meets a newer version (ACK wrote it meanwhile) is not written, and comes again shortly', async () => {
    const s = setup();
    await converge(s);
    const cached = structuredClone(s.b.objects.get([...s.b.objects.keys()].find((k) => k.startsWith('RestAPI/'))!)!);
    const rendered = { ...cached, spec: { ...(cached.spec as object), description: 'changed' } } as unknown as KubeObject;
    delete (rendered.metadata.annotations as Record<string, string>)[APPLIED_HASH_ANNOTATION];
    await s.b.patchSpec(cached, {});
    const before = s.b.writes.length;
    expect(await applyAll(s.b, [rendered], [cached], new Map(), silent)).toEqual({ written: 0, waitMs: CONFLICT_RETRY_MS });
    expect(s.b.writes.length).toBe(before);
    // on the version it read, the same change is written, with the stamp that version carried
    const current = s.b.objects.get(`RestAPI/${cached.metadata?.namespace}/${cached.metadata?.name}`)!;
    expect(await applyAll(s.b, [rendered], [current], new Map(), silent)).toEqual({ written: 1, waitMs: 0 });
    const stamp = (current.status as { conditions: Array<{ type: string; lastTransitionTime: string }> }).conditions.find((c) => c.type === 'ACK.ResourceSynced')!.lastTransitionTime;
    expect((s.b.objects.get(`RestAPI/${cached.metadata?.namespace}/${cached.metadata?.name}`)!.metadata as { annotations: Record<string, string> }).annotations[RESTAPI_SYNC_AT_CHANGE_ANNOTATION]).toBe(stamp);
  });

  it('writes a recorded change only once the stamp it records is two seconds old (ACK stamps whole seconds: a sync in the same second would look like no sync)', async () => {
    const s = setup();
    await converge(s);
    for (const kind of ['RestAPI', 'Stage'] as const) {
      const cached = structuredClone(s.b.objects.get([...s.b.objects.keys()].find((k) => k.startsWith(`${kind}/`))!)!);
      const stamp = Date.parse((cached.status as { conditions: Array<{ type: string; lastTransitionTime: string }> }).conditions.find((c) => c.type === 'ACK.ResourceSynced')!.lastTransitionTime);
      const spec = kind === 'RestAPI' ? { description: 'changed' } : { deploymentRef: { from: { name: 'orders-deploy-other' } } };
      const rendered = { ...cached, spec: { ...(cached.spec as object), ...spec } } as unknown as KubeObject;
      delete (rendered.metadata.annotations as Record<string, string>)[APPLIED_HASH_ANNOTATION];
      const before = s.b.writes.length;
      expect(await applyAll(s.b, [rendered], [cached], new Map(), silent, () => stamp + 500)).toEqual({ written: 0, waitMs: SYNC_STAMP_AGE_MS - 500 });
      expect(s.b.writes.length).toBe(before);
      expect(await applyAll(s.b, [rendered], [cached], new Map(), silent, () => stamp + SYNC_STAMP_AGE_MS)).toEqual({ written: 1, waitMs: 0 });
    }
  });

  it('a Stage move that meets a newer version of the Stage (ACK wrote it meanwhile) is not written, and comes again shortly', async () => {
    const s = setup();
    await converge(s);
    const cached = structuredClone(s.b.objects.get([...s.b.objects.keys()].find((k) => k.startsWith('Stage/'))!)!);
    const rendered = { ...cached, spec: { ...(cached.spec as object), deploymentRef: { from: { name: 'orders-deploy-new' } } } } as unknown as KubeObject;
    // ACK's status write bumped the Stage's version after the cache read
    await s.b.patchSpec(cached, {});
    const applies = () => s.b.writes.filter((w) => w.startsWith('apply')).length;
    const before = applies();
    const out = await applyAll(s.b, [rendered], [cached], new Map(), silent);
    expect(out).toEqual({ written: 0, waitMs: CONFLICT_RETRY_MS });
    expect(applies()).toBe(before);
    expect((s.b.objects.get(`Stage/${cached.metadata?.namespace}/${cached.metadata?.name}`)!.spec as { deploymentRef: { from: { name: string } } }).deploymentRef.from.name).not.toBe('orders-deploy-new');
  });

  it("shows the shared endpoint and its sharers; a group that cannot include the CR (policy too large) says so, and layer 2 waits for the CR's statement", async () => {
    const s = setup();
    await converge(s);
    const g = endpointGroup(s.writer.cr)!;
    expect(s.writer.cr.status?.endpoint).toMatchObject({ id: 'vpce-0123456789abcdef0', name: g.vpcEndpoint, sharedBy: 1 });
    // Someone else's policy on the shared endpoint: this API is not in it, so layer 2 is not in place.
    const vpce = s.a.grouped(g.label).find((o) => o.kind === 'VPCEndpoint')!;
    (vpce as { spec: Record<string, unknown> }).spec.policyDocument = '{"Version":"2012-10-17","Statement":[]}';
    await s.reconciler().reconcile(s.writer.cr);
    const layer2 = s.writer.cr.status?.conditions?.find((c) => c.type === 'EndpointPolicyReady');
    expect([layer2?.status, layer2?.reason]).toEqual(['False', 'NotInEndpointPolicy']);
    const refused = setup(undefined, { sharedBy: 40, refused: 'endpoint group x: the shared endpoint policy for 40 APIs would be 24000 characters' });
    await refused.reconciler().reconcile(refused.writer.cr);
    const readyCond = refused.writer.cr.status?.conditions?.find((c) => c.type === 'Ready');
    expect([readyCond?.status, readyCond?.reason, readyCond?.message]).toEqual(['False', 'EndpointPolicyTooLarge', 'endpoint group x: the shared endpoint policy for 40 APIs would be 24000 characters']);
    expect(refused.writer.cr.status?.endpoint?.sharedBy).toBe(40);
  });

  it('deletes highest wave first: Stage before Deployment before Integrations … before the RestAPI', async () => {
    const s = setup();
    await converge(s);
    s.writer.cr = { ...s.writer.cr, metadata: { ...s.writer.cr.metadata, deletionTimestamp: '2026-11-26T00:00:00Z' } };
    const r = s.reconciler();
    for (let i = 0; i < 30 && s.b.objects.size + s.a.objects.size > 0; i++) {
      await r.reconcile(s.writer.cr);
      await s.group();
    }
    expect(s.writer.writes).not.toContain('remove-finalizer'); // not while objects remain
    await r.reconcile(s.writer.cr);
    // The shared endpoint group (its last member is going): the endpoint, then the group's rule
    // for the caller, then the caller's group (AWS refuses while a rule names it), then the group.
    const g = endpointGroup(s.writer.cr)!;
    const a = s.a.writes;
    const at = (w: string) => {
      expect(a).toContain(w);
      return a.indexOf(w);
    };
    const drained = a.lastIndexOf(`apply SecurityGroup/account-a/${g.endpointSecurityGroup}`);
    expect(drained).toBeGreaterThan(at(`delete VPCEndpoint/account-a/${g.vpcEndpoint}`));
    expect(at('delete SecurityGroup/account-a/orders-caller-sg')).toBeGreaterThan(drained);
    expect(at(`delete SecurityGroup/account-a/${g.endpointSecurityGroup}`)).toBeGreaterThan(at('delete SecurityGroup/account-a/orders-caller-sg'));
    const order = s.b.writes.filter((w) => w.startsWith('delete')).map((w) => w.split(' ')[1]!.split('/')[0]);
    const firstOf = (k: string) => order.indexOf(k);
    const lastOf = (k: string) => order.lastIndexOf(k);
    expect(lastOf('Stage')).toBeLessThan(firstOf('Deployment'));
    expect(lastOf('Deployment')).toBeLessThan(firstOf('Integration'));
    expect(lastOf('Integration')).toBeLessThan(firstOf('Method'));
    expect(lastOf('Method')).toBeLessThan(firstOf('Resource'));
    expect(lastOf('Resource')).toBeLessThan(firstOf('RestAPI'));
    expect(s.writer.writes).toContain('remove-finalizer');
  });
});

describe('renders stamped with their applied hashes once (withAppliedHashes, as the operator caches them)', () => {
  const stampedRender = (cr: CrossAccountApi, ids: Parameters<typeof renderMember>[1]) => withAppliedHashes(renderMember(cr, ids));

  it('apply exactly what a render hashed on every pass applies', async () => {
    const plain = setup();
    await converge(plain);
    const stamped = setup();
    await converge(stamped, stamped.reconciler({ render: stampedRender }));
    expect(stamped.b.writes).toEqual(plain.b.writes);
    expect(stamped.a.writes).toEqual(plain.a.writes);
    expect([...stamped.b.objects]).toEqual([...plain.b.objects]);
    expect([...stamped.a.objects]).toEqual([...plain.a.objects]);
    expect([...stamped.b.objects.values()].every((o) => (o.metadata as { annotations?: Record<string, string> }).annotations?.[APPLIED_HASH_ANNOTATION])).toBe(true);
  });

  it('find what the other kind applied up to date: an upgrade to stamped renders writes nothing', async () => {
    const s = setup();
    await converge(s);
    const before = [...s.a.writes, ...s.b.writes].length;
    await s.reconciler({ render: stampedRender }).reconcile(s.writer.cr);
    expect([...s.a.writes, ...s.b.writes].length).toBe(before);
  });

  it('stamps once: a stamped render stamped again is the same', () => {
    const once = stampedRender(example as CrossAccountApi & { metadata: { name: string } }, {});
    expect(withAppliedHashes(once)).toEqual(once);
  });
});
