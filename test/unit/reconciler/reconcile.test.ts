// The reconcile pipeline against a fake cluster and a fake ACK: which writes it makes, and above
// all which it does not (nothing before the clusters are listed, nothing at steady state or after
// a restart, no prune on a partial render).
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ACK } from '../../../src/api/ack.js';
import { FINALIZER, OWNER_LABEL, type CrossAccountApi, type CrossAccountApiStatus, type KubeObject } from '../../../src/api/types.js';
import type { AckCluster } from '../../../src/reconciler/cluster.js';
import type { Resolution } from '../../../src/reconciler/clusters.js';
import { OperatorMetrics } from '../../../src/reconciler/metrics.js';
import type { LiveObject } from '../../../src/reconciler/observed.js';
import { Reconciler } from '../../../src/reconciler/reconcile.js';

const example = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;
const silent = { info: () => {}, warn: () => {}, error: () => {} };

/** One API server's worth of ACK objects, with resourceVersion/generation like the real one. */
class FakeCluster implements AckCluster {
  readonly objects = new Map<string, LiveObject>();
  readonly writes: string[] = [];
  private rv = 0;
  constructor(readonly name: string) {}
  private key(o: { kind?: string; metadata?: { namespace?: string; name?: string } }) {
    return `${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`;
  }
  owned(owner: string): LiveObject[] {
    return [...this.objects.values()].filter((o) => o.metadata?.labels?.[OWNER_LABEL] === owner);
  }
  async listOwned(owner: string): Promise<LiveObject[]> {
    return this.owned(owner);
  }
  async apply(obj: KubeObject): Promise<LiveObject> {
    this.writes.push(`apply ${this.key(obj)}`);
    const old = this.objects.get(this.key(obj));
    const { apiVersion, kind, metadata, ...rest } = obj;
    const live: LiveObject = {
      ...(old ?? {}),
      ...structuredClone(rest),
      apiVersion,
      kind,
      metadata: { ...structuredClone(metadata), resourceVersion: String(++this.rv), uid: (old?.metadata as { uid?: string } | undefined)?.uid ?? `uid-${this.rv}` } as LiveObject['metadata'],
    };
    this.objects.set(this.key(obj), live);
    return live;
  }
  async delete(obj: LiveObject): Promise<void> {
    this.writes.push(`delete ${this.key(obj)}`);
    this.objects.delete(this.key(obj));
  }
  async ensureNamespace(): Promise<void> {}
  /** Play ACK: every object exists in its side's account and is Ready, with the IDs AWS would assign. */
  playAck(account: string, endpointId = 'vpce-0123456789abcdef0'): void {
    for (const o of this.objects.values()) {
      const status: Record<string, unknown> = { ackResourceMetadata: { ownerAccountID: account, region: 'us-east-1' }, conditions: [{ type: 'Ready', status: 'True' }] };
      if (o.kind === ACK.SecurityGroup.kind) status.id = `sg-${o.metadata?.name?.includes('caller') ? 'c' : 'e'}0000000000000000`;
      // one network interface per subnet, named after the endpoint (a new endpoint, new ENIs)
      if (o.kind === ACK.VPCEndpoint.kind) Object.assign(status, { vpcEndpointID: endpointId, state: 'available', networkInterfaceIDs: ['1', '2'].map((n) => `eni-${endpointId.slice(-16)}${n}`) });
      if (o.kind === ACK.RestAPI.kind) Object.assign(status, { id: 'a1b2c3d4e5', rootResourceID: 'r00t000000' });
      if (o.kind === ACK.Role.kind) (status.ackResourceMetadata as Record<string, string>).arn = `arn:aws:iam::${account}:role/orders-caller`;
      if (o.kind === ACK.Resource.kind) status.id = `res-${o.metadata?.name?.slice(-6)}`;
      o.status = status;
    }
  }
}

class FakeWriter {
  readonly writes: string[] = [];
  cr: CrossAccountApi;
  constructor(cr: CrossAccountApi) {
    this.cr = cr;
  }
  async addFinalizer(cr: CrossAccountApi): Promise<CrossAccountApi> {
    if (cr.metadata.finalizers?.includes(FINALIZER)) return cr;
    this.writes.push('finalizer');
    this.cr = { ...cr, metadata: { ...cr.metadata, finalizers: [...(cr.metadata.finalizers ?? []), FINALIZER] } };
    return this.cr;
  }
  async removeFinalizer(cr: CrossAccountApi): Promise<CrossAccountApi> {
    this.writes.push('remove-finalizer');
    return cr;
  }
  async writeStatus(cr: CrossAccountApi, status: CrossAccountApiStatus): Promise<CrossAccountApi> {
    if (JSON.stringify(cr.status) === JSON.stringify(status)) return cr;
    this.writes.push('status');
    this.cr = { ...cr, status };
    return this.cr;
  }
}

function setup(state: { a: 'ready' | 'waiting'; b: 'ready' | 'waiting' } = { a: 'ready', b: 'ready' }) {
  const a = new FakeCluster('a');
  const b = new FakeCluster('b');
  const cr: CrossAccountApi = { ...example, metadata: { name: 'orders', namespace: 'xapi-system', generation: 1, uid: 'u1' } };
  const writer = new FakeWriter(cr);
  const resolve = (_ns: string | undefined, ref: { secretName: string } | undefined): Resolution => {
    const which = ref?.secretName === 'cluster-a' ? 'a' : 'b';
    return state[which] === 'ready' ? { state: 'ready', cluster: which === 'a' ? a : b, deps: [which] } : { state: 'waiting', why: 'not listed', deps: [which] };
  };
  const reconciler = () => new Reconciler({ registry: { resolve }, writer, metrics: new OperatorMetrics(), log: silent, now: () => new Date('2026-11-26T00:00:00Z') });
  return { a, b, writer, reconciler, state };
}

/** Reconcile and play ACK until nothing is written any more. */
async function converge(s: ReturnType<typeof setup>, r = s.reconciler()): Promise<void> {
  for (let i = 0; i < 12; i++) {
    const before = s.a.writes.length + s.b.writes.length + s.writer.writes.length;
    await r.reconcile(s.writer.cr);
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

  it('keeps a superseded Deployment until ACK reports the Stage updated after the new one was created (AWS refuses to delete a served Deployment)', async () => {
    const s = setup();
    await converge(s);
    const live = (kind: string) => [...s.b.objects.values()].filter((o) => o.kind === kind);
    const stamp = (o: LiveObject, field: string, at: string) => (o.status = { ...o.status, [field]: at });
    const [first] = live('Deployment');
    stamp(first!, 'createdDate', '2026-11-26T00:00:00Z');
    stamp(live('Stage')[0]!, 'lastUpdatedDate', '2026-11-26T00:00:01Z');
    // rotate: the new Deployment is created in AWS at 00:00:10, the Stage not yet moved
    s.a.playAck('111111111111', 'vpce-0fedcba9876543210');
    await s.reconciler().reconcile(s.writer.cr);
    s.b.playAck('222222222222');
    for (const d of live('Deployment')) if (d !== first) stamp(d, 'createdDate', '2026-11-26T00:00:10Z');
    stamp(live('Stage')[0]!, 'lastUpdatedDate', '2026-11-26T00:00:01Z');
    await s.reconciler().reconcile(s.writer.cr);
    expect(live('Deployment').map((d) => d.metadata?.name)).toContain(first!.metadata?.name);
    expect(s.b.writes).not.toContain(`delete Deployment/account-b/${first!.metadata?.name}`);
    // ACK updated the Stage in AWS: now the old Deployment goes
    stamp(live('Stage')[0]!, 'lastUpdatedDate', '2026-11-26T00:00:11Z');
    await s.reconciler().reconcile(s.writer.cr);
    expect(s.b.writes).toContain(`delete Deployment/account-b/${first!.metadata?.name}`);
  });

  it('deletes highest wave first: Stage before Deployment before Integrations … before the RestAPI', async () => {
    const s = setup();
    await converge(s);
    s.writer.cr = { ...s.writer.cr, metadata: { ...s.writer.cr.metadata, deletionTimestamp: '2026-11-26T00:00:00Z' } };
    const r = s.reconciler();
    for (let i = 0; i < 30 && s.b.objects.size + s.a.objects.size > 0; i++) await r.reconcile(s.writer.cr);
    expect(s.writer.writes).not.toContain('remove-finalizer'); // not while objects remain
    await r.reconcile(s.writer.cr);
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
