// The operator install's RBAC is enough, and no more: the ServiceAccount, ClusterRole, Roles and
// bindings that synth renders are applied to a real API server, the operator runs with that
// ServiceAccount's token (leader election on), and reconciles and deletes a CR across both
// clusters; the same identity is refused what it was not granted.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { OWNER_LABEL } from '../../../src/api/types.js';
import { buildApp } from '../../../src/charts/app.js';
import { endpointGroup, ownerLabelValue } from '../../../src/charts/names.js';
import { startOperator, type RunningOperator } from '../../../src/reconciler/operator.js';
import { clients, ensureNamespace, exampleCr, kubeconfigPath, kubectlPath, listAck, until } from '../helpers.js';

const run = promisify(execFile);
const RUN = Date.now().toString(36).slice(-5);
const OP_NS = `rbac-sys-${RUN}`;
const CR_NS = `rbac-crs-${RUN}`;
const A_NS = `rbac-a-${RUN}`; // does not exist: the operator must create it
const B_NS = `rbac-b-${RUN}`;
const SECRET = 'rbac-cluster-b';
const silent = { info() {}, warn() {}, error() {} };

const cr = exampleCr('rbac-orders', CR_NS);
cr.spec.consumer.namespace = A_NS;
delete cr.spec.consumer.cluster;
cr.spec.provider.namespace = B_NS;
cr.spec.provider.cluster = { secretName: SECRET };

let a: ReturnType<typeof clients>;
let b: ReturnType<typeof clients>;
let op: RunningOperator | undefined;
let asOperator: KubeConfig;
const work = mkdtempSync(join(tmpdir(), 'xapi-rbac-'));

beforeAll(async () => {
  a = clients('A');
  b = clients('B');
  await ensureNamespace(a.core, CR_NS);
  await ensureNamespace(b.core, B_NS);
  // The operator install exactly as synth renders it for this CR (its Secret Role lands in CR_NS).
  const app = buildApp([cr], {
    outdir: work,
    operator: { namespace: OP_NS, image: 'xapi:test', replicas: 1 },
    argocd: { repoUrl: 'https://example.invalid/x.git', targetRevision: 'HEAD', basePath: 'manifests', namespace: 'argocd', project: 'default' },
  });
  const install = app.charts.find((c) => c.node.id === 'operator')!.toJson() as { kind: string }[];
  const wanted = install.filter((o) => ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind));
  const applied = await new Promise<string>((resolve, reject) => {
    const child = execFile(kubectlPath(), ['--kubeconfig', kubeconfigPath('A'), 'apply', '--server-side', '--force-conflicts', '-f', '-'], (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)));
    child.stdin!.end(wanted.map((o) => JSON.stringify(o)).join('\n'));
  });
  expect(applied.trim().split('\n')).toHaveLength(wanted.length);

  // The Secret naming cluster B, written by an admin as a user would.
  await a.core.createNamespacedSecret({ namespace: CR_NS, body: { metadata: { name: SECRET }, stringData: { kubeconfig: readFileSync(kubeconfigPath('B'), 'utf8') } } });

  // A token of the operator's ServiceAccount, and a kubeconfig that uses only that.
  const token = await a.core.createNamespacedServiceAccountToken({ name: 'xapi-operator', namespace: OP_NS, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const cluster = a.kc.getCurrentCluster()!;
  asOperator = new KubeConfig();
  asOperator.loadFromOptions({
    clusters: [{ name: 'a', server: cluster.server, ...(cluster.caData ? { caData: cluster.caData } : {}), ...(cluster.caFile ? { caFile: cluster.caFile } : {}), skipTLSVerify: cluster.skipTLSVerify }],
    users: [{ name: 'xapi-operator', token: token.status!.token }],
    contexts: [{ name: 'a', cluster: 'a', user: 'xapi-operator' }],
    currentContext: 'a',
  });
  op = await startOperator({
    kubeConfig: asOperator,
    namespace: CR_NS,
    leaderElect: true,
    leaseName: 'xapi-operator',
    leaseNamespace: OP_NS,
    identity: 'rbac-test',
    metricsPort: 0,
    healthPort: 0,
    logger: silent,
    baseBackoffMs: 100,
    maxBackoffMs: 1000,
  });
});

afterAll(async () => {
  await op?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('the operator as its own ServiceAccount', () => {
  const sel = `${OWNER_LABEL}=${ownerLabelValue(cr)}`;
  const groupSel = `xapi.dev/endpoint-group=${endpointGroup(cr)!.label}`;

  it('is refused what it was not granted', async () => {
    const core = asOperator.makeApiClient(CoreV1Api);
    const code = async (p: Promise<unknown>) => p.then(() => 200, (e: { code?: number }) => e.code);
    expect(await code(core.listNamespacedSecret({ namespace: CR_NS }))).toBe(403);
    expect(await code(core.readNamespacedSecret({ name: 'default-token-none', namespace: CR_NS }))).toBe(403);
    expect(await code(core.listNamespacedPod({ namespace: CR_NS }))).toBe(403);
    expect(await code(core.deleteNamespace({ name: CR_NS }))).toBe(403);
  });

  it('takes the Lease, creates the consumer namespace with CARM, applies both sides and writes status', async () => {
    await until('leader', async () => op!.isLeader);
    await a.custom.createNamespacedCustomObject({ group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis', namespace: CR_NS, body: cr });
    await until(
      "consumer objects in A: the CR's caller group, and its VPC's shared endpoint and group",
      async () => (await listAck(a.custom, 'SecurityGroup', sel)).length === 1 && (await listAck(a.custom, 'SecurityGroup', groupSel)).length === 1 && (await listAck(a.custom, 'VPCEndpoint', groupSel)).length === 1,
      30_000,
    );
    await until('provider objects in B', async () => (await listAck(b.custom, 'RestAPI', sel)).length === 1, 30_000);
    const ns = await a.core.readNamespace({ name: A_NS });
    expect(ns.metadata?.annotations?.['services.k8s.aws/owner-account-id']).toBe(cr.spec.consumer.accountId);
    const live = await until('status', async () => {
      const o = (await a.custom.getNamespacedCustomObject({ group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis', namespace: CR_NS, name: cr.metadata.name })) as typeof cr;
      return o.status?.conditions?.length ? o : undefined;
    });
    expect(live.metadata.finalizers).toContain('xapi.dev/finalizer');
    expect(live.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False'); // ACK has reported nothing yet
    const lease = await run(kubectlPath(), ['--kubeconfig', kubeconfigPath('A'), '-n', OP_NS, 'get', 'lease', 'xapi-operator', '-o', 'jsonpath={.spec.holderIdentity}']);
    expect(lease.stdout).toBe('rbac-test');
  });

  it('records an Event when the CR turns Degraded (its cluster Secret gone), and another when it recovers', async () => {
    const secret = await a.core.readNamespacedSecret({ namespace: CR_NS, name: SECRET });
    await a.core.deleteNamespacedSecret({ namespace: CR_NS, name: SECRET });
    const eventOf = (reason: string) => async () => (await a.core.listNamespacedEvent({ namespace: CR_NS })).items.find((e) => e.involvedObject.name === cr.metadata.name && e.reason === reason);
    const warning = await until('a Warning Event for the missing Secret', eventOf('ClusterSecretUnavailable'), 60_000);
    expect(warning.type).toBe('Warning');
    expect(warning.message).toMatch(/^Degraded=True: provider: cluster Secret .*rbac-cluster-b does not exist/);
    await a.core.createNamespacedSecret({ namespace: CR_NS, body: { metadata: { name: SECRET }, data: secret.data } });
    const recovered = await until('an Event for Degraded=False', async () => (await a.core.listNamespacedEvent({ namespace: CR_NS })).items.find((e) => e.involvedObject.name === cr.metadata.name && e.message?.startsWith('Degraded=False')), 60_000);
    expect(recovered.type).toBe('Normal');
  });

  it('deletes the objects in both clusters, then lets the CR go', async () => {
    await a.custom.deleteNamespacedCustomObject({ group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis', namespace: CR_NS, name: cr.metadata.name });
    await until(
      'CR gone',
      async () =>
        a.custom.getNamespacedCustomObject({ group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis', namespace: CR_NS, name: cr.metadata.name }).then(
          () => false,
          (e: { code?: number }) => e.code === 404,
        ),
      30_000,
    );
    expect(await listAck(a.custom, 'SecurityGroup', sel)).toEqual([]);
    expect(await listAck(b.custom, 'RestAPI', sel)).toEqual([]);
    // The last member gone: the shared endpoint and its group go too.
    await until('shared endpoint gone', async () => (await listAck(a.custom, 'VPCEndpoint', groupSel)).length === 0 && (await listAck(a.custom, 'SecurityGroup', groupSel)).length === 0, 30_000);
  });
});
