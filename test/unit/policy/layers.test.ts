import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { CrossAccountApi, KubeObject, ObservedIds } from '../../../src/api/types.js';
import { renderObjects } from '../../../src/charts/render.js';
import { explainCall, type CallRequest } from '../../../src/policy/layers.js';

const cr = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;
const VPCE = 'vpce-0123456789abcdef0';
const ROLE = 'arn:aws:iam::111111111111:role/orders-caller';
const FULL: ObservedIds = {
  callerSecurityGroupId: 'sg-0caller000000000001',
  endpointSecurityGroupId: 'sg-0endpoint0000000002',
  restApiId: 'a1b2c3d4e5',
  rootResourceId: 'rootid0001',
  allowedEndpointIds: [VPCE],
};
const objects = (ids: ObservedIds): KubeObject[] => {
  const r = renderObjects(cr, ids);
  return [...r.consumer, ...r.provider];
};
const full = objects(FULL);
const NOW = new Date('2026-11-25T21:00:00Z');
const call = (over: Partial<CallRequest> = {}, objs = full) => explainCall(objs, { roleArn: ROLE, method: 'GET', path: '/items', now: NOW, ...over });

describe('explainCall on the rendered example', () => {
  it('allows the named role through the allowed endpoint: 200 and all four layers allowed', () => {
    const v = call();
    expect([v.status, v.responseType, v.allowed]).toEqual([200, null, true]);
    expect(v.layers.map((l) => [l.layer, l.allowed])).toEqual([[1, true], [2, true], [3, true], [4, true]]);
    expect(v.vpceId).toBe(VPCE);
    expect(v.resourceArn).toBe('arn:aws:execute-api:us-east-1:222222222222:a1b2c3d4e5/prod/GET/items');
    expect(v.layers[2]!.statement?.sid).toBe('AllowCallerRoleFromAllowedEndpoints');
    expect(v.layers[3]!.statement?.sid).toBe('InvokeDeclaredRoutes');
  });
  it('path parameters are matched against the route template and the ARN wildcard', () => {
    expect(call({ path: '/items/42' }).status).toBe(200);
  });
  it('another endpoint: ACCESS_DENIED with an explicit deny from the resource policy (layer 3)', () => {
    const v = call({ vpceId: 'vpce-0ffffffffffffffff' });
    expect([v.status, v.responseType, v.decidedBy]).toEqual([403, 'ACCESS_DENIED', 3]);
    expect(v.statement).toMatchObject({ sid: 'DenyUnlessFromAllowedEndpoints', effect: 'Deny' });
    // Accounts masked to their last four digits, as API Gateway does in its answers.
    expect(v.message).toBe('User: arn:aws:iam::********1111:role/orders-caller is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********2222:a1b2c3d4e5/prod/GET/items with an explicit deny');
    expect(v.layers[2]!.reason).toMatch(/vpce-0ffffffffffffffff is not an allowed endpoint/);
  });
  it('a role the policies do not name: ACCESS_DENIED by the endpoint policy (layer 2)', () => {
    const other = 'arn:aws:iam::111111111111:role/intruder';
    const v = call({ roleArn: other });
    expect([v.status, v.responseType, v.decidedBy]).toEqual([403, 'ACCESS_DENIED', 2]);
    expect(v.statement?.sid).toBe('DenyAllOtherPrincipals');
    expect(v.message).toMatch(/^User: arn:aws:iam::\*{8}1111:role\/intruder is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:\*{8}2222:/);
    expect(v.layers[2]!.allowed).toBe(false); // the resource policy does not name it either
  });
  it('invalid signature: 403 INVALID_SIGNATURE, decided by layer 4', () => {
    const v = call({ signature: 'invalid' });
    expect([v.status, v.responseType, v.errorType, v.decidedBy]).toEqual([403, 'INVALID_SIGNATURE', 'InvalidSignatureException', 4]);
    expect(v.message).toMatch(/^The request signature we calculated does not match the signature you provided\./);
  });
  it('clock 6 minutes behind: signature expired message', () => {
    const v = call({ clockSkewSeconds: -360 });
    expect([v.status, v.responseType]).toEqual([403, 'INVALID_SIGNATURE']);
    expect(v.message).toBe('Signature expired: 20261125T205400Z is now earlier than 20261125T205500Z (20261125T210000Z - 5 min.)');
  });
  it('clock 6 minutes ahead: signature not yet current', () => {
    expect(call({ clockSkewSeconds: 360 }).message).toMatch(/^Signature not yet current: 20261125T210600Z is still later than 20261125T210500Z/);
  });
  it('4 minutes of skew is within SigV4 tolerance', () => {
    expect(call({ clockSkewSeconds: -240 }).status).toBe(200);
  });
  it('expired session token: EXPIRED_TOKEN', () => {
    expect(call({ signature: 'expired-token' }).responseType).toBe('EXPIRED_TOKEN');
  });
  it('missing signature: MISSING_AUTHENTICATION_TOKEN', () => {
    const v = call({ signature: 'missing' });
    expect([v.status, v.responseType, v.message]).toEqual([403, 'MISSING_AUTHENTICATION_TOKEN', 'Missing Authentication Token']);
  });
  it('a route without a method: MISSING_AUTHENTICATION_TOKEN before any signature check', () => {
    const v = call({ method: 'DELETE', signature: 'invalid' });
    expect([v.status, v.responseType, v.decidedBy]).toEqual([403, 'MISSING_AUTHENTICATION_TOKEN', null]);
  });
  it('an unknown stage: MISSING_AUTHENTICATION_TOKEN', () => {
    expect(call({ stage: 'test' }).responseType).toBe('MISSING_AUTHENTICATION_TOKEN');
  });
  it('not in the caller security group: no response at all (timeout)', () => {
    const v = call({ viaCallerSecurityGroup: false });
    expect([v.status, v.outcome, v.responseType, v.decidedBy]).toEqual([null, 'timeout', null, 1]);
    expect(v.layers[0]!.allowed).toBe(false);
  });
  it('an endpoint SG rule on another port: timeout', () => {
    const broken = structuredClone(full);
    const sg = broken.find((o) => o.kind === 'SecurityGroup' && o.metadata.name === 'orders-endpoint-sg')!;
    (sg.spec!.ingressRules as Array<{ fromPort: number; toPort: number }>)[0]!.fromPort = 8443;
    (sg.spec!.ingressRules as Array<{ fromPort: number; toPort: number }>)[0]!.toPort = 8443;
    const v = call({}, broken);
    expect([v.outcome, v.decidedBy]).toEqual(['timeout', 1]);
    expect(v.layers[0]!.reason).toMatch(/no ingress rule on tcp\/443/);
  });
  it('a method with authorizationType NONE: the caller is anonymous and the policies deny', () => {
    const broken = structuredClone(full);
    for (const m of broken.filter((o) => o.kind === 'Method')) m.spec!.authorizationType = 'NONE';
    const v = call({}, broken);
    expect(v.responseType).toBe('ACCESS_DENIED');
    expect(v.message).toMatch(/^User: anonymous is not authorized/);
    expect(v.layers[3]!.allowed).toBe(false);
  });
  it('cross-account: without the role\'s identity policy the resource policy alone does not allow', () => {
    const broken = structuredClone(full);
    const role = broken.find((o) => o.kind === 'Role' && o.metadata.name === 'orders-caller-role')!;
    delete role.spec!.inlinePolicies;
    const v = call({}, broken);
    expect([v.status, v.responseType, v.decidedBy]).toEqual([403, 'ACCESS_DENIED', 4]);
    expect(v.layers[2]!.allowed).toBe(true);
    expect(v.layers[3]!.reason).toMatch(/cross-account/);
    expect(v.message).not.toMatch(/explicit deny/);
  });
  it('a route the role policy does not list (POST /items/{id} not declared) is refused at routing', () => {
    expect(call({ method: 'POST', path: '/items/42' }).responseType).toBe('MISSING_AUTHENTICATION_TOKEN');
  });
});

describe('explainCall on the fail-closed static render (no IDs observed)', () => {
  const statics = objects({});
  it('no connection (SG rules wait for the IDs), and every layer says why: no endpoint allowed yet', () => {
    const v = call({}, statics);
    expect([v.status, v.outcome, v.decidedBy]).toEqual([null, 'timeout', 1]);
    expect(v.layers[0]!.reason).toMatch(/security group ID is not known yet/);
    expect(v.layers[1]!.statement?.sid).toBe('DenyAllUntilApiIsKnown');
    expect(v.vpceId).toBeNull();
    expect(v.notes.join('\n')).toMatch(/no endpoint allowed yet/);
    expect(v.layers[0]!.allowed).toBe(false);
    expect(v.layers[2]!.reason).toMatch(/^no endpoint allowed yet/);
    expect(v.layers[2]!.allowed).toBe(false);
  });
  it('with the SG IDs known the connection exists and the endpoint policy denies everything', () => {
    const v = call({ vpceId: VPCE }, objects({ callerSecurityGroupId: 'sg-1', endpointSecurityGroupId: 'sg-2' }));
    expect([v.status, v.responseType, v.decidedBy]).toEqual([403, 'ACCESS_DENIED', 2]);
    expect(v.statement?.sid).toBe('DenyAllUntilApiIsKnown');
  });
});

describe('explainCall account of the API', () => {
  it('takes the API account from the CARM annotation of its namespace when no ARN names it', () => {
    const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'account-b', annotations: { 'services.k8s.aws/owner-account-id': '222222222222' } } };
    const v = explainCall([...objects({}), ns], { roleArn: ROLE, method: 'GET', path: '/items', now: NOW });
    expect(v.resourceArn).toMatch(/^arn:aws:execute-api:us-east-1:222222222222:UNKNOWN-API-ID\//);
  });
});

describe('explainCall layer 1 with a Function', () => {
  const withFn = (): KubeObject[] => {
    const c = structuredClone(cr);
    c.spec.consumer.function = { name: 'orders-caller', code: { s3Bucket: 'b', s3Key: 'k.zip' } };
    const r = renderObjects(c, FULL);
    return [...r.consumer, ...r.provider];
  };
  it('the Function in the caller group reaches the endpoint', () => {
    expect(call({}, withFn()).status).toBe(200);
  });
  it('the Function in another group: timeout, and the reason names both groups', () => {
    const objs = withFn();
    const fn = objs.find((o) => o.kind === 'Function')!;
    (fn.spec!.vpcConfig as { securityGroupIDs: string[] }).securityGroupIDs = ['sg-0somethingelse00003'];
    const v = call({}, objs);
    expect([v.outcome, v.decidedBy]).toEqual(['timeout', 1]);
    expect(v.layers[0]!.reason).toMatch(/runs in sg-0somethingelse00003, but orders-endpoint-sg admits tcp\/443 only from sg-0caller000000000001/);
  });
});

describe('explainCall in other partitions (the partition comes from the region, as documents.ts renders it)', () => {
  it.each([
    ['cn-north-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
  ])('%s: the named role is allowed at every layer, and the ARNs say arn:%s:', (region, partition) => {
    const c = structuredClone(cr);
    c.spec.region = region;
    const r = renderObjects(c, FULL);
    const role = `arn:${partition}:iam::111111111111:role/orders-caller`;
    const v = explainCall([...r.consumer, ...r.provider], { roleArn: role, method: 'GET', path: '/items', now: NOW });
    expect(v.layers.map((l) => [l.layer, l.allowed])).toEqual([[1, true], [2, true], [3, true], [4, true]]);
    expect([v.status, v.resourceArn]).toEqual([200, `arn:${partition}:execute-api:${region}:222222222222:a1b2c3d4e5/prod/GET/items`]);
  });
});

// IAM User Guide, "AWS global condition context keys", aws:PrincipalArn: for a role session the key
// holds the role's ARN (with its path), never the session ARN.
describe('explainCall with an assumed-role session (how a Lambda calls)', () => {
  const SESSION = 'arn:aws:sts::111111111111:assumed-role/orders-caller/orders-caller-fn';
  it('is evaluated as its role: 200 at every layer, and the notes say so', () => {
    const v = call({ roleArn: SESSION });
    expect(v.layers.map((l) => [l.layer, l.allowed])).toEqual([[1, true], [2, true], [3, true], [4, true]]);
    expect(v.status).toBe(200);
    expect(v.layers[3]!.statement?.sid).toBe('InvokeDeclaredRoutes'); // the Role's inline policy is the session's
    expect(v.notes.join('\n')).toMatch(/is a session of arn:aws:iam::111111111111:role\/orders-caller/);
  });
  it('a denial names the session, masked, as API Gateway does', () => {
    const v = call({ roleArn: SESSION, vpceId: 'vpce-0ffffffffffffffff' });
    expect(v.message).toMatch(/^User: arn:aws:sts::\*{8}1111:assumed-role\/orders-caller\/orders-caller-fn is not authorized/);
  });
  it('a role with a path: the path is found from the policies (spec.consumer.roleArn) and the session is allowed', () => {
    const c = structuredClone(cr);
    c.spec.consumer.roleArn = 'arn:aws:iam::111111111111:role/service/orders-caller';
    const r = renderObjects(c, FULL);
    const v = explainCall([...r.consumer, ...r.provider], { roleArn: SESSION, method: 'GET', path: '/items', now: NOW });
    expect(v.layers.slice(1, 3).map((l) => [l.layer, l.allowed])).toEqual([[2, true], [3, true]]);
    expect(v.notes.join('\n')).toMatch(/session of arn:aws:iam::111111111111:role\/service\/orders-caller/);
    expect(v.notes.join('\n')).not.toMatch(/whose path the manifests do not show/);
  });
  it('a session of a role the manifests never name: path unknown, said so, and denied', () => {
    const v = call({ roleArn: 'arn:aws:sts::111111111111:assumed-role/other-role/s1' });
    expect([v.status, v.decidedBy]).toEqual([403, 2]);
    expect(v.notes.join('\n')).toMatch(/session of role other-role, whose path the manifests do not show.*path \//);
  });
});

describe('explainCall finds the caller\'s Role by full ARN', () => {
  it('a role with the caller\'s name in another account is not credited with the caller\'s inline policy', () => {
    const other = 'arn:aws:iam::333333333333:role/orders-caller';
    const v = call({ roleArn: other });
    expect(v.allowed).toBe(false);
    expect(v.layers[3]!.statement).toBeUndefined();
    expect(v.layers[3]!.reason).not.toMatch(/InvokeDeclaredRoutes/);
    expect(v.notes.join('\n')).toMatch(/Role orders-caller-role is arn:aws:iam::111111111111:role\/orders-caller, not the caller's arn:aws:iam::333333333333:role\/orders-caller/);
    expect(v.notes.join('\n')).toMatch(/role arn:aws:iam::333333333333:role\/orders-caller is not among the manifests' Roles/);
  });
  it('the Role\'s ARN from ACK\'s status wins over the policies', () => {
    const objs = structuredClone(full);
    const role = objs.find((o) => o.kind === 'Role' && o.metadata.name === 'orders-caller-role')!;
    (role as { status?: unknown }).status = { ackResourceMetadata: { arn: 'arn:aws:iam::111111111111:role/ops/orders-caller' } };
    const v = call({}, objs);
    // The policies name /orders-caller, the Role is /ops/orders-caller: not the caller's Role.
    expect(v.layers[3]!.statement).toBeUndefined();
    expect(v.notes.join('\n')).toMatch(/Role orders-caller-role is arn:aws:iam::111111111111:role\/ops\/orders-caller/);
  });
});

describe('explainCall states the Project tag assumption of layer 2', () => {
  it('with the tag condition (default): layer 2 allows on an assumption, and the notes say which and how to verify', () => {
    const v = call();
    expect(v.layers[1]!.reason).toMatch(/assumes aws:resourceTag\/Project is in the request context/);
    expect(v.notes.join('\n')).toMatch(/assumption: the endpoint policy of orders-vpce conditions on aws:resourceTag\/Project.*Project=orders.*lists no resource-tag condition key for execute-api:Invoke.*Verify with one call/s);
  });
  it('spec.projectTagCondition: false: still 200 (the Allow is scoped by API ARN and role), no assumption', () => {
    const c = structuredClone(cr);
    c.spec.projectTagCondition = false;
    const r = renderObjects(c, FULL);
    const v = explainCall([...r.consumer, ...r.provider], { roleArn: ROLE, method: 'GET', path: '/items', now: NOW });
    expect(v.status).toBe(200);
    expect(v.notes.join('\n')).not.toMatch(/assumption/);
    // Another role is still refused at layer 2 without the tag condition.
    expect(explainCall([...r.consumer, ...r.provider], { roleArn: 'arn:aws:iam::111111111111:role/intruder', method: 'GET', path: '/items', now: NOW }).decidedBy).toBe(2);
  });
});
