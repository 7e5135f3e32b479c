// `xapi status` against real API servers: a CR in cluster A whose provider side lives in cluster
// B (named by a kubeconfig Secret). The test plays the operator (CR status) and ACK (object status).
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ACK, type AckKindName } from '../../../src/api/ack.js';
import type { CrossAccountApi, KubeObject } from '../../../src/api/types.js';
import { objectNames } from '../../../src/charts/names.js';
import { renderObjects } from '../../../src/charts/render.js';
import { registerStatus } from '../../../src/cli/commands/status.js';
import type { CliIo } from '../../../src/cli/io.js';
import { clients, ensureNamespace, exampleCr, kubeconfigPath, readyConditions, setAckStatus } from '../helpers.js';

const SUFFIX = Math.random().toString(36).slice(2, 7);
const NS = `status-${SUFFIX}`;
const A_NS = `status-a-${SUFFIX}`;
const B_NS = `status-b-${SUFFIX}`;
const VPCE = 'vpce-0123456789abcdef0';
const IDS = { callerSecurityGroupId: 'sg-0caller000000000001', endpointSecurityGroupId: 'sg-0endpoint0000000002', restApiId: 'a1b2c3d4e5', rootResourceId: 'rootid0001', allowedEndpointIds: [VPCE] };
const a = clients('A');
const b = clients('B');
const xapi = { group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis' };

async function status(args: string[]): Promise<{ out: string; err: string; code: number | undefined }> {
  let out = '';
  let err = '';
  let code: number | undefined;
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), exitCode: (c) => void (code = c) };
  const program = new Command('xapi').exitOverride();
  registerStatus(program, io);
  await program.parseAsync(['node', 'xapi', 'status', '--kubeconfig', kubeconfigPath('A'), '--namespace', NS, ...args]);
  return { out, err, code };
}

const cond = (type: string, ok: boolean, reason: string, message: string, generation: number) => ({
  type, status: ok ? 'True' : 'False', reason, message, lastTransitionTime: new Date().toISOString(), observedGeneration: generation,
});

async function setCrStatus(name: string, layerOk: [boolean, boolean, boolean, boolean]): Promise<void> {
  const cr = (await a.custom.getNamespacedCustomObject({ ...xapi, namespace: NS, name })) as CrossAccountApi;
  const gen = cr.metadata.generation!;
  const names = ['SecurityGroupsReady', 'EndpointPolicyReady', 'ResourcePolicyReady', 'IamAuthReady'];
  const layers = names.map((t, i) => cond(t, layerOk[i]!, layerOk[i] ? 'Ready' : 'Pending', layerOk[i] ? 'objects ready' : `${t}: Method/orders-x: waiting for ACK`, gen));
  const all = layerOk.every(Boolean);
  const notReady = layers.find((l) => l.status !== 'True');
  const body = {
    ...cr,
    status: {
      observedGeneration: gen,
      conditions: [cond('Ready', all, all ? 'Ready' : 'Pending', all ? 'all four layers are in place' : `${notReady!.type}: ${notReady!.message}`, gen), ...layers, cond('Degraded', false, 'AsExpected', 'no problems', gen)],
      endpoint: { id: VPCE, state: 'available', dnsNames: ['vpce-0123456789abcdef0-abc.execute-api.us-east-1.vpce.amazonaws.com'], name: objectNames(cr).vpcEndpoint, sharedBy: 3 },
      allowedEndpoints: [{ id: VPCE }],
      api: { id: IDS.restApiId, stage: 'prod', invokeUrl: `https://${IDS.restApiId}.execute-api.us-east-1.amazonaws.com/prod` },
      securityGroups: { callerId: IDS.callerSecurityGroupId, endpointId: IDS.endpointSecurityGroupId },
      layers: `${layerOk.filter(Boolean).length}/4`,
    },
  };
  await a.custom.replaceNamespacedCustomObjectStatus({ ...xapi, namespace: NS, name, body });
}

async function createAck(custom: typeof a.custom, o: KubeObject): Promise<void> {
  const kind = o.kind as AckKindName;
  const r = ACK[kind];
  await custom.createNamespacedCustomObject({ group: r.group, version: r.version, plural: r.plural, namespace: o.metadata.namespace!, body: o });
}

let cr: CrossAccountApi;
let rendered: { consumer: KubeObject[]; provider: KubeObject[] };

beforeAll(async () => {
  for (const ns of [NS, A_NS]) await ensureNamespace(a.core, ns);
  await ensureNamespace(b.core, B_NS);
  await a.core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'cluster-b', namespace: NS }, stringData: { kubeconfig: readFileSync(kubeconfigPath('B'), 'utf8') } } });
  cr = exampleCr('orders', NS);
  delete cr.spec.consumer.cluster;
  cr.spec.consumer.namespace = A_NS;
  cr.spec.provider.namespace = B_NS;
  cr.spec.provider.cluster = { secretName: 'cluster-b' };
  await a.custom.createNamespacedCustomObject({ ...xapi, namespace: NS, body: cr });
  rendered = renderObjects(cr, IDS);
  for (const o of rendered.consumer) await createAck(a.custom, o);
  for (const o of rendered.provider) await createAck(b.custom, o);
  for (const o of rendered.consumer) await setAckStatus(a.custom, o.kind as AckKindName, A_NS, o.metadata.name, { conditions: readyConditions() });
  // Every provider object ready except the Stage, which ACK still reports as syncing.
  for (const o of rendered.provider) {
    const conditions = o.kind === 'Stage'
      ? [{ type: 'Ready', status: 'False', reason: 'Syncing', message: 'waiting for the Deployment', lastTransitionTime: new Date().toISOString() }]
      : readyConditions();
    await setAckStatus(b.custom, o.kind as AckKindName, B_NS, o.metadata.name, { conditions });
  }
});

describe('xapi status against real API servers', () => {
  it('a CR without a status: exit 1, every layer NotReported', async () => {
    await a.custom.createNamespacedCustomObject({ ...xapi, namespace: NS, body: { ...exampleCr('fresh', NS), spec: { ...cr.spec } } });
    const { out, code } = await status(['fresh', '--output', 'json']);
    expect(code).toBe(1);
    const item = JSON.parse(out).items[0];
    expect([item.ready, item.reason]).toEqual([false, 'NotReported']);
    expect(item.layers.map((l: { status: string }) => l.status)).toEqual(['Unknown', 'Unknown', 'Unknown', 'Unknown']);
  });

  it('layer 4 not ready: exit 1, the table shows IamAuthReady False and the IDs', async () => {
    await setCrStatus('orders', [true, true, true, false]);
    const { out, code } = await status(['orders']);
    expect(code).toBe(1);
    expect(out).toMatch(new RegExp(`^${NS}/orders  Ready=False \\(Pending\\)  layers 3/4`, 'm'));
    expect(out).toMatch(/^4\s+IamAuthReady\s+False\s+Pending\s+IamAuthReady: Method\/orders-x: waiting for ACK/m);
    expect(out).toMatch(/^1\s+SecurityGroupsReady\s+True\s+Ready/m);
    expect(out).toContain(`endpoint ${VPCE} (available) ${objectNames(cr).vpcEndpoint}, shared by 3 API(s)`);
    expect(out).toMatch(/api a1b2c3d4e5 stage prod https:\/\/a1b2c3d4e5\.execute-api\.us-east-1\.amazonaws\.com\/prod/);
  });

  it('all layers ready: exit 0; ACK objects read from both clusters with their Ready state', async () => {
    await setCrStatus('orders', [true, true, true, true]);
    const { out, code } = await status(['orders', '--output', 'json']);
    expect(code).toBe(0);
    const parsed = JSON.parse(out);
    expect(parsed.ready).toBe(true);
    const item = parsed.items[0];
    expect(item.layers.map((l: { layer: number; status: string }) => [l.layer, l.status])).toEqual([[1, 'True'], [2, 'True'], [3, 'True'], [4, 'True']]);
    expect(item.ids).toMatchObject({ endpointId: VPCE, endpointName: objectNames(cr).vpcEndpoint, endpointSharedBy: 3, restApiId: 'a1b2c3d4e5', allowedEndpoints: [VPCE], callerSecurityGroupId: IDS.callerSecurityGroupId });
    expect(item.unreachable).toEqual([]);
    const accountA = item.objects.filter((o: { account: string }) => o.account === 'A');
    const accountB = item.objects.filter((o: { account: string }) => o.account === 'B');
    expect(accountA).toHaveLength(rendered.consumer.length);
    expect(accountB).toHaveLength(rendered.provider.length);
    const stage = accountB.find((o: { kind: string }) => o.kind === 'Stage');
    expect([stage.ready, stage.message]).toEqual([false, expect.stringMatching(/waiting for the Deployment/)]);
    expect(accountA.every((o: { ready: boolean }) => o.ready)).toBe(true);
  });

  it('shows AuditReady and the cost estimate, with the log groups\' stored bytes, and AuditReady does not decide the exit code', async () => {
    const current = (await a.custom.getNamespacedCustomObject({ ...xapi, namespace: NS, name: 'orders' })) as CrossAccountApi;
    const audit = { type: 'AuditReady', status: 'False', reason: 'AccessLogsNotOnStage', message: 'run aws apigateway update-stage', lastTransitionTime: new Date().toISOString() };
    await a.custom.replaceNamespacedCustomObjectStatus({ ...xapi, namespace: NS, name: 'orders', body: { ...current, status: { ...current.status, conditions: [...current.status!.conditions!, audit] } } });
    const groups = [...rendered.consumer.map((o) => [a.custom, A_NS, o] as const), ...rendered.provider.map((o) => [b.custom, B_NS, o] as const)].filter(([, , o]) => o.kind === 'LogGroup');
    expect(groups).toHaveLength(2);
    for (const [custom, ns, o] of groups) await setAckStatus(custom, 'LogGroup', ns, o.metadata.name, { conditions: readyConditions(), storedBytes: 5e9 });
    const json = await status(['orders', '--output', 'json']);
    expect(json.code).toBe(0);
    const item = JSON.parse(json.out).items[0];
    expect(item.audit).toEqual({ status: 'False', reason: 'AccessLogsNotOnStage', message: 'run aws apigateway update-stage' });
    // the endpoint is shared by 3 APIs (status.endpoint.sharedBy): each carries a third of its cost
    expect(item.cost).toMatchObject({ azCount: 2, sharedBy: 3, endpointMonthlyUsd: 14.6, shareMonthlyUsd: 4.87, logStorageMonthlyUsd: 0.3 });
    const table = await status(['orders']);
    expect(table.out).toMatch(/^  AuditReady=False \(AccessLogsNotOnStage\): run aws apigateway update-stage$/m);
    expect(table.out).toMatch(/^  cost: \$14\.60\/month endpoint \(2 AZ\), your share \$4\.87 \(shared by 3\) \+ log storage \$0\.30 \+ \$0\.01\/GB processed/m);
  });

  it('a spec changed since the status was written: stale, exit 1', async () => {
    const current = (await a.custom.getNamespacedCustomObject({ ...xapi, namespace: NS, name: 'orders' })) as CrossAccountApi;
    await a.custom.replaceNamespacedCustomObject({ ...xapi, namespace: NS, name: 'orders', body: { ...current, spec: { ...current.spec, rotation: { gracePeriodSeconds: 600 } } } });
    const { out, code } = await status(['orders', '--output', 'json']);
    expect(code).toBe(1);
    expect(JSON.parse(out).items[0].reason).toBe('Stale');
    await setCrStatus('orders', [true, true, true, true]);
    expect((await status(['orders'])).code).toBe(0);
  });

  it('without a name: every CR in the namespace; exit 1 because one is not Ready', async () => {
    const { out, code } = await status(['--output', 'json']);
    expect(code).toBe(1);
    expect(JSON.parse(out).items.map((i: { name: string }) => i.name)).toEqual(['fresh', 'orders']);
  });

  it('an unreachable provider cluster is reported, not fatal', async () => {
    await a.core.deleteNamespacedSecret({ name: 'cluster-b', namespace: NS });
    const { out, code } = await status(['orders', '--output', 'json']);
    expect(code).toBe(0); // the operator's Ready decides; the gap is shown
    const item = JSON.parse(out).items[0];
    expect(item.unreachable.join('\n')).toMatch(/account B \(cluster Secret cluster-b, namespace status-b-\w+\): cannot read the cluster Secret: HTTP 404/);
    expect(item.objects.every((o: { account: string }) => o.account === 'A')).toBe(true);
  });

  it('an unknown name: exit 1 with a message', async () => {
    const { err, code } = await status(['nope']);
    expect(code).toBe(1);
    expect(err).toMatch(new RegExp(`crossaccountapi ${NS}/nope not found`));
  });
});
