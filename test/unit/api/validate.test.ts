import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { validateSpec, formatErrors } from '../../../src/api/validate.js';
import type { CrossAccountApi } from '../../../src/api/types.js';

const example = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;
type Spec = Record<string, any>;
const base = (): Spec => structuredClone(example.spec) as Spec;

describe('validateSpec', () => {
  it('accepts the shipped example and fills defaults', () => {
    const r = validateSpec(base());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.spec.rotation?.gracePeriodSeconds).toBe(300);
    expect(r.spec.provider.integration).toEqual({ type: 'HTTP_PROXY', uri: 'https://orders.example.com/' });
  });

  it('defaults the grace period and integration when absent', () => {
    const s = base();
    delete s.rotation;
    delete s.provider.integration;
    const r = validateSpec(s);
    expect(r.ok && r.spec.rotation?.gracePeriodSeconds).toBe(300);
    expect(r.ok && r.spec.provider.integration?.type).toBe('MOCK');
  });

  it('projectTagCondition defaults to true and may be switched off', () => {
    const on = validateSpec(base());
    expect(on.ok && on.spec.projectTagCondition).toBe(true);
    const s = base();
    s.projectTagCondition = false;
    const off = validateSpec(s);
    expect(off.ok && off.spec.projectTagCondition).toBe(false);
  });

  const bad: [string, (s: Spec) => unknown, string, string][] = [
    ['11-digit consumer account', (s) => { s.consumer.accountId = '11111111111'; }, 'spec.consumer.accountId', 'must be a 12-digit AWS account ID'],
    ['account with letters', (s) => { s.provider.accountId = '22222222222x'; }, 'spec.provider.accountId', '12-digit'],
    ['account as a number', (s) => { s.provider.accountId = 222222222222; }, 'spec.provider.accountId', 'must be a string'],
    ['same account both sides', (s) => { s.provider.accountId = s.consumer.accountId; }, 'spec.provider.accountId', 'must be different accounts'],
    ['one subnet', (s) => { s.consumer.subnetIds = ['subnet-0aa11bb22cc33dd44']; }, 'spec.consumer.subnetIds', 'at least 2 distinct subnets'],
    ['duplicate subnets', (s) => { s.consumer.subnetIds = ['subnet-0aa11bb22cc33dd44', 'subnet-0aa11bb22cc33dd44']; }, 'spec.consumer.subnetIds', 'must be distinct'],
    ['malformed subnet', (s) => { s.consumer.subnetIds[1] = 'sn-123'; }, 'spec.consumer.subnetIds[1]', 'subnet ID'],
    ['missing subnets', (s) => { delete s.consumer.subnetIds; }, 'spec.consumer.subnetIds', 'is required'],
    ['bad VPC ID', (s) => { s.consumer.vpcId = 'vpc-XYZ'; }, 'spec.consumer.vpcId', 'VPC ID'],
    ['method not in the list', (s) => { s.provider.routes[0].method = 'FETCH'; }, 'spec.provider.routes[0].method', 'must be one of GET, POST'],
    ['lowercase method', (s) => { s.provider.routes[0].method = 'get'; }, 'spec.provider.routes[0].method', 'must be one of'],
    ['wildcard path', (s) => { s.provider.routes[0].path = '/items/*'; }, 'spec.provider.routes[0].path', 'must not contain wildcards'],
    ['greedy proxy path', (s) => { s.provider.routes[0].path = '/{proxy+}'; }, 'spec.provider.routes[0].path', 'must not contain wildcards'],
    ['path without leading slash', (s) => { s.provider.routes[0].path = 'items'; }, 'spec.provider.routes[0].path', 'must start with "/"'],
    ['trailing slash', (s) => { s.provider.routes[0].path = '/items/'; }, 'spec.provider.routes[0].path', 'no trailing or double slash'],
    ['no routes', (s) => { s.provider.routes = []; }, 'spec.provider.routes', 'at least one route'],
    ['duplicate route', (s) => { s.provider.routes[1] = { ...s.provider.routes[0] }; }, 'spec.provider.routes', 'must be distinct'],
    ['two params under one parent', (s) => { s.provider.routes.push({ method: 'PUT', path: '/items/{name}' }); }, 'spec.provider.routes', '"/items" has {id} (/items/{id}) and {name} (/items/{name})'],
    ['stage with a space', (s) => { s.provider.stage = 'pr od'; }, 'spec.provider.stage', 'stage name must be'],
    ['missing region', (s) => { delete s.region; }, 'spec.region', 'is required'],
    ['bad region', (s) => { s.region = 'useast1'; }, 'spec.region', 'AWS region'],
    ['project with a space', (s) => { s.project = 'my project'; }, 'spec.project', 'tag value'],
    ['bad namespace', (s) => { s.consumer.namespace = 'Account_A'; }, 'spec.consumer.namespace', 'namespace name'],
    ['role name too long', (s) => { s.consumer.roleName = 'r'.repeat(65); }, 'spec.consumer.roleName', 'IAM role name'],
    ['role ARN in another account', (s) => { s.consumer.roleArn = 'arn:aws:iam::333333333333:role/orders-caller'; }, 'spec.consumer.roleArn', 'must be a role in the consumer account (consumer.accountId) (it is in account 333333333333, not 111111111111)'],
    ['role ARN naming another role', (s) => { s.consumer.roleArn = 'arn:aws:iam::111111111111:role/other'; }, 'spec.consumer.roleArn', 'must name the role given in roleName (it names "other", roleName is "orders-caller")'],
    ['HTTP_PROXY without uri', (s) => { s.provider.integration = { type: 'HTTP_PROXY' }; }, 'spec.provider.integration.uri', 'https:// URI'],
    ['MOCK with uri', (s) => { s.provider.integration = { type: 'MOCK', uri: 'https://x' }; }, 'spec.provider.integration.uri', 'must be empty'],
    ['unknown integration type', (s) => { s.provider.integration = { type: 'HTTP' }; }, 'spec.provider.integration.type', 'must be one of MOCK'],
    ['projectTagCondition not a boolean', (s) => { s.projectTagCondition = 'no'; }, 'spec.projectTagCondition', 'must be true or false'],
    ['negative grace period', (s) => { s.rotation = { gracePeriodSeconds: -1 }; }, 'spec.rotation.gracePeriodSeconds', 'integer from 0'],
    ['unknown field (typo)', (s) => { s.consumer.subnetIDs = s.consumer.subnetIds; }, 'spec.consumer.subnetIDs', 'unknown field'],
    ['function without code', (s) => { s.consumer.function = { name: 'f' }; }, 'spec.consumer.function.code', 'is required'],
    ['cluster without secretName', (s) => { s.provider.cluster = {}; }, 'spec.provider.cluster.secretName', 'is required'],
  ];

  it.each(bad)('rejects %s', (_name, mutate, path, message) => {
    const s = base();
    mutate(s);
    const r = validateSpec(s);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const hit = r.errors.find((e) => e.path === path);
    expect(hit).toBeDefined();
    expect(hit!.message).toContain(message);
    expect(formatErrors(r.errors)).toContain(`${path}: `);
  });

  it('rejects a non-object spec', () => {
    const r = validateSpec('nope');
    expect(r).toEqual({ ok: false, errors: [{ path: 'spec', message: 'must be an object' }] });
  });
});
