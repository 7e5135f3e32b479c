// One cluster for both accounts: the operator renders both sides into cluster A, whose ACK
// controllers reach account A and account B through CARM (each namespace annotated with its
// account, the ack-role-account-map ConfigMap mapping it to a role). Then an endpoint rotation and
// a deletion, read through the AWS API in each account. Steps run in order.
import { stringify } from 'yaml';
import { ACK_ANNOTATION } from '../../src/api/ack.js';
import { DescribeFlowLogsCommand } from '@aws-sdk/client-ec2';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { flowLogNames } from '../../src/charts/audit.js';
import { objectNames } from '../../src/charts/names.js';
import type { CrossAccountApi } from '../../src/api/types.js';
import { E2E_ACCOUNTS } from './accounts.js';
import {
  ackObjects,
  aws,
  clients,
  condition,
  ensureNamespace,
  exampleCr,
  getCr,
  kubectl,
  providerState,
  seedNetwork,
  sourceVpces,
  startOperatorProcess,
  terminalOf,
  until,
  type OperatorProcess,
} from './helpers.js';
import { expectCleanDeletion, expectFourLayers, expectReady, expectRestartChangesNothing } from './layers.js';

const MIN = 60_000;
const GRACE_SECONDS = 60;

function carmCr(): CrossAccountApi {
  const cr = exampleCr();
  cr.metadata = { name: 'orders-carm', namespace: 'e2e-carm' };
  delete cr.spec.consumer.cluster;
  delete cr.spec.provider.cluster;
  cr.spec.consumer = { ...cr.spec.consumer, accountId: E2E_ACCOUNTS.oneCluster.consumer, namespace: 'carm-a', vpcId: 'vpc-0c4a4b0c4a4b0c4a4', subnetIds: ['subnet-0c1c1c1c1c1c1c1c1', 'subnet-0c2c2c2c2c2c2c2c2'] };
  cr.spec.provider = { ...cr.spec.provider, accountId: E2E_ACCOUNTS.oneCluster.provider, namespace: 'carm-b' };
  cr.spec.rotation = { gracePeriodSeconds: GRACE_SECONDS };
  return cr;
}

const cr = carmCr();
const NS = cr.metadata.namespace!;
const names = objectNames(cr);
let operator: OperatorProcess | undefined;

const renderedEndpointPolicy = async () => String((await ackObjects('A', cr)).find((o) => o.kind === 'VPCEndpoint')?.spec.policyDocument);
const ready = async () => condition(await getCr(NS, cr.metadata.name), 'Ready')?.status === 'True';

beforeAll(async () => {
  await seedNetwork(cr);
  await ensureNamespace(clients('A').core, NS);
  operator = await startOperatorProcess('one-cluster', NS);
}, 2 * MIN);

afterAll(async () => {
  await operator?.stop();
});

test('becomes Ready with both sides in one cluster, each namespace mapped to its account by CARM', async () => {
  const applied = await kubectl('A', ['apply', '-f', '-'], stringify(cr));
  expect(applied.code).toBe(0);
  await expectReady(cr, ['A'], 10 * MIN, 'one-cluster');
  const { core } = clients('A');
  for (const [ns, account] of [
    [cr.spec.consumer.namespace, cr.spec.consumer.accountId],
    [cr.spec.provider.namespace, cr.spec.provider.accountId],
  ] as const) {
    expect((await core.readNamespace({ name: ns })).metadata?.annotations?.[ACK_ANNOTATION.ownerAccountId]).toBe(account);
  }
  const objs = await ackObjects('A', cr);
  expect(await ackObjects('B', cr)).toEqual([]);
  // No cloudtrail controller runs (the emulator has no CloudTrail Lake): the event data store stays unprocessed.
  expect(objs.filter((o) => o.kind === 'EventDataStore').map((o) => o.status?.ackResourceMetadata)).toEqual([undefined]);
  for (const o of objs.filter((x) => x.kind !== 'EventDataStore')) {
    const meta = o.status?.ackResourceMetadata as { ownerAccountID?: string } | undefined;
    const account = o.metadata.namespace === cr.spec.consumer.namespace ? cr.spec.consumer.accountId : cr.spec.provider.accountId;
    expect(`${o.kind}/${o.metadata.name} in ${meta?.ownerAccountID}`).toBe(`${o.kind}/${o.metadata.name} in ${account}`);
  }
  await expectFourLayers(cr, await renderedEndpointPolicy());
}, 12 * MIN);

test("the audit trail: flow logs on the endpoint's network interfaces, into a log group with its retention (CloudTrail Lake is not emulated)", async () => {
  const group = flowLogNames(cr.spec.consumer.namespace, cr.metadata.name);
  const flows = await until(
    'a FlowLog created in AWS for every network interface of the endpoint',
    async () => {
      const objs = await ackObjects('A', cr);
      const enis = ((objs.find((o) => o.kind === 'VPCEndpoint')?.status?.networkInterfaceIDs as string[] | undefined) ?? []).slice().sort();
      const made = objs.filter((o) => o.kind === 'FlowLog' && o.status?.flowLogID);
      return enis.length > 0 && made.length === enis.length ? { enis, made } : undefined;
    },
    5 * MIN,
    1000,
  );
  expect(flows.enis).toHaveLength(cr.spec.consumer.subnetIds.length);
  const { ec2, iam } = await aws(cr.spec.consumer.accountId);
  const inAws = (await ec2.send(new DescribeFlowLogsCommand({}))).FlowLogs ?? [];
  const ours = inAws.filter((f) => f.LogGroupName === group.logGroupName);
  expect(ours.map((f) => f.ResourceId).sort()).toEqual(flows.enis);
  const roleArn = (await iam.send(new GetRoleCommand({ RoleName: group.roleName }))).Role?.Arn;
  for (const f of ours) {
    // the emulator reports FAILED delivery when the log group does not exist
    expect([f.DeliverLogsStatus, f.TrafficType, f.LogDestinationType, f.DeliverLogsPermissionArn]).toEqual(['SUCCESS', 'ALL', 'cloud-watch-logs', roleArn]);
  }
  const logGroup = (await ackObjects('A', cr)).find((o) => o.kind === 'LogGroup' && o.metadata.namespace === cr.spec.consumer.namespace);
  await until('the flow-log group to report its retention from AWS', async () => (await ackObjects('A', cr)).find((o) => o.metadata.name === logGroup?.metadata.name)?.status?.retentionInDays === 90, 3 * MIN, 1000);
  // The event data store never syncs against the emulator, so AuditReady stays False, naming it.
  const audit = condition(await getCr(NS, cr.metadata.name), 'AuditReady');
  expect(audit?.status).toBe('False');
  expect(audit?.message).toMatch(/EventDataStore\//);
  expect(await ready()).toBe(true);
}, 8 * MIN);

test('rotation: a replaced endpoint is allowed beside the old one for the grace period, then alone; each policy change is deployed', async () => {
  const before = await expectFourLayers(cr, await renderedEndpointPolicy());
  const oldId = before.endpointId;
  const api = before.apiId;
  const deployedBefore = new Set(before.provider.apis[0]!.deployments.map((d) => d.id));

  // What account B serves, sampled while the rotation runs.
  type Sample = { vpces: string; stage?: string; deployments: string[]; served: string };
  const samples: Sample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      try {
        const a = (await providerState(cr.spec.provider.accountId)).apis.find((x) => x.id === api);
        const stage = a?.stages[0]?.deploymentId;
        const deployment = a?.deployments.find((d) => d.id === stage);
        // The Stage is read first (providerState): a deployment it names that the later read no
        // longer lists was deleted in between. If the Stage has moved on since, the sample is torn
        // and dropped; if it still names it, a served deployment is gone and counts as served "".
        const torn = !!stage && !deployment && (await providerState(cr.spec.provider.accountId)).apis.find((x) => x.id === api)?.stages[0]?.deploymentId !== stage;
        if (a && !torn) {
          const served = sourceVpces(deployment?.policy).join(',');
          samples.push({ vpces: sourceVpces(a.policy).join(','), stage, deployments: a.deployments.map((d) => d.id), served });
        }
      } catch {
        // a read racing a write; the next sample counts
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  try {
    // Replace the endpoint: ACK deletes it in AWS, the operator renders it again, ACK creates a new one.
    const del = await kubectl('A', ['delete', 'vpcendpoints.ec2.services.k8s.aws', names.vpcEndpoint, '-n', cr.spec.consumer.namespace, '--wait=false']);
    expect(del.code).toBe(0);
    const newId = await until(
      'a new endpoint ID in the CR status',
      async () => {
        const id = (await getCr(NS, cr.metadata.name))?.status?.endpoint?.id;
        return id && id !== oldId ? id : undefined;
      },
      5 * MIN,
      500,
    );
    const both = [oldId, newId].sort().join(',');
    await until('the stored policy to allow old and new', async () => samples.some((s) => s.vpces === both), 3 * MIN, 250);
    const duringGrace = await until(
      'a new Deployment, served by the Stage, while old and new are allowed',
      async () => samples.find((s) => s.vpces === both && s.stage && !deployedBefore.has(s.stage)),
      (GRACE_SECONDS - 5) * 1000,
      250,
    );
    await until('the stored policy to allow the new endpoint only', async () => samples.some((s) => s.vpces === newId), GRACE_SECONDS * 1000 + 3 * MIN, 500);
    await until(
      'another new Deployment, served by the Stage, once the new endpoint is alone',
      async () => samples.find((s) => s.vpces === newId && s.stage && s.stage !== duringGrace.stage && !deployedBefore.has(s.stage)),
      3 * MIN,
      500,
    );
    // The policy went old → old+new → new, never through anything else.
    const changes = (values: string[]) => values.filter((v, i, all) => i === 0 || v !== all[i - 1]);
    expect(changes(samples.map((s) => s.vpces))).toEqual([oldId, both, newId]);
    // And so did what the Stage serves: each deployment was made after its policy reached AWS.
    await until('the Stage to serve the new endpoint alone', async () => samples.some((s) => s.served === newId), 3 * MIN, 500);
    expect(changes(samples.map((s) => s.served))).toEqual([oldId, both, newId]);
  } finally {
    sampling = false;
    await sampler;
  }
  const after = await expectFourLayers(cr, await renderedEndpointPolicy());
  expect(after.apiId).toBe(api);
  expect(await ready()).toBe(true);
  // Superseded Deployments go once ACK has moved the Stage off them (AWS refuses to delete a
  // served one, and ACK would mark it Terminal): in the end AWS holds only the served one.
  await until(
    'AWS to hold only the Deployment the Stage serves',
    async () => {
      const a = (await providerState(cr.spec.provider.accountId)).apis.find((x) => x.id === api);
      return a?.deployments.length === 1 && a.deployments[0]!.id === a.stages[0]?.deploymentId;
    },
    3 * MIN,
    1000,
  );
  const deployments = (await ackObjects('A', cr)).filter((o) => o.kind === 'Deployment');
  expect({ count: deployments.length, terminal: terminalOf(deployments) }).toEqual({ count: 1, terminal: [] });
}, 15 * MIN);

test('a restart of the operator at steady state changes nothing, in AWS or in the cluster', async () => {
  operator = await expectRestartChangesNothing(cr, operator!, () => startOperatorProcess('one-cluster-restarted', NS));
}, 4 * MIN);

test('deleting the CR leaves nothing in either account, with no Terminal condition on the way', async () => {
  await clients('A').custom.deleteNamespacedCustomObject({ group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis', namespace: NS, name: cr.metadata.name });
  await expectCleanDeletion(cr, ['A'], 10 * MIN);
}, 11 * MIN);
