// The operator against the two shared real API servers. The test plays the ACK controllers by
// writing the ACK objects' status. CRs live in cluster A; the provider side goes to cluster B
// through a kubeconfig Secret, the consumer side stays in A.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { createHash } from 'node:crypto';
import { endpointGroup, objectNames, ownerLabelValue } from '../../../src/charts/names.js';
import { OWNER_LABEL, type CrossAccountApi } from '../../../src/api/types.js';
import { validateSpec } from '../../../src/api/validate.js';
import { NAMESPACE_SETTLE_MS } from '../../../src/reconciler/cluster.js';
import { startOperator, type RunningOperator } from '../../../src/reconciler/operator.js';
import { clients, deleteNamespace, ensureNamespace, exampleCr, getAck, kubeconfigPath, kubectlPath, listAck, mutateAck, playAckSync, readyConditions, setAckStatus, sleep, until } from '../helpers.js';

const run = promisify(execFile);
// A fresh suffix per run: envtest has no namespace controller, so deleted namespaces never go away.
const RUN = Date.now().toString(36).slice(-5);
const NS = `rec-op-${RUN}`;
const A_NS = `rec-op-a-${RUN}`;
const B_NS = `rec-op-b-${RUN}`;
const silent = { info() {}, warn() {}, error() {} };

let a: ReturnType<typeof clients>;
let b: ReturnType<typeof clients>;
let op: RunningOperator;
let proxy: Server | undefined;
const sockets = new Set<Socket>();


function crFor(name: string, secretName = 'rec-cluster-b'): CrossAccountApi {
  const cr = exampleCr(name, NS);
  delete cr.spec.consumer.cluster;
  cr.spec.consumer.namespace = A_NS;
  cr.spec.provider.namespace = B_NS;
  cr.spec.provider.cluster = { secretName };
  cr.spec.rotation = { gracePeriodSeconds: 5 };
  // A VPC per CR: each gets an endpoint group (shared endpoint) of its own.
  cr.spec.consumer.vpcId = `vpc-0${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
  return cr;
}
/** Selects the shared objects of a CR's endpoint group. */
const groupSel = (cr: CrossAccountApi) => `xapi.dev/endpoint-group=${endpointGroup(cr)!.label}`;

async function createCr(cr: CrossAccountApi) {
  await a.custom.createNamespacedCustomObject({ group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis', namespace: NS, body: cr });
}
async function getCr(name: string): Promise<CrossAccountApi> {
  return (await a.custom.getNamespacedCustomObject({ group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis', namespace: NS, name })) as CrossAccountApi;
}
/** Read-modify-write of a CR as a user would, retried when the operator wrote in between (409). */
async function mutateCr(name: string, change: (cr: CrossAccountApi) => void): Promise<void> {
  for (let i = 0; ; i++) {
    const live = await getCr(name);
    change(live);
    try {
      await a.custom.replaceNamespacedCustomObject({ group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis', namespace: NS, name, body: live });
      return;
    } catch (err) {
      if ((err as { code?: number }).code !== 409 || i > 30) throw err;
    }
  }
}

async function crGone(name: string): Promise<boolean> {
  try {
    await getCr(name);
    return false;
  } catch (err) {
    return (err as { code?: number }).code === 404;
  }
}
const cond = (cr: CrossAccountApi, type: string) => cr.status?.conditions?.find((c) => c.type === type);

async function kubeconfigSecret(name: string, kubeconfig: string) {
  const body = { metadata: { name, namespace: NS }, stringData: { kubeconfig } };
  try {
    await a.core.createNamespacedSecret({ namespace: NS, body });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
    await a.core.replaceNamespacedSecret({ name, namespace: NS, body });
  }
}

/**
 * Make every ACK object of a CR report Ready, with the IDs AWS would assign: one ACK sync of each
 * object that is new, changed since its last sync, or not yet reporting these IDs.
 */
async function playAck(cr: CrossAccountApi, endpointId = 'vpce-0aaa') {
  const n = objectNames(cr);
  await playAckSync(a.custom, 'SecurityGroup', A_NS, n.callerSecurityGroup, { id: `sg-caller-${cr.metadata.name}` });
  await playAckSync(a.custom, 'SecurityGroup', A_NS, n.endpointSecurityGroup, { id: `sg-endpoint-${cr.metadata.name}` });
  // The shared endpoint's objects carry the group label, not the CR's owner label.
  await playAckSync(a.custom, 'VPCEndpoint', A_NS, n.vpcEndpoint, { vpcEndpointID: endpointId, state: 'available', dnsEntries: [{ dnsName: 'x.vpce.example' }] });
  // Everything else the render produced: Ready, and Role with its ARN. ACK reports on the objects
  // it found when it looked: the operator may create more while this runs, and those wait.
  const owner = `${OWNER_LABEL}=${ownerLabelValue(cr)}`;
  const found = [];
  for (const [kind, c, ns] of [['Role', a, A_NS], ['Function', a, A_NS], ['Resource', b, B_NS], ['Method', b, B_NS], ['Integration', b, B_NS], ['Deployment', b, B_NS], ['Stage', b, B_NS]] as const) {
    found.push({ kind, c, ns, objs: await listAck(c.custom, kind, owner) });
  }
  await playAckSync(b.custom, 'RestAPI', B_NS, n.restApi, { id: `api${cr.metadata.name.replace(/[^a-z0-9]/g, '')}`, rootResourceID: 'rootres1' });
  for (const { kind, c, ns, objs } of found) {
    for (const o of objs) {
      const extra = kind === 'Role' ? { ackResourceMetadata: { arn: `arn:aws:iam::111111111111:role/${cr.spec.consumer.roleName}`, ownerAccountID: '111111111111', region: 'us-east-1' } } : kind === 'Resource' ? { id: `res-${o.metadata.name.slice(-6)}` } : {};
      // an object the operator pruned meanwhile (a superseded Deployment) gets no report
      await playAckSync(c.custom, kind, ns, o.metadata.name, extra);
    }
  }
}

beforeAll(async () => {
  a = clients('A');
  b = clients('B');
  for (const ns of [NS, A_NS]) await ensureNamespace(a.core, ns);
  await ensureNamespace(b.core, B_NS);
  await kubeconfigSecret('rec-cluster-b', readFileSync(kubeconfigPath('B'), 'utf8'));
  op = await startOperator({ kubeconfig: kubeconfigPath('A'), namespace: NS, metricsPort: 0, healthPort: 0, logger: silent, baseBackoffMs: 100, maxBackoffMs: 1000 });
});

afterAll(async () => {
  await op?.stop();
  for (const s of sockets) s.destroy();
  proxy?.close();
  if (a) for (const ns of [NS, A_NS]) await deleteNamespace(a.core, ns);
  if (b) await deleteNamespace(b.core, B_NS);
  await sleep(100);
});

describe('operator on two real API servers', () => {
  const cr = crFor('rec-orders');
  const n = objectNames(cr);

  it('applies the objects to both clusters and wires every ID where it belongs', async () => {
    await createCr(cr);
    await until('ACK objects in A', async () => (await listAck(a.custom, 'VPCEndpoint', groupSel(cr))).length === 1);
    await until('ACK objects in B', async () => (await listAck(b.custom, 'RestAPI', `${OWNER_LABEL}=${ownerLabelValue(cr)}`)).length === 1);
    await playAck(cr);
    await until('SG IDs in each other rules', async () => {
      const caller = JSON.stringify((await getAck(a.custom, 'SecurityGroup', A_NS, n.callerSecurityGroup)).spec);
      const endpoint = JSON.stringify((await getAck(a.custom, 'SecurityGroup', A_NS, n.endpointSecurityGroup)).spec);
      return caller.includes('sg-endpoint-rec-orders') && endpoint.includes('sg-caller-rec-orders');
    });
    await until('endpoint ID in B resource policy', async () => String((await getAck(b.custom, 'RestAPI', B_NS, n.restApi)).spec?.policy).includes('vpce-0aaa'));
    await until('API ID in A endpoint policy', async () => String((await getAck(a.custom, 'VPCEndpoint', A_NS, n.vpcEndpoint)).spec?.policyDocument).includes('apirecorders'));
    const sel = `${OWNER_LABEL}=${ownerLabelValue(cr)}`;
    await until('root resource ID in Resources', async () => (await listAck(b.custom, 'Resource', sel)).some((r) => JSON.stringify(r.spec).includes('rootres1')));
    // API Gateway's order, which ACK does not enforce: no Integration before its Method exists in
    // AWS, no Deployment before every Integration does.
    await until('Methods', async () => (await listAck(b.custom, 'Method', sel)).length === 3);
    expect(await listAck(b.custom, 'Integration', sel)).toEqual([]);
    expect(await listAck(b.custom, 'Deployment', sel)).toEqual([]);
    await playAck(cr); // Methods created
    await until('Integrations once Methods exist', async () => (await listAck(b.custom, 'Integration', sel)).length === 3);
    await sleep(300);
    expect(await listAck(b.custom, 'Deployment', sel)).toEqual([]);
    await playAck(cr); // Integrations created
    // ACK keeps syncing what changes meanwhile: the RestAPI's policy change, which the Deployment waits for.
    await until('Deployment once Integrations exist', async () => {
      await playAck(cr);
      return (await listAck(b.custom, 'Deployment', sel)).length === 1 && (await listAck(b.custom, 'Stage', sel)).length === 1;
    });
    await playAck(cr);
    const { stdout } = await run(kubectlPath(), ['--kubeconfig', kubeconfigPath('A'), '-n', NS, 'wait', '--for=condition=Ready', `xapi/${cr.metadata.name}`, '--timeout=30s']);
    expect(stdout).toContain('condition met');
    const live = await getCr(cr.metadata.name);
    expect(live.status?.layers).toBe('4/4');
    expect(live.status?.allowedEndpoints).toEqual([{ id: 'vpce-0aaa' }]);
    expect(live.status?.api?.id).toBe('apirecorders');
  });

  it('rotates: old + new endpoint, then only the new after the grace', async () => {
    await setAckStatus(a.custom, 'VPCEndpoint', A_NS, n.vpcEndpoint, { vpcEndpointID: 'vpce-0bbb', state: 'available', conditions: readyConditions() });
    const both = await until('old and new in policy', async () => {
      const p = String((await getAck(b.custom, 'RestAPI', B_NS, n.restApi)).spec?.policy);
      return p.includes('vpce-0bbb') && p.includes('vpce-0aaa') && p;
    });
    expect(both).toBeTruthy();
    await sleep(500);
    expect(String((await getAck(b.custom, 'RestAPI', B_NS, n.restApi)).spec?.policy)).toContain('vpce-0aaa');
    await until('old dropped after grace', async () => !String((await getAck(b.custom, 'RestAPI', B_NS, n.restApi)).spec?.policy).includes('vpce-0aaa'), 30_000);
    expect(String((await getAck(b.custom, 'RestAPI', B_NS, n.restApi)).spec?.policy)).toContain('vpce-0bbb');
    // status is written after the apply that dropped the old ID
    await until('status lists only the new endpoint', async () => (await getCr(cr.metadata.name)).status?.allowedEndpoints?.length === 1);
    expect((await getCr(cr.metadata.name)).status?.allowedEndpoints).toEqual([{ id: 'vpce-0bbb' }]);
  });

  it('reports an ACK.Terminal object with a useful reason', async () => {
    await setAckStatus(b.custom, 'RestAPI', B_NS, n.restApi, {
      id: 'apirecorders',
      rootResourceID: 'rootres1',
      conditions: [{ type: 'ACK.Terminal', status: 'True', message: 'BadRequestException: Invalid policy document', lastTransitionTime: new Date().toISOString() }],
    });
    await expect(run(kubectlPath(), ['--kubeconfig', kubeconfigPath('A'), '-n', NS, 'wait', '--for=condition=Ready', `xapi/${cr.metadata.name}`, '--timeout=2s'])).rejects.toThrow();
    const live = await until('Terminal reason', async () => {
      const c = await getCr(cr.metadata.name);
      return cond(c, 'Ready')?.reason === 'Terminal' && c;
    });
    expect(cond(live, 'Ready')?.message).toContain('Invalid policy document');
    expect(cond(live, 'Degraded')?.status).toBe('True');
    // ACK syncs the RestAPI again, then what the operator writes after it (the Deployment of the rotated policy).
    await until('Ready again', async () => {
      await playAck(cr, 'vpce-0bbb');
      return cond(await getCr(cr.metadata.name), 'Ready')?.status === 'True';
    });
  });

  // Issue 17: what only the operator's validator used to reject (a roleArn in another account) is
  // now refused at admission in the validator's words, so no CR reaches the operator's InvalidSpec path.
  it('a spec the validator rejects never reaches the operator: admission refuses it in the same words, nothing is written', async () => {
    const bad = crFor('rec-invalid');
    bad.spec.consumer.roleArn = 'arn:aws:iam::333333333333:role/orders-caller';
    const offline = validateSpec(bad.spec);
    expect(offline.ok).toBe(false);
    const words = offline.ok ? '' : offline.errors.find((e) => e.path === 'spec.consumer.roleArn')!.message.split(' (')[0]!;
    const err = await createCr(bad).then(() => undefined, (e: unknown) => e);
    expect((err as { code?: number } | undefined)?.code).toBe(422);
    expect(String((err as { body?: unknown }).body)).toContain(`spec.consumer.roleArn: Invalid value: ${words}`);
    const sel = `${OWNER_LABEL}=${ownerLabelValue(bad)}`;
    expect(await listAck(a.custom, 'SecurityGroup', sel)).toEqual([]);
    expect(await listAck(b.custom, 'RestAPI', sel)).toEqual([]);
  });

  it('goes Degraded while the remote cluster is unreachable and recovers', async () => {
    const target = new URL(parse(readFileSync(kubeconfigPath('B'), 'utf8')).clusters[0].cluster.server as string);
    let open = true;
    proxy = createServer((client) => {
      if (!open) return client.destroy();
      const up = connect(Number(target.port), target.hostname);
      sockets.add(client).add(up);
      client.pipe(up).pipe(client);
      client.on('error', () => up.destroy());
      up.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => proxy!.listen(0, '127.0.0.1', () => r()));
    const port = (proxy.address() as { port: number }).port;
    const kc = parse(readFileSync(kubeconfigPath('B'), 'utf8'));
    kc.clusters[0].cluster.server = `https://127.0.0.1:${port}`;
    await kubeconfigSecret('rec-cluster-b-proxy', stringify(kc));
    const flaky = crFor('rec-flaky', 'rec-cluster-b-proxy');
    await createCr(flaky);
    // every object the render puts in B (the RestAPI, and the audit trail's log group and event
    // data store) is there before the proxy closes, so no apply of them is cut off midway
    const inB = async (kind: 'RestAPI' | 'LogGroup' | 'EventDataStore') => (await listAck(b.custom, kind, `${OWNER_LABEL}=${ownerLabelValue(flaky)}`)).length === 1;
    await until('objects in B via proxy', async () => (await inB('RestAPI')) && (await inB('LogGroup')) && (await inB('EventDataStore')));
    open = false;
    for (const s of sockets) s.destroy();
    sockets.clear();
    const degraded = await until('Degraded', async () => {
      const c = await getCr('rec-flaky');
      return cond(c, 'Degraded')?.status === 'True' && c;
    });
    expect(cond(degraded, 'Degraded')?.reason).toBe('ClusterUnreachable');
    expect(cond(degraded, 'Degraded')?.message).toContain('rec-cluster-b-proxy');
    open = true;
    await until('recovered', async () => cond(await getCr('rec-flaky'), 'Degraded')?.status === 'False', 30_000);
  });

  it('moves a side to another namespace: objects follow, the old ones are pruned, the new namespace gets CARM', async () => {
    const moving = crFor('rec-move');
    const sel = `${OWNER_LABEL}=${ownerLabelValue(moving)}`;
    await createCr(moving);
    const shared = async (c: CrossAccountApi) => [...(await listAck(a.custom, 'SecurityGroup', groupSel(c))), ...(await listAck(a.custom, 'VPCEndpoint', groupSel(c)))];
    await until('SGs in the first namespace', async () => (await listAck(a.custom, 'SecurityGroup', sel)).filter((o) => o.metadata?.namespace === A_NS).length === 1 && (await shared(moving)).length === 2);
    const moved = `${A_NS}-moved`;
    await mutateCr('rec-move', (live) => {
      live.spec.consumer.namespace = moved;
      // Another consumer namespace is another endpoint group: in the same VPC as the other CRs'
      // endpoint it would be a second private-DNS endpoint, refused (src/policy/vpc-endpoints.ts).
      live.spec.consumer.vpcId = 'vpc-0d0d0d0d0d0d0d0d0';
    });
    // The namespace is part of the endpoint group: the CR joins a new group there, the old one drains.
    const movedCr = { ...moving, spec: { ...moving.spec, consumer: { ...moving.spec.consumer, namespace: moved, vpcId: 'vpc-0d0d0d0d0d0d0d0d0' } } };
    expect(groupSel(movedCr)).not.toBe(groupSel(moving));
    await until('objects only in the new namespace', async () => {
      const sgs = await listAck(a.custom, 'SecurityGroup', sel);
      const now = await shared(movedCr);
      return sgs.length === 1 && now.length === 2 && (await shared(moving)).length === 0 && [...sgs, ...now].every((o) => o.metadata?.namespace === moved);
    }, 120_000);
    const ns = await a.core.readNamespace({ name: moved });
    expect(ns.metadata?.annotations).toMatchObject({ 'services.k8s.aws/owner-account-id': moving.spec.consumer.accountId, 'services.k8s.aws/default-region': moving.spec.region });
    // Nothing landed in the new namespace before ACK could know its account (creation times are
    // whole seconds on the server: one second of slack).
    const nsCreated = new Date(ns.metadata!.creationTimestamp!).getTime();
    for (const o of [...(await listAck(a.custom, 'SecurityGroup', sel)), ...(await shared(movedCr))]) {
      expect(new Date((o.metadata as { creationTimestamp?: string }).creationTimestamp!).getTime() - nsCreated).toBeGreaterThanOrEqual(NAMESPACE_SETTLE_MS - 1000);
    }
    // the provider side, in the other cluster, is untouched
    expect((await listAck(b.custom, 'RestAPI', sel)).map((o) => o.metadata?.namespace)).toEqual([B_NS]);
  });

  it('refuses to apply into a namespace annotated for another account, and says so', async () => {
    const foreign = `${B_NS}-foreign`;
    await b.core.createNamespace({ body: { metadata: { name: foreign, annotations: { 'services.k8s.aws/owner-account-id': '999999999999' } } } });
    try {
      const wrong = crFor('rec-carm');
      wrong.spec.provider.namespace = foreign;
      await createCr(wrong);
      const ready = await until('NamespaceConflict', async () => {
        const c = cond(await getCr('rec-carm'), 'Ready');
        return c?.reason === 'NamespaceConflict' ? c : undefined;
      });
      expect(ready.status).toBe('False');
      expect(ready.message).toContain('services.k8s.aws/owner-account-id=999999999999, not 222222222222');
      await sleep(1000);
      const sel = `${OWNER_LABEL}=${ownerLabelValue(wrong)}`;
      expect((await listAck(b.custom, 'RestAPI', sel)).filter((o) => o.metadata?.namespace === foreign)).toEqual([]);
      await a.custom.deleteNamespacedCustomObject({ group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis', namespace: NS, name: 'rec-carm' });
      await until('CR gone', () => crGone('rec-carm'), 60_000);
    } finally {
      await deleteNamespace(b.core, foreign);
    }
  });

  it('deletes dependants first: nothing else goes while the Stage is still being deleted, and says so', async () => {
    const del = crFor('rec-del');
    const sel = `${OWNER_LABEL}=${ownerLabelValue(del)}`;
    const dn = objectNames(del);
    await createCr(del);
    await until('Stage', async () => {
      await playAck(del);
      return (await listAck(b.custom, 'Stage', sel)).length === 1;
    }, 30_000, 200);
    // Hold the Stage as ACK does while AWS deletes it.
    const finalizers = (list: string[]) => (o: { metadata: object }) => Object.assign(o.metadata, { finalizers: list });
    await mutateAck(b.custom, 'Stage', B_NS, dn.stage, finalizers(['test.xapi.dev/hold']));
    await a.custom.deleteNamespacedCustomObject({ group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis', namespace: NS, name: 'rec-del' });

    const deleting = await until('Deleting status', async () => {
      const c = cond(await getCr('rec-del'), 'Ready');
      return c?.reason === 'Deleting' && c.message.includes(`Stage/${dn.stage}`) ? c : undefined;
    });
    expect(deleting.status).toBe('False');
    await sleep(500);
    const marked = async (kind: 'RestAPI' | 'Method' | 'Resource' | 'Integration' | 'Deployment') =>
      (await listAck(b.custom, kind, sel)).filter((o) => (o.metadata as { deletionTimestamp?: string }).deletionTimestamp).length;
    for (const kind of ['RestAPI', 'Method', 'Resource', 'Integration', 'Deployment'] as const) expect([kind, await marked(kind)]).toEqual([kind, 0]);
    // A Stage ACK cannot delete shows up as Degraded with ACK's message.
    await setAckStatus(b.custom, 'Stage', B_NS, dn.stage, { conditions: [{ type: 'ACK.Terminal', status: 'True', message: 'BadRequestException: stage is in use', lastTransitionTime: new Date().toISOString() }] });
    const degraded = await until('Degraded while deleting', async () => {
      const c = cond(await getCr('rec-del'), 'Degraded');
      return c?.status === 'True' ? c : undefined;
    });
    expect(degraded.message).toContain('BadRequestException: stage is in use');
    // Released: the rest goes, tier by tier, and the CR with it.
    await mutateAck(b.custom, 'Stage', B_NS, dn.stage, finalizers([]));
    await until('CR gone', () => crGone('rec-del'), 30_000);
    for (const kind of ['RestAPI', 'Method', 'Resource', 'Integration', 'Deployment', 'Stage'] as const) expect([kind, await listAck(b.custom, kind, sel)]).toEqual([kind, []]);
    expect(await listAck(a.custom, 'SecurityGroup', sel)).toEqual([]);
  });

  it('keeps the finalizer with a clear reason while a cluster is gone, and lets go when told to abandon', async () => {
    const lost = crFor('rec-lost', 'rec-no-such-secret');
    await createCr(lost);
    await until('finalizer', async () => (await getCr('rec-lost')).metadata.finalizers?.includes('xapi.dev/finalizer'));
    await a.custom.deleteNamespacedCustomObject({ group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis', namespace: NS, name: 'rec-lost' });
    const blocked = await until('DeletionBlocked', async () => {
      const c = cond(await getCr('rec-lost'), 'Degraded');
      return c?.reason === 'DeletionBlocked' ? c : undefined;
    });
    expect(blocked.status).toBe('True');
    expect(blocked.message).toMatch(/cannot delete the provider side's objects: .*rec-no-such-secret/);
    expect(blocked.message).toContain('xapi.dev/abandon-unreachable-objects=true');
    await mutateCr('rec-lost', (live) => {
      live.metadata.annotations = { ...(live.metadata.annotations ?? {}), 'xapi.dev/abandon-unreachable-objects': 'true' };
    });
    await until('CR gone', () => crGone('rec-lost'));
  });

  it('deletes the objects in both clusters, then the CR', async () => {
    for (const name of ['rec-orders', 'rec-flaky', 'rec-move']) await a.custom.deleteNamespacedCustomObject({ group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis', namespace: NS, name });
    await until('CRs gone', () => crGone('rec-orders'));
    const sel = `${OWNER_LABEL}=${ownerLabelValue(cr)}`;
    await until('shared endpoint gone with its last member', async () => (await listAck(a.custom, 'VPCEndpoint', groupSel(cr))).length === 0 && (await listAck(a.custom, 'SecurityGroup', groupSel(cr))).length === 0);
    expect(await listAck(a.custom, 'SecurityGroup', sel)).toEqual([]);
    expect(await listAck(b.custom, 'RestAPI', sel)).toEqual([]);
    expect(await listAck(b.custom, 'Method', sel)).toEqual([]);
  });
});
