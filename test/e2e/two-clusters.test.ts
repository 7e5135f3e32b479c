// examples/orders.yaml, unchanged, against the real ACK controllers and the AWS emulator: account
// A's cluster (the operator, the CR, ec2 + iam controllers) reaches account B's cluster (its own
// apigateway controller) through the cluster Secret the example names. AWS state is read through
// the AWS API in each account. The steps build on each other and run in order.
import { AuthorizeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { UpdateRestApiCommand } from '@aws-sdk/client-api-gateway';
import { controllerFlags, resyncSeconds } from '../../src/charts/ack-controllers.js';
import { objectNames } from '../../src/charts/names.js';
import type { CrossAccountApi } from '../../src/api/types.js';
import {
  EXAMPLE_PATH,
  ackObjects,
  aws,
  clients,
  clusterSecret,
  condition,
  controllerArgs,
  ensureNamespace,
  exampleCr,
  getCr,
  kubeconfigPath,
  kubectl,
  seedNetwork,
  startOperatorProcess,
  until,
  type OperatorProcess,
} from './helpers.js';
import { expectCleanDeletion, expectFourLayers, expectReady, expectRestartChangesNothing } from './layers.js';

const cr: CrossAccountApi = exampleCr();
const NS = cr.metadata.namespace!;
const names = objectNames(cr);
const MIN = 60_000;
let operator: OperatorProcess | undefined;

const renderedEndpointPolicy = async () => {
  const objs = await ackObjects('A', cr);
  const vpce = objs.find((o) => o.kind === 'VPCEndpoint' && o.metadata.name === names.vpcEndpoint);
  return String(vpce?.spec.policyDocument);
};

beforeAll(async () => {
  await seedNetwork(cr); // account A's VPC and subnets, with the IDs the example names
  const a = clients('A');
  await ensureNamespace(a.core, NS);
  await clusterSecret(a.core, NS, cr.spec.consumer.cluster!.secretName, kubeconfigPath('A'));
  await clusterSecret(a.core, NS, cr.spec.provider.cluster!.secretName, kubeconfigPath('B'));
  operator = await startOperatorProcess('two-clusters', NS);
}, 2 * MIN);

afterAll(async () => {
  await operator?.stop();
});

test('the controllers run with exactly the settings xapi ships (manifests/ack-controllers)', () => {
  const started = controllerArgs();
  expect(started.map((c) => c.name).sort()).toEqual(['apigateway', 'apigateway', 'cloudwatchlogs', 'ec2', 'iam']);
  for (const c of started) {
    const ours = controllerFlags(c.name as 'ec2');
    expect(c.args.filter((a) => a.startsWith('--reconcile-'))).toEqual(ours);
  }
});

test('examples/orders.yaml, applied with kubectl, becomes Ready', async () => {
  const applied = await kubectl('A', ['apply', '-f', EXAMPLE_PATH]);
  expect(applied.stderr).toBe('');
  expect(applied.code).toBe(0);
  await expectReady(cr, ['A', 'B'], 10 * MIN, 'two-clusters');
  // each side landed in its own cluster
  const layerKinds = (objs: Awaited<ReturnType<typeof ackObjects>>) => objs.filter((o) => !o.metadata.annotations?.['xapi.dev/audit']).map((o) => o.kind).sort();
  expect(layerKinds(await ackObjects('A', cr))).toEqual(['Role', 'SecurityGroup', 'SecurityGroup', 'VPCEndpoint']);
  expect((await ackObjects('B', cr)).map((o) => o.kind)).toContain('RestAPI');
}, 11 * MIN);

test('AWS holds the four layers exactly, in account A and account B', async () => {
  const live = await expectFourLayers(cr, await renderedEndpointPolicy());
  const status = (await getCr(NS, cr.metadata.name))!.status!;
  expect(status.endpoint?.id).toBe(live.endpointId);
  expect(status.api?.id).toBe(live.apiId);
}, 2 * MIN);

test('drift in AWS (resource policy, security group rule) is repaired within the configured resync period', async () => {
  const live = await expectFourLayers(cr, await renderedEndpointPolicy());
  const { apigw } = await aws(cr.spec.provider.accountId);
  const { ec2 } = await aws(cr.spec.consumer.accountId);
  // Someone opens the API to every endpoint and the endpoint's group to the world, by hand.
  const open = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: `arn:aws:execute-api:${cr.spec.region}:${cr.spec.provider.accountId}:${live.apiId}/*` }] });
  const edited = Date.now();
  await apigw.send(new UpdateRestApiCommand({ restApiId: live.apiId, patchOperations: [{ op: 'replace', path: '/policy', value: open }] }));
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: live.endpointSg, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
  // the drift is really there
  const drifted = await expectFourLayers(cr, await renderedEndpointPolicy()).then(
    () => undefined,
    (err: Error) => err.message,
  );
  expect(drifted).toBeDefined();

  const period = Math.max(resyncSeconds('apigateway', 'RestAPI'), resyncSeconds('ec2', 'SecurityGroup'));
  // One resync period plus generous slack for a busy 2-core machine; ACK's default would be 10 hours.
  await until('ACK to write the desired policy and rules back', async () => !!(await expectFourLayers(cr, await renderedEndpointPolicy())), (2 * period + 90) * 1000, 2000);
  process.stderr.write(`[e2e two-clusters] drift repaired ${((Date.now() - edited) / 1000).toFixed(1)} s after the edit (resync period ${period} s)\n`);
}, 6 * MIN);

test('a restart of the operator at steady state changes nothing, in AWS or in either cluster', async () => {
  operator = await expectRestartChangesNothing(cr, operator!, () => startOperatorProcess('two-clusters-restarted', NS));
}, 4 * MIN);

test('deleting the CR leaves nothing in either account, with no Terminal condition on the way', async () => {
  const deleted = await kubectl('A', ['delete', '-f', EXAMPLE_PATH, '--wait=false']);
  expect(deleted.code).toBe(0);
  await expectCleanDeletion(cr, ['A', 'B'], 10 * MIN);
}, 11 * MIN);
