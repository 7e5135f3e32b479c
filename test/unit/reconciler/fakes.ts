// Fakes for the reconcile pipeline's unit tests (pure logic: the same on real API servers is in
// test/integration): one API server's worth of ACK objects, with resourceVersion and uid like the
// real one and a stand-in for the ACK controllers that reports what AWS would assign; and the
// CR writer, which records its writes.
import { ACK } from '../../../src/api/ack.js';
import { FINALIZER, OWNER_LABEL, type CrossAccountApi, type CrossAccountApiStatus, type KubeObject } from '../../../src/api/types.js';
import type { AckCluster } from '../../../src/reconciler/cluster.js';
import type { LiveObject } from '../../../src/reconciler/observed.js';

const MANAGED_BY = 'app.kubernetes.io/managed-by';

export class FakeCluster implements AckCluster {
  readonly objects = new Map<string, LiveObject>();
  readonly writes: string[] = [];
  private rv = 0;
  /** Object key → the resourceVersion ACK last synced, and the clock ACK stamps its syncs with. */
  private readonly synced = new Map<string, string | undefined>();
  private clock = Date.parse('2026-11-26T00:00:00Z');
  constructor(readonly name: string) {}
  private key(o: { kind?: string; metadata?: { namespace?: string; name?: string } }) {
    return `${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`;
  }
  /** An object someone else made (not a write of the operator's). */
  put(o: LiveObject): void {
    this.objects.set(this.key(o), o);
  }
  owned(owner: string): LiveObject[] {
    return [...this.objects.values()].filter((o) => o.metadata?.labels?.[OWNER_LABEL] === owner);
  }
  grouped(label: string): LiveObject[] {
    return [...this.objects.values()].filter((o) => o.metadata?.labels?.['xapi.dev/endpoint-group'] === label && !o.metadata?.labels?.[OWNER_LABEL]);
  }
  ofKind(kind: string): LiveObject[] {
    return [...this.objects.values()].filter((o) => o.kind === ACK[kind as keyof typeof ACK].kind);
  }
  vpcEndpoints(namespace?: string, vpcId?: string): LiveObject[] {
    return [...this.objects.values()].filter(
      (o) => o.kind === ACK.VPCEndpoint.kind && (namespace === undefined || o.metadata?.namespace === namespace) && (vpcId === undefined || (o.spec as { vpcID?: unknown } | undefined)?.vpcID === vpcId),
    );
  }
  async listOwned(owner: string): Promise<LiveObject[]> {
    return this.owned(owner);
  }
  async apply(obj: KubeObject): Promise<LiveObject> {
    const old = this.objects.get(this.key(obj));
    // A resourceVersion in the applied body is a precondition, as on a real API server.
    const expected = (obj.metadata as { resourceVersion?: string }).resourceVersion;
    if (expected !== undefined && expected !== old?.metadata?.resourceVersion) throw Object.assign(new Error('Conflict'), { code: 409 });
    this.writes.push(`apply ${this.key(obj)}`);
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
  async patchSpec(obj: LiveObject, spec: Record<string, unknown>): Promise<void> {
    this.writes.push(`patch ${this.key(obj)}`);
    const live = this.objects.get(this.key(obj));
    if (!live) throw Object.assign(new Error('not found'), { code: 404 });
    const merged: Record<string, unknown> = { ...(live.spec as Record<string, unknown> | undefined) };
    for (const [k, v] of Object.entries(spec)) if (v === null) delete merged[k]; else merged[k] = v;
    live.spec = merged;
    (live.metadata as { resourceVersion?: string }).resourceVersion = String(++this.rv);
  }
  async delete(obj: LiveObject): Promise<void> {
    this.writes.push(`delete ${this.key(obj)}`);
    this.objects.delete(this.key(obj));
  }
  /** Namespace → ms until ACK may be taken to know it (NAMESPACE_SETTLE_MS); absent: settled. */
  readonly settling = new Map<string, number>();
  async ensureNamespace(namespace: string): Promise<number> {
    return this.settling.get(namespace) ?? 0;
  }
  /**
   * Play ACK on xapi's objects (others' keep what the test gave them): each exists in its side's
   * account and is Ready, with the IDs AWS would assign.
   */
  playAck(account: string, endpointId = 'vpce-0123456789abcdef0'): void {
    for (const o of this.objects.values()) {
      if (o.metadata?.labels?.[MANAGED_BY] !== 'xapi') continue;
      // ACK re-stamps its conditions on every sync, and it syncs each new version of the object.
      const key = this.key(o);
      const rv = o.metadata?.resourceVersion;
      const before = (o.status as { conditions?: Array<{ lastTransitionTime?: string }> } | undefined)?.conditions?.[0]?.lastTransitionTime;
      const at = this.synced.has(key) && this.synced.get(key) === rv && before ? before : new Date((this.clock += 1000)).toISOString();
      this.synced.set(key, rv);
      const conditions = [{ type: 'ACK.ResourceSynced', status: 'True', lastTransitionTime: at }, { type: 'Ready', status: 'True', lastTransitionTime: at }];
      const status: Record<string, unknown> = { ackResourceMetadata: { ownerAccountID: account, region: 'us-east-1' }, conditions };
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

export class FakeWriter {
  readonly writes: string[] = [];
  constructor(public cr: CrossAccountApi) {}
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
