// The reconcile pipeline with consumer.endpoint: an existing endpoint that ACK reports (xapi reads
// it, never writes it), private DNS off, and the admission check that refuses a second private-DNS
// endpoint in a VPC before anything is applied. Fake clusters (pure pipeline); the same on a real
// API server is in test/integration/reconciler/endpoint.test.ts.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ACK } from '../../../src/api/ack.js';
import type { CrossAccountApi } from '../../../src/api/types.js';
import type { Resolution } from '../../../src/reconciler/clusters.js';
import { OperatorMetrics } from '../../../src/reconciler/metrics.js';
import type { LiveObject } from '../../../src/reconciler/observed.js';
import { Reconciler } from '../../../src/reconciler/reconcile.js';
import { FakeCluster, FakeWriter } from './fakes.js';
import { reconcileGroup } from '../../../src/reconciler/endpoint-group.js';
import { endpointGroup } from '../../../src/charts/names.js';

const example = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;
const silent = { info: () => {}, warn: () => {}, error: () => {} };
const EXISTING = 'vpce-0feedfacefeedface';
const ROLE = 'arn:aws:iam::111111111111:role/orders-caller';

/** A VPCEndpoint xapi does not own, as ACK reports an adopted one. */
function foreignEndpoint(o: { privateDns?: boolean; policy?: unknown; namespace?: string } = {}): LiveObject {
  return {
    apiVersion: ACK.VPCEndpoint.apiVersion,
    kind: ACK.VPCEndpoint.kind,
    metadata: { name: 'network-team-execute-api', namespace: o.namespace ?? 'account-a', resourceVersion: '7' },
    spec: {
      serviceName: 'com.amazonaws.us-east-1.execute-api',
      vpcEndpointType: 'Interface',
      vpcID: example.spec.consumer.vpcId,
      privateDNSEnabled: o.privateDns ?? true,
      securityGroupIDs: ['sg-0netteam00000000a'],
      ...(o.policy !== undefined && { policyDocument: JSON.stringify(o.policy) }),
    },
    status: { vpcEndpointID: EXISTING, state: 'available', dnsEntries: [{ dnsName: `${EXISTING}-abcd1234.execute-api.us-east-1.vpce.amazonaws.com` }] },
  };
}

function setup(edit: (c: CrossAccountApi) => void = () => {}, peers: CrossAccountApi[] = []) {
  const a = new FakeCluster('a');
  const b = new FakeCluster('b');
  const cr: CrossAccountApi = structuredClone({ ...example, metadata: { name: 'orders', namespace: 'xapi-system', generation: 1, uid: 'u1', creationTimestamp: '2026-11-02T00:00:00Z' } });
  edit(cr);
  const writer = new FakeWriter(cr);
  const resolve = (_ns: string | undefined, ref: { secretName: string } | undefined): Resolution => ({ state: 'ready', cluster: ref?.secretName === 'cluster-a' ? a : b, deps: [] });
  const reconciler = new Reconciler({ registry: { resolve }, writer, metrics: new OperatorMetrics(), log: silent, now: () => new Date('2026-11-26T00:00:00Z'), peers: (vpcId) => [writer.cr, ...peers].filter((p) => p.spec.consumer.vpcId === vpcId) });
  const converge = async () => {
    for (let i = 0; i < 12; i++) {
      const before = a.writes.length + b.writes.length + writer.writes.length;
      await reconciler.reconcile(writer.cr);
      // The CR's shared endpoint group, as the operator reconciles it (none for an existing endpoint).
      const group = endpointGroup(writer.cr);
      if (group) await reconcileGroup(group, writer.cr.metadata.deletionTimestamp ? [] : [writer.cr], { registry: { resolve }, log: silent, refusal: (c, consumer) => reconciler.admissionRefusal(c, consumer) });
      a.playAck('111111111111');
      b.playAck('222222222222');
      if (a.writes.length + b.writes.length + writer.writes.length === before) return;
    }
    throw new Error('did not converge');
  };
  return { a, b, writer, converge };
}
const cond = (cr: CrossAccountApi, type: string) => cr.status?.conditions?.find((c) => c.type === type);
const allowAll = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:*', Resource: '*' }] };

describe('an existing endpoint (consumer.endpoint.id)', () => {
  it('is used and never written: B\'s policy names it, the caller gets egress to its groups, layers 1-2 say unmanaged, and Ready', async () => {
    const s = setup((c) => (c.spec.consumer.endpoint = { id: EXISTING }));
    const foreign = foreignEndpoint({ policy: allowAll });
    s.a.put(foreign);
    const before = JSON.stringify(foreign);
    await s.converge();
    expect(s.a.writes.filter((w) => w.startsWith('apply VPCEndpoint') || w.includes('endpoint-sg') || w.includes('network-team'))).toEqual([]);
    expect(JSON.stringify(s.a.objects.get('VPCEndpoint/account-a/network-team-execute-api'))).toBe(before);
    const callerSg = s.a.objects.get('SecurityGroup/account-a/orders-caller-sg') as { spec: { egressRules: Array<{ userIDGroupPairs: Array<{ groupID: string }> }> } };
    expect(callerSg.spec.egressRules.map((r) => r.userIDGroupPairs[0]!.groupID)).toEqual(['sg-0netteam00000000a']);
    const api = s.b.objects.get('RestAPI/account-b/orders-api') as { spec: { policy: string } };
    expect(JSON.parse(api.spec.policy).Statement[0].Condition).toEqual({ StringNotEquals: { 'aws:sourceVpce': EXISTING } });
    const cr = s.writer.cr;
    expect(cr.status?.endpoint).toMatchObject({ id: EXISTING, state: 'available' });
    expect(cond(cr, 'EndpointPolicyReady')).toMatchObject({ status: 'True', reason: 'Unmanaged' });
    expect(cond(cr, 'EndpointPolicyReady')!.message).toContain(`as ACK reports it, it allows every route for ${ROLE}`);
    expect(cond(cr, 'SecurityGroupsReady')!.message).toContain('their ingress from the caller group is the endpoint owner');
    expect(cond(cr, 'Ready')?.status).toBe('True');
    expect(cr.status?.api?.invokeUrl).toBe('https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod');
  });
  it('says when the observed policy would deny the call', async () => {
    const s = setup((c) => (c.spec.consumer.endpoint = { id: EXISTING }));
    s.a.put(foreignEndpoint({ policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:us-east-1:333333333333:*' }] } }));
    await s.converge();
    const c = cond(s.writer.cr, 'EndpointPolicyReady')!;
    expect(c).toMatchObject({ status: 'False', reason: 'UnmanagedDenies' });
    expect(c.message).toMatch(/does not allow GET \/items for arn:aws:iam::111111111111:role\/orders-caller \(no statement allows it\)/);
    expect(cond(s.writer.cr, 'Ready')?.status).toBe('False');
  });
  it('not reported by ACK: the caller group stays without egress and layer 1 says why', async () => {
    const s = setup((c) => (c.spec.consumer.endpoint = { id: EXISTING }));
    await s.converge();
    const callerSg = s.a.objects.get('SecurityGroup/account-a/orders-caller-sg') as { spec: { egressRules: unknown[] } };
    expect(callerSg.spec.egressRules).toEqual([]);
    expect(cond(s.writer.cr, 'SecurityGroupsReady')).toMatchObject({ status: 'False', reason: 'Unmanaged' });
    expect(cond(s.writer.cr, 'SecurityGroupsReady')!.message).toContain(`ACK reports no VPCEndpoint with status.vpcEndpointID ${EXISTING}`);
  });
});

describe('private DNS off', () => {
  it('status shows the endpoint-specific URL; the RestAPI is associated with the endpoint', async () => {
    const s = setup((c) => (c.spec.consumer.endpoint = { privateDns: false }));
    await s.converge();
    expect(s.writer.cr.status?.api?.invokeUrl).toBe('https://a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.us-east-1.amazonaws.com/prod');
    const api = s.b.objects.get('RestAPI/account-b/orders-api') as { spec: { endpointConfiguration: unknown } };
    expect(api.spec.endpointConfiguration).toEqual({ types: ['PRIVATE'], vpcEndpointIDs: ['vpce-0123456789abcdef0'] });
    expect((s.a.objects.get(`VPCEndpoint/account-a/${endpointGroup(s.writer.cr)!.vpcEndpoint}`) as { spec: { privateDNSEnabled: boolean } }).spec.privateDNSEnabled).toBe(false);
    expect(cond(s.writer.cr, 'Ready')?.status).toBe('True');
  });
});

describe('admission: one private-DNS execute-api endpoint per VPC', () => {
  it('an endpoint xapi does not own in the VPC refuses a private-DNS CR before anything is applied', async () => {
    const s = setup();
    s.a.put(foreignEndpoint());
    await s.converge();
    expect(s.a.writes).toEqual([]);
    expect(s.b.writes).toEqual([]);
    expect(s.writer.writes).not.toContain('finalizer');
    const c = cond(s.writer.cr, 'Ready')!;
    expect(c).toMatchObject({ status: 'False', reason: 'EndpointConflict' });
    expect(c.message).toMatch(/^XAPI013: VPC vpc-0a1b2c3d4e5f60718 \(us-east-1\) already has an execute-api endpoint with private DNS: VPCEndpoint account-a\/network-team-execute-api \(vpce-0feedfacefeedface\), not xapi's/);
    expect(cond(s.writer.cr, 'Degraded')).toMatchObject({ status: 'True', reason: 'EndpointConflict' });
  });
  it('the same VPC through the foreign endpoint without private DNS of its own is fine (privateDns false)', async () => {
    const s = setup((c) => (c.spec.consumer.endpoint = { privateDns: false }));
    s.a.put(foreignEndpoint());
    await s.converge();
    expect(cond(s.writer.cr, 'Ready')?.status).toBe('True');
  });
  it('an older CR of another consumer namespace in the same VPC refuses this one', async () => {
    const older = structuredClone({ ...example, metadata: { name: 'first', namespace: 'xapi-system', creationTimestamp: '2026-11-01T00:00:00Z' } });
    older.spec.consumer.namespace = 'account-a-other';
    const s = setup(() => {}, [older]);
    await s.converge();
    expect(s.a.writes).toEqual([]);
    expect(cond(s.writer.cr, 'Ready')!.message).toContain('of xapi-system/first');
  });
});
