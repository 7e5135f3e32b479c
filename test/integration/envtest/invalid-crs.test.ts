// Admission of invalid CrossAccountApi objects by the real API server: our CRD's schema and CEL
// rules reject each case with the message from src/api/rules.ts (or the schema's own wording).
import { RULES, DISTINCT_ACCOUNTS_MESSAGE, DISTINCT_ROUTES_MESSAGE, DISTINCT_SUBNETS_MESSAGE, WILDCARD_PATH_MESSAGE } from '../../../src/api/rules.js';
import type { CrossAccountApi } from '../../../src/api/types.js';
import { clients, ensureNamespace, exampleCr, kubectl, runSuffix } from '../helpers.js';

const NS = `envtest-invalid-${runSuffix()}`;
const a = clients('A');
const CR = { group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis' };

type Mutate = (cr: CrossAccountApi) => void;
interface Case {
  name: string;
  mutate: Mutate;
  /** Field path and message the API server must report. */
  field: string;
  message: string;
}

const cases: Case[] = [
  { name: 'short consumer account ID', mutate: (c) => void (c.spec.consumer.accountId = '12345'), field: 'spec.consumer.accountId', message: RULES.accountId.message },
  { name: 'non-numeric provider account ID', mutate: (c) => void (c.spec.provider.accountId = '22222222222x'), field: 'spec.provider.accountId', message: RULES.accountId.message },
  { name: 'same account on both sides', mutate: (c) => void (c.spec.provider.accountId = c.spec.consumer.accountId), field: 'spec', message: DISTINCT_ACCOUNTS_MESSAGE },
  { name: 'region without dashes', mutate: (c) => void (c.spec.region = 'useast1'), field: 'spec.region', message: RULES.region.message },
  { name: 'project starting with a dash', mutate: (c) => void (c.spec.project = '-orders'), field: 'spec.project', message: RULES.project.message },
  { name: 'uppercase consumer namespace', mutate: (c) => void (c.spec.consumer.namespace = 'Account_A'), field: 'spec.consumer.namespace', message: RULES.namespace.message },
  { name: 'malformed VPC ID', mutate: (c) => void (c.spec.consumer.vpcId = 'vpc-xyz'), field: 'spec.consumer.vpcId', message: RULES.vpcId.message },
  { name: 'malformed subnet ID', mutate: (c) => void (c.spec.consumer.subnetIds = ['subnet-0aa11bb22cc33dd44', 'subnet-XYZ']), field: 'spec.consumer.subnetIds[1]', message: RULES.subnetId.message },
  { name: 'one subnet only', mutate: (c) => void (c.spec.consumer.subnetIds = ['subnet-0aa11bb22cc33dd44']), field: 'spec.consumer.subnetIds', message: 'should have at least 2 items' },
  { name: 'duplicate subnets', mutate: (c) => void (c.spec.consumer.subnetIds = ['subnet-0aa11bb22cc33dd44', 'subnet-0aa11bb22cc33dd44']), field: 'spec.consumer.subnetIds', message: DISTINCT_SUBNETS_MESSAGE },
  { name: 'role name with a space', mutate: (c) => void (c.spec.consumer.roleName = 'orders caller'), field: 'spec.consumer.roleName', message: RULES.roleName.message },
  { name: 'role ARN with a short account', mutate: (c) => void (c.spec.consumer.roleArn = 'arn:aws:iam::123:role/orders-caller'), field: 'spec.consumer.roleArn', message: RULES.roleArn.message },
  { name: 'Secret name with an underscore', mutate: (c) => void (c.spec.consumer.cluster = { secretName: 'cluster_a' }), field: 'spec.consumer.cluster.secretName', message: RULES.secretName.message },
  { name: 'API name with a slash', mutate: (c) => void (c.spec.provider.apiName = 'orders/api'), field: 'spec.provider.apiName', message: RULES.apiName.message },
  { name: 'stage name with a space', mutate: (c) => void (c.spec.provider.stage = 'prod stage'), field: 'spec.provider.stage', message: RULES.stage.message },
  { name: 'wildcard in a route path', mutate: (c) => void (c.spec.provider.routes = [{ method: 'GET', path: '/items/*' }]), field: 'spec.provider.routes[0].path', message: WILDCARD_PATH_MESSAGE },
  { name: 'greedy {proxy+} route', mutate: (c) => void (c.spec.provider.routes = [{ method: 'GET', path: '/{proxy+}' }]), field: 'spec.provider.routes[0].path', message: WILDCARD_PATH_MESSAGE },
  { name: 'route path without a leading slash', mutate: (c) => void (c.spec.provider.routes = [{ method: 'GET', path: 'items' }]), field: 'spec.provider.routes[0].path', message: RULES.path.message },
  { name: 'route path with a double slash', mutate: (c) => void (c.spec.provider.routes = [{ method: 'GET', path: '/items//x' }]), field: 'spec.provider.routes[0].path', message: RULES.path.message },
  { name: 'unknown HTTP method', mutate: (c) => void (c.spec.provider.routes = [{ method: 'FETCH' as 'GET', path: '/items' }]), field: 'spec.provider.routes[0].method', message: 'Unsupported value: "FETCH"' },
  { name: 'duplicate routes', mutate: (c) => void (c.spec.provider.routes = [{ method: 'GET', path: '/items' }, { method: 'GET', path: '/items' }]), field: 'spec.provider.routes', message: DISTINCT_ROUTES_MESSAGE },
  { name: 'no routes', mutate: (c) => void (c.spec.provider.routes = []), field: 'spec.provider.routes', message: 'should have at least 1 items' },
  { name: 'unknown integration type', mutate: (c) => void (c.spec.provider.integration = { type: 'LAMBDA' as 'MOCK' }), field: 'spec.provider.integration.type', message: 'Unsupported value: "LAMBDA"' },
  { name: 'grace period over a day', mutate: (c) => void (c.spec.rotation = { gracePeriodSeconds: 90_000 }), field: 'spec.rotation.gracePeriodSeconds', message: 'should be less than or equal to 86400' },
  { name: 'missing provider', mutate: (c) => void delete (c.spec as Partial<CrossAccountApi['spec']>).provider, field: 'spec.provider', message: 'Required value' },
  {
    name: 'function memory below 128 MB',
    mutate: (c) => void (c.spec.consumer.function = { name: 'orders-caller', code: { s3Bucket: 'b', s3Key: 'k.zip' }, memorySize: 64 }),
    field: 'spec.consumer.function.memorySize',
    message: 'should be greater than or equal to 128',
  },
];

function invalid(c: Case, i: number): CrossAccountApi {
  const cr = exampleCr();
  cr.metadata = { name: `invalid-${i}`, namespace: NS };
  c.mutate(cr);
  return cr;
}

function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  try {
    return (JSON.parse(String(body)) as { message: string }).message;
  } catch {
    return String((err as Error).message ?? err);
  }
}

beforeAll(async () => {
  await ensureNamespace(a.core, NS);
});
afterAll(async () => {
  await a.core.deleteNamespace({ name: NS }).catch(() => undefined);
});

describe('invalid CrossAccountApi objects are rejected at admission', () => {
  it('has at least 15 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  it('accepts the unmodified example (the baseline each case differs from)', async () => {
    const cr = exampleCr();
    cr.metadata = { name: 'valid-baseline', namespace: NS };
    await a.custom.createNamespacedCustomObject({ ...CR, namespace: NS, body: cr, dryRun: 'All' });
  });

  it.each(cases.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    let message: string | undefined;
    try {
      await a.custom.createNamespacedCustomObject({ ...CR, namespace: NS, body: invalid(c, i) });
    } catch (err) {
      expect((err as { code?: number }).code).toBe(422);
      message = apiMessage(err);
    }
    expect(message).toBeDefined();
    expect(message).toContain(`CrossAccountApi.xapi.dev "invalid-${i}" is invalid`);
    expect(message).toContain(`${c.field}: `);
    expect(message).toContain(c.message);
    // nothing was stored
    await expect(a.custom.getNamespacedCustomObject({ ...CR, namespace: NS, name: `invalid-${i}` })).rejects.toMatchObject({ code: 404 });
  });

  it('kubectl apply reports the rule message to the user and exits non-zero', async () => {
    const c = cases.find((x) => x.name === 'wildcard in a route path')!;
    const r = await kubectl('A', ['apply', '-f', '-'], JSON.stringify(invalid(c, 999)));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.provider.routes[0].path');
    expect(r.stderr).toContain(WILDCARD_PATH_MESSAGE);
  });
});
