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
  vpcEndpoints(namespace?: string): LiveObject[] {
    return [...this.objects.values()].filter((o) => o.kind === ACK.VPCEndpoint.kind && (namespace === undefined || o.metadata?.namespace === namespace));
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
  async patchSpec(obj: LiveObject, spec: Record<string, unknown>): Promise<void> {
    this.writes.push(`patch ${this.key(obj)}`);
    const live = this.objects.get(this.key(obj));
    if (!live) throw Object.assign(new Error('not found'), { code: 404 });
    const merged: Record<string, unknown> = { ...(live.spec as Record<string, unknown> | undefined) };
    for (const [k, v] of Object.entries(spec)) if (v === null) delete merged[k]; else merged[k] = v;
    live.spec = merged;
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
