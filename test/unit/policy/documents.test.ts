import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { validateSpec } from '../../../src/api/validate.js';
import type { CrossAccountApi, CrossAccountApiSpec } from '../../../src/api/types.js';
import {
  endpointPolicy,
  resourcePolicy,
  roleInvokePolicy,
  lambdaTrustPolicy,
  policyJson,
  routeResource,
  callerRoleArn,
  SID,
  type PolicyDocument,
} from '../../../src/policy/documents.js';

const cr = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;
const r = validateSpec(cr.spec);
if (!r.ok) throw new Error('example invalid');
const spec: CrossAccountApiSpec = r.spec;
const ids = { restApiId: 'a1b2c3d4e5', allowedEndpointIds: ['vpce-0123456789abcdef0'] };
const ROLE = 'arn:aws:iam::111111111111:role/orders-caller';

function invokeAllows(doc: PolicyDocument) {
  return doc.Statement.filter((s) => s.Effect === 'Allow' && [s.Action].flat().some((a) => a === 'execute-api:Invoke' || a === 'execute-api:*'));
}

describe('endpoint policy (layer 2)', () => {
  it('allows only the caller role on the project API, with the Project tag condition', () => {
    const doc = endpointPolicy(spec, ids);
    const allows = invokeAllows(doc);
    expect(allows).toHaveLength(1);
    expect(allows[0]!.Principal).toEqual({ AWS: ROLE });
    expect(allows[0]!.Resource).toBe('arn:aws:execute-api:us-east-1:222222222222:a1b2c3d4e5/*');
    expect(allows[0]!.Condition).toEqual({ StringEquals: { 'aws:resourceTag/Project': 'orders' } });
  });
  it('spec.projectTagCondition: false leaves the tag condition out, and nothing else', () => {
    const off = endpointPolicy({ ...spec, projectTagCondition: false }, ids);
    const on = endpointPolicy(spec, ids);
    expect(invokeAllows(off)[0]!.Condition).toBeUndefined();
    const { Condition: _c, ...allowOn } = invokeAllows(on)[0]!;
    expect(invokeAllows(off)[0]).toEqual(allowOn);
    expect(off.Statement.filter((s) => s.Effect === 'Deny')).toEqual(on.Statement.filter((s) => s.Effect === 'Deny'));
  });
  it('puts its denies before the allow and denies execute-api:* elsewhere', () => {
    const doc = endpointPolicy(spec, ids);
    const effects = doc.Statement.map((s) => s.Effect);
    expect(effects.indexOf('Allow')).toBeGreaterThan(effects.lastIndexOf('Deny'));
    const other = doc.Statement.find((s) => s.Sid === SID.endpointDenyOtherApis)!;
    expect(other).toMatchObject({ Effect: 'Deny', Action: 'execute-api:*', NotResource: 'arn:aws:execute-api:us-east-1:222222222222:a1b2c3d4e5/*' });
  });
  it('denies everything while the API ID is unknown', () => {
    const doc = endpointPolicy(spec, {});
    expect(doc.Statement).toEqual([{ Sid: SID.endpointDenyAll, Effect: 'Deny', Principal: '*', Action: 'execute-api:*', Resource: '*' }]);
  });
});

describe('resource policy (layer 3)', () => {
  it('denies unless the request came through an allowed endpoint, then allows the role on the stage', () => {
    const doc = resourcePolicy(spec, ids);
    expect(doc.Statement[0]).toMatchObject({
      Effect: 'Deny',
      Action: 'execute-api:Invoke',
      Resource: 'arn:aws:execute-api:us-east-1:222222222222:a1b2c3d4e5/*',
      Condition: { StringNotEquals: { 'aws:sourceVpce': 'vpce-0123456789abcdef0' } },
    });
    expect(doc.Statement[1]).toMatchObject({
      Effect: 'Allow',
      Principal: { AWS: ROLE },
      Resource: 'arn:aws:execute-api:us-east-1:222222222222:a1b2c3d4e5/prod/*',
      Condition: { StringEquals: { 'aws:sourceVpce': 'vpce-0123456789abcdef0' } },
    });
  });
  it('holds old and new endpoints during a rotation, sorted and without duplicates', () => {
    const doc = resourcePolicy(spec, { ...ids, allowedEndpointIds: ['vpce-b', 'vpce-a', 'vpce-b'] });
    expect(doc.Statement[0]!.Condition).toEqual({ StringNotEquals: { 'aws:sourceVpce': ['vpce-a', 'vpce-b'] } });
    expect(doc.Statement[1]!.Condition).toEqual({ StringEquals: { 'aws:sourceVpce': ['vpce-a', 'vpce-b'] } });
  });
  it('denies every invocation when no endpoint is known, and grants nothing', () => {
    for (const o of [{ restApiId: 'a1b2c3d4e5' }, {}]) {
      const doc = resourcePolicy(spec, o);
      expect(doc.Statement).toHaveLength(1);
      expect(doc.Statement[0]!.Effect).toBe('Deny');
      expect(doc.Statement[0]!.Condition).toBeUndefined();
      expect(invokeAllows(doc)).toHaveLength(0);
    }
  });
  it("uses API Gateway's own-API form before the API ID is known", () => {
    const doc = resourcePolicy(spec, { allowedEndpointIds: ['vpce-1'] });
    expect(doc.Statement[0]!.Resource).toBe('execute-api:/*');
    expect(doc.Statement[1]!.Resource).toBe('execute-api:/prod/*');
  });
});

describe('role invoke policy (layer 4 identity side)', () => {
  it('lists exact STAGE/METHOD/path ARNs, params as one segment', () => {
    const doc = roleInvokePolicy(spec, ids)!;
    expect(doc.Statement[0]!.Resource).toEqual([
      'arn:aws:execute-api:us-east-1:222222222222:a1b2c3d4e5/prod/GET/items',
      'arn:aws:execute-api:us-east-1:222222222222:a1b2c3d4e5/prod/GET/items/*',
      'arn:aws:execute-api:us-east-1:222222222222:a1b2c3d4e5/prod/POST/items',
    ]);
  });
  it('is absent while the API ID is unknown', () => {
    expect(roleInvokePolicy(spec, {})).toBeUndefined();
  });
  it('maps the root path and nested paths', () => {
    expect(routeResource('prod', { method: 'GET', path: '/' })).toBe('prod/GET/');
    expect(routeResource('prod', { method: 'PUT', path: '/a/{b}/c' })).toBe('prod/PUT/a/*/c');
  });
});

describe('no input yields a wildcard invoke grant', () => {
  const variants = [{}, { restApiId: 'x1' }, ids, { ...ids, allowedEndpointIds: [] }];
  it.each(variants.map((v, i) => [i, v] as const))('variant %i', (_i, v) => {
    const docs = [endpointPolicy(spec, v), resourcePolicy(spec, v), roleInvokePolicy(spec, v)].filter(Boolean) as PolicyDocument[];
    for (const d of docs) {
      for (const s of invokeAllows(d)) {
        for (const res of [s.Resource].flat()) {
          expect(res).not.toBe('*');
          expect(res).not.toMatch(/^arn:aws:execute-api:[^:]*:[^:]*:\*/);
          expect(res).not.toMatch(/:\*$/);
        }
      }
    }
  });
});

describe('policyJson', () => {
  it('is deterministic whatever the key order of the input', () => {
    const a = resourcePolicy(spec, ids);
    const shuffled: PolicyDocument = {
      Statement: a.Statement.map((s) => Object.fromEntries(Object.entries(s).reverse()) as typeof s),
      Version: '2012-10-17',
    };
    expect(policyJson(shuffled)).toBe(policyJson(a));
    expect(JSON.parse(policyJson(a))).toEqual(a);
  });
  it('sorts condition operators and keys', () => {
    const json = policyJson({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'x', Resource: 'y', Condition: { StringNotEquals: { b: '1', a: '2' }, Bool: { c: true } } }] });
    expect(json).toBe('{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"x","Resource":"y","Condition":{"Bool":{"c":true},"StringNotEquals":{"a":"2","b":"1"}}}]}');
  });
  it('escapes hostile values instead of splicing them', () => {
    const s = { ...spec, project: 'x","Effect":"Allow' };
    const parsed = JSON.parse(policyJson(endpointPolicy(s, ids)));
    expect(parsed.Statement[2].Condition.StringEquals['aws:resourceTag/Project']).toBe('x","Effect":"Allow');
  });
});

it('trust policy lets only Lambda assume the role', () => {
  expect(lambdaTrustPolicy().Statement).toEqual([{ Sid: SID.trust, Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
  expect(callerRoleArn(spec)).toBe(ROLE);
  expect(callerRoleArn({ ...spec, consumer: { ...spec.consumer, roleArn: 'arn:aws:iam::111111111111:role/p/orders-caller' } })).toBe('arn:aws:iam::111111111111:role/p/orders-caller');
});
