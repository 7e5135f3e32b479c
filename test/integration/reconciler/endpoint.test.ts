// consumer.endpoint on the two shared real API servers: an existing execute-api endpoint (an ACK
// VPCEndpoint xapi does not own, its status written by the test as ACK would after adopting it)
// is used and never modified; a CR that would add a second private-DNS endpoint to that VPC is
// refused before anything is applied.
import { readFileSync } from 'node:fs';
import { ACK } from '../../../src/api/ack.js';
import { OWNER_LABEL, type CrossAccountApi } from '../../../src/api/types.js';
import { endpointGroup, objectNames, ownerLabelValue } from '../../../src/charts/names.js';
import { startOperator, type RunningOperator } from '../../../src/reconciler/operator.js';
import { clients, deleteNamespace, ensureNamespace, exampleCr, getAck, kubeconfigPath, listAck, readyConditions, runSuffix, setAckStatus, sleep, until } from '../helpers.js';

const RUN = runSuffix();
const NS = `rec-ep-${RUN}`;
const A_NS = `rec-ep-a-${RUN}`;
const B_NS = `rec-ep-b-${RUN}`;
const EXISTING = 'vpce-0feedfacefeedface';
const NETWORK_SG = 'sg-0netteam00000000a';
const silent = { info() {}, warn() {}, error() {} };
const xapi = { group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis' };

let a: ReturnType<typeof clients>;
let b: ReturnType<typeof clients>;
let op: RunningOperator;

function crFor(name: string): CrossAccountApi {
  const cr = exampleCr(name, NS);
  delete cr.spec.consumer.cluster;
  cr.spec.consumer.namespace = A_NS;
  cr.spec.provider.namespace = B_NS;
  cr.spec.provider.cluster = { secretName: 'rec-ep-cluster-b' };
  return cr;
}
async function getCr(name: string): Promise<CrossAccountApi> {
  return (await a.custom.getNamespacedCustomObject({ ...xapi, namespace: NS, name })) as CrossAccountApi;
}
const cond = (cr: CrossAccountApi, type: string) => cr.status?.conditions?.find((c) => c.type === type);
const ownedBy = async (cr: CrossAccountApi) => {
  const sel = `${OWNER_LABEL}=${ownerLabelValue(cr)}`;
  const out: string[] = [];
  for (const kind of ['SecurityGroup', 'VPCEndpoint', 'Role'] as const) out.push(...(await listAck(a.custom, kind, sel)).map((o) => `${kind}/${o.metadata.name}`));
  for (const kind of ['RestAPI', 'Method', 'Resource'] as const) out.push(...(await listAck(b.custom, kind, sel)).map((o) => `${kind}/${o.metadata.name}`));
  return out;
};

beforeAll(async () => {
  a = clients('A');
  b = clients('B');
  for (const ns of [NS, A_NS]) await ensureNamespace(a.core, ns);
  await ensureNamespace(b.core, B_NS);
  await a.core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'rec-ep-cluster-b', namespace: NS }, stringData: { kubeconfig: readFileSync(kubeconfigPath('B'), 'utf8') } } });
  // The network team's endpoint, adopted by ACK: no xapi label, private DNS on, its own policy.
  const ref = ACK.VPCEndpoint;
  await a.custom.createNamespacedCustomObject({
    group: ref.group,
    version: ref.version,
    plural: ref.plural,
    namespace: A_NS,
    body: {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: 'network-team-execute-api', namespace: A_NS },
      spec: {
        serviceName: 'com.amazonaws.us-east-1.execute-api',
        vpcEndpointType: 'Interface',
        vpcID: exampleCr().spec.consumer.vpcId,
        subnetIDs: exampleCr().spec.consumer.subnetIds,
        securityGroupIDs: [NETWORK_SG],
        privateDNSEnabled: true,
        policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: '*' }] }),
      },
    },
  });
  await setAckStatus(a.custom, 'VPCEndpoint', A_NS, 'network-team-execute-api', { vpcEndpointID: EXISTING, state: 'available', conditions: readyConditions() });
  op = await startOperator({ kubeconfig: kubeconfigPath('A'), namespace: NS, metricsPort: 0, healthPort: 0, logger: silent, baseBackoffMs: 100, maxBackoffMs: 1000 });
});

afterAll(async () => {
  await op?.stop();
  if (a) for (const ns of [NS, A_NS]) await deleteNamespace(a.core, ns);
  if (b) await deleteNamespace(b.core, B_NS);
  await sleep(100);
});

describe('consumer.endpoint on real API servers', () => {
  it('an existing endpoint is used and never modified', async () => {
    const before = await getAck(a.custom, 'VPCEndpoint', A_NS, 'network-team-execute-api');
    const cr = crFor('rec-ep-existing');
    cr.spec.consumer.endpoint = { id: EXISTING };
    await a.custom.createNamespacedCustomObject({ ...xapi, namespace: NS, body: cr });
    const n = objectNames(cr);
    // B's policy names the existing endpoint; the caller group gets egress to its group.
    const api = await until('RestAPI naming the existing endpoint', async () => {
      const o = await getAck(b.custom, 'RestAPI', B_NS, n.restApi).catch(() => undefined);
      return o && String(o.spec?.policy).includes(EXISTING) ? o : undefined;
    }, 60_000);
    expect(JSON.parse(String(api.spec!.policy)).Statement[0].Condition).toEqual({ StringNotEquals: { 'aws:sourceVpce': EXISTING } });
    const sg = await until('caller egress to the endpoint\'s group', async () => {
      const o = await getAck(a.custom, 'SecurityGroup', A_NS, n.callerSecurityGroup).catch(() => undefined);
      return o && JSON.stringify(o.spec?.egressRules).includes(NETWORK_SG) ? o : undefined;
    }, 60_000);
    expect((sg.spec!.egressRules as Array<{ fromPort: number; toPort: number }>).map((r) => [r.fromPort, r.toPort])).toEqual([[443, 443]]);
    const status = await until('status naming the endpoint and layer 2 unmanaged', async () => {
      const c = await getCr('rec-ep-existing');
      return c.status?.endpoint?.id === EXISTING && cond(c, 'EndpointPolicyReady')?.reason === 'Unmanaged' ? c : undefined;
    }, 60_000);
    expect(cond(status, 'EndpointPolicyReady')!.message).toContain(`the policy of ${EXISTING} is not xapi's`);
    // xapi created no endpoint and no endpoint group, and left the existing one as it was
    expect((await ownedBy(cr)).filter((o) => o.startsWith('VPCEndpoint/') || o.includes('endpoint-sg'))).toEqual([]);
    await sleep(1500); // a few more reconciles (status writes, resyncs) must not touch it either
    const after = await getAck(a.custom, 'VPCEndpoint', A_NS, 'network-team-execute-api');
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.spec).toEqual(before.spec);
    expect((after.metadata as { labels?: Record<string, string> }).labels?.[OWNER_LABEL]).toBeUndefined();
  });

  it('a second private-DNS endpoint in that VPC is refused before anything is applied', async () => {
    const cr = crFor('rec-ep-second');
    await a.custom.createNamespacedCustomObject({ ...xapi, namespace: NS, body: cr });
    const refused = await until('EndpointConflict', async () => {
      const c = await getCr('rec-ep-second');
      return cond(c, 'Ready')?.reason === 'EndpointConflict' ? c : undefined;
    }, 60_000);
    expect(cond(refused, 'Ready')!.status).toBe('False');
    expect(cond(refused, 'Ready')!.message).toContain(`VPCEndpoint ${A_NS}/network-team-execute-api (${EXISTING}), not xapi's`);
    expect(cond(refused, 'Degraded')).toMatchObject({ status: 'True', reason: 'EndpointConflict' });
    await sleep(1500);
    expect(await ownedBy(cr)).toEqual([]);
    // The same CR without private DNS of its own may use the VPC: it is admitted and applied.
    const live = await getCr('rec-ep-second');
    live.spec.consumer.endpoint = { privateDns: false };
    await a.custom.replaceNamespacedCustomObject({ ...xapi, namespace: NS, name: 'rec-ep-second', body: live });
    // (its VPC's shared endpoint, labelled with its group, not with the CR)
    const vpce = await until('its own endpoint, private DNS off', async () => (await listAck(a.custom, 'VPCEndpoint', `xapi.dev/endpoint-group=${endpointGroup(live)!.label}`))[0], 60_000);
    expect(vpce.spec?.privateDNSEnabled).toBe(false);
  });
});
