// explain with consumer.endpoint: which hostname reaches the API (private DNS, the endpoint-specific
// alias, the endpoint DNS name with x-apigw-api-id), and the layers of an existing endpoint.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ACK } from '../../../src/api/ack.js';
import type { CrossAccountApi, KubeObject, ObservedIds } from '../../../src/api/types.js';
import { renderObjects } from '../../../src/charts/render.js';
import { explainCall, type CallRequest } from '../../../src/policy/layers.js';

const example = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;
const VPCE = 'vpce-0123456789abcdef0';
const EXISTING = 'vpce-0feedfacefeedface';
const ROLE = 'arn:aws:iam::111111111111:role/orders-caller';
const FULL: ObservedIds = { callerSecurityGroupId: 'sg-0caller000000000001', endpointSecurityGroupId: 'sg-0endpoint0000000002', restApiId: 'a1b2c3d4e5', rootResourceId: 'rootid0001', allowedEndpointIds: [VPCE] };
const NOW = new Date('2026-11-25T21:00:00Z');
const withEndpoint = (endpoint: NonNullable<CrossAccountApi['spec']['consumer']['endpoint']>, ids: ObservedIds = FULL): KubeObject[] => {
  const cr = structuredClone(example);
  cr.spec.consumer.endpoint = endpoint;
  const r = renderObjects(cr, ids);
  return [...r.consumer, ...r.provider];
};
const call = (objs: KubeObject[], over: Partial<CallRequest> = {}) => explainCall(objs, { roleArn: ROLE, method: 'GET', path: '/items', now: NOW, ...over });

describe('explain: hostnames', () => {
  const noDns = withEndpoint({ privateDns: false });
  it('private DNS off: the endpoint-specific hostname reaches the API (200) and is the first target', () => {
    const v = call(noDns, { host: `a1b2c3d4e5-${VPCE}.execute-api.us-east-1.amazonaws.com` });
    expect([v.status, v.allowed, v.vpceId]).toEqual([200, true, VPCE]);
    expect(v.targets[0]!.url).toBe(`https://a1b2c3d4e5-${VPCE}.execute-api.us-east-1.amazonaws.com/prod`);
  });
  it("private DNS off: the API's own name does not reach it", () => {
    const v = call(noDns, { host: 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com' });
    expect([v.status, v.outcome, v.allowed]).toEqual([null, 'unreachable', false]);
    expect(v.message).toMatch(/has no private DNS/);
  });
  it('private DNS on (the default): the API name works; the endpoint-specific name does not resolve (not associated)', () => {
    const on = withEndpoint({});
    expect(call(on, { host: 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com' }).status).toBe(200);
    const v = call(on, { host: `a1b2c3d4e5-${VPCE}.execute-api.us-east-1.amazonaws.com` });
    expect(v.outcome).toBe('unreachable');
    expect(v.message).toMatch(/not in the RestAPI's endpointConfiguration.vpcEndpointIDs/);
  });
  it('the endpoint DNS name needs x-apigw-api-id naming this API', () => {
    const host = `${VPCE}-abcd1234.execute-api.us-east-1.vpce.amazonaws.com`;
    const missing = call(noDns, { host });
    expect([missing.status, missing.errorType]).toEqual([403, 'ForbiddenException']);
    expect(call(noDns, { host, apiIdHeader: 'a1b2c3d4e5' }).status).toBe(200);
    expect(call(noDns, { host, apiIdHeader: 'zzzzzzzzzz' }).outcome).toBe('unreachable');
  });
  it('refuses a host that is not an execute-api name, and a --vpce contradicting the host', () => {
    expect(() => call(noDns, { host: 'example.com' })).toThrow(/not an execute-api hostname/);
    expect(() => call(noDns, { host: `a1b2c3d4e5-${VPCE}.execute-api.us-east-1.amazonaws.com`, vpceId: 'vpce-0ffffffffffffffff' })).toThrow(/name different endpoints/);
  });
});

describe('explain: an existing endpoint', () => {
  const ids: ObservedIds = { ...FULL, allowedEndpointIds: [], endpointSecurityGroupIds: ['sg-0netteam00000000a'] };
  it('without its object in the manifests: layers 1-2 marked not xapi\'s, layer 2 assumed, call allowed with a note', () => {
    const v = call(withEndpoint({ id: EXISTING }, ids));
    expect(v.vpceId).toBe(EXISTING);
    expect(v.layers.map((l) => [l.layer, l.allowed, !!l.unmanaged])).toEqual([[1, true, true], [2, true, true], [3, true, false], [4, true, false]]);
    expect(v.layers[1]!.reason).toMatch(/not xapi's and not in the manifests: assumed to allow/);
    expect(v.status).toBe(200);
  });
  it('with the object as ACK reports it: its policy is evaluated (a deny there is a layer-2 denial)', () => {
    const observed: KubeObject = {
      apiVersion: ACK.VPCEndpoint.apiVersion,
      kind: ACK.VPCEndpoint.kind,
      metadata: { name: 'network-team', namespace: 'account-a' },
      spec: {
        serviceName: 'com.amazonaws.us-east-1.execute-api',
        vpcID: example.spec.consumer.vpcId,
        privateDNSEnabled: true,
        securityGroupIDs: ['sg-0netteam00000000a'],
        policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: '*' }] }),
      },
      status: { vpcEndpointID: EXISTING },
    };
    const v = call([...withEndpoint({ id: EXISTING }, ids), observed]);
    expect([v.status, v.decidedBy, v.layers[1]!.unmanaged]).toEqual([403, 2, true]);
    // its groups differ from the caller's egress: layer 1 says so
    (observed.spec as { securityGroupIDs: string[] }).securityGroupIDs = ['sg-0other000000000b'];
    const w = call([...withEndpoint({ id: EXISTING }, ids), observed]);
    expect([w.outcome, w.decidedBy]).toEqual(['timeout', 1]);
  });
  it('before ACK reports its groups the caller group has no egress: layer 1 denies', () => {
    const v = call(withEndpoint({ id: EXISTING }, { ...FULL, allowedEndpointIds: [] }));
    expect([v.outcome, v.decidedBy]).toEqual(['timeout', 1]);
    expect(v.layers[0]!.reason).toMatch(/no security group has egress tcp\/443 to the groups of vpce-0feedfacefeedface/);
  });
});
