// The four-layer table and the policies, checked on the rendered objects of the shipped example:
// with every ID known, with none known (fail-closed), and in between.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { CrossAccountApi, KubeObject, ObservedIds } from '../../../src/api/types.js';
import { PATH_ANNOTATION } from '../../../src/api/types.js';
import { endpointGroup, objectNames } from '../../../src/charts/names.js';
import { renderObjects } from '../../../src/charts/render.js';
import type { PolicyDocument, Statement } from '../../../src/policy/documents.js';
import { FULL_OBSERVED } from '../../fixtures/observed.js';

const example = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;
const ROLE = 'arn:aws:iam::111111111111:role/orders-caller';
const FULL: ObservedIds = { ...FULL_OBSERVED };

type Spec = Record<string, unknown>;
const spec = (o: KubeObject) => (o as unknown as { spec: Spec }).spec;
const ofKind = (objs: KubeObject[], kind: string) => objs.filter((o) => o.kind === kind);
const one = (objs: KubeObject[], kind: string, name?: string) => {
  const found = ofKind(objs, kind).filter((o) => !name || o.metadata.name === name);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const doc = (json: unknown) => JSON.parse(json as string) as PolicyDocument;
const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const allows = (d: PolicyDocument) => d.Statement.filter((s) => s.Effect === 'Allow');

function expectNoWildcardInvoke(d: PolicyDocument) {
  for (const s of allows(d)) {
    const actions = list(s.Action as string | string[]);
    if (!actions.some((a) => a.startsWith('execute-api'))) continue;
    for (const r of list(s.Resource as string | string[])) {
      expect(r).not.toBe('*');
      expect(r).toMatch(/^arn:aws:execute-api:us-east-1:222222222222:a1b2c3d4e5\//);
    }
    expect(s.NotResource).toBeUndefined();
    expect(s.Principal).not.toBe('*');
  }
}

describe('consumer (account A) with every ID known', () => {
  const { consumer } = renderObjects(example, FULL);

  it('layer 1: two groups, each with exactly one TCP 443 rule naming the other group, no CIDRs', () => {
    const sgs = ofKind(consumer, 'SecurityGroup');
    expect(sgs.map((s) => s.metadata.name).sort()).toEqual(['orders-caller-sg', objectNames(example).endpointSecurityGroup]);
    const caller = spec(one(consumer, 'SecurityGroup', 'orders-caller-sg'));
    const endpoint = spec(one(consumer, 'SecurityGroup', objectNames(example).endpointSecurityGroup));
    // egress is declared on both (ACK drops AWS's default allow-all egress and keeps the spec's)
    expect(caller.ingressRules).toEqual([]);
    expect(endpoint.egressRules).toEqual([]);
    const [out] = caller.egressRules as Spec[];
    const [inn] = endpoint.ingressRules as Spec[];
    expect(caller.egressRules).toHaveLength(1);
    expect(endpoint.ingressRules).toHaveLength(1);
    for (const [rule, peer] of [
      [out!, FULL.endpointSecurityGroupId],
      [inn!, FULL.callerSecurityGroupId],
    ] as const) {
      expect(rule).toMatchObject({ ipProtocol: 'tcp', fromPort: 443, toPort: 443 });
      expect(rule.ipRanges).toBeUndefined();
      expect(rule.ipv6Ranges).toBeUndefined();
      expect(rule.prefixListIDs).toBeUndefined();
      expect((rule.userIDGroupPairs as Spec[]).map((p) => p.groupID)).toEqual([peer]);
    }
  });

  it('layer 2: interface endpoint for execute-api, private DNS, 2+ subnets, the endpoint SG, Project tag', () => {
    const vpce = spec(one(consumer, 'VPCEndpoint'));
    expect(vpce).toMatchObject({
      serviceName: 'com.amazonaws.us-east-1.execute-api',
      vpcEndpointType: 'Interface',
      privateDNSEnabled: true,
      vpcID: 'vpc-0a1b2c3d4e5f60718',
      securityGroupIDs: [FULL.endpointSecurityGroupId],
      tags: [{ key: 'Project', value: 'orders' }],
    });
    expect(new Set(vpce.subnetIDs as string[]).size).toBeGreaterThanOrEqual(2);
  });

  it('layer 2: endpoint policy denies first, then allows only the role on this API with the Project tag', () => {
    const d = doc(spec(one(consumer, 'VPCEndpoint')).policyDocument);
    expect(d.Statement[0]!.Effect).toBe('Deny');
    const [allow, ...more] = allows(d);
    expect(more).toHaveLength(0);
    expect(allow).toMatchObject({
      Principal: { AWS: ROLE },
      Action: 'execute-api:Invoke',
      Resource: 'arn:aws:execute-api:us-east-1:222222222222:a1b2c3d4e5/*',
      Condition: { StringEquals: { 'aws:resourceTag/Project': 'orders' } },
    });
    const denies = d.Statement.filter((s) => s.Effect === 'Deny');
    expect(denies.some((s) => s.NotResource === 'arn:aws:execute-api:us-east-1:222222222222:a1b2c3d4e5/*')).toBe(true);
    expect(denies.some((s) => JSON.stringify(s.Condition) === JSON.stringify({ ArnNotEquals: { 'aws:PrincipalArn': ROLE } }))).toBe(true);
    expectNoWildcardInvoke(d);
  });

  it('layer 4 (identity): Lambda trust, VPC access, exact STAGE/METHOD/path ARNs', () => {
    const role = spec(one(consumer, 'Role', 'orders-caller-role'));
    expect(doc(role.assumeRolePolicyDocument).Statement).toEqual([
      expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }),
    ]);
    expect(role.policies).toEqual(['arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']);
    const invoke = doc((role.inlinePolicies as Record<string, string>)['xapi-invoke']);
    expect(list(allows(invoke)[0]!.Resource as string[]).sort()).toEqual([
      'arn:aws:execute-api:us-east-1:222222222222:a1b2c3d4e5/prod/GET/items',
      'arn:aws:execute-api:us-east-1:222222222222:a1b2c3d4e5/prod/GET/items/*',
      'arn:aws:execute-api:us-east-1:222222222222:a1b2c3d4e5/prod/POST/items',
    ]);
    expectNoWildcardInvoke(invoke);
  });

  it("every object carries the region annotation, in the consumer namespace; the CR's own the owner label, the shared endpoint's the group label and no owner", () => {
    const shared = [objectNames(example).vpcEndpoint, objectNames(example).endpointSecurityGroup];
    expect(consumer.filter((o) => shared.includes(o.metadata.name))).toHaveLength(2);
    for (const o of consumer) {
      expect(o.metadata.namespace).toBe('account-a');
      expect(o.metadata.annotations?.['services.k8s.aws/region']).toBe('us-east-1');
      if (shared.includes(o.metadata.name)) {
        expect(o.metadata.labels).toEqual({ 'xapi.dev/endpoint-group': endpointGroup(example)!.label, 'app.kubernetes.io/managed-by': 'xapi' });
      } else expect(o.metadata.labels?.['xapi.dev/owner']).toBe('xapi-system.orders');
    }
  });

  it('the optional Function runs in the caller SG on the same subnets', () => {
    const withFn = {
      ...example,
      spec: { ...example.spec, consumer: { ...example.spec.consumer, function: { name: 'orders-caller', code: { s3Bucket: 'b', s3Key: 'k.zip' } } } },
    } as CrossAccountApi;
    const fn = spec(one(renderObjects(withFn, FULL).consumer, 'Function'));
    expect(fn.vpcConfig).toEqual({ subnetIDs: example.spec.consumer.subnetIds, securityGroupIDs: [FULL.callerSecurityGroupId] });
    expect(fn.roleRef).toEqual({ from: { name: 'orders-caller-role' } });
    expect(spec(one(renderObjects(withFn, {}).consumer, 'Function')).vpcConfig).toEqual({
      subnetIDs: example.spec.consumer.subnetIds,
      securityGroupRefs: [{ from: { name: 'orders-caller-sg' } }],
    });
  });
});

describe('provider (account B) with every ID known', () => {
  const { provider } = renderObjects(example, FULL);

  it('layer 3: PRIVATE RestAPI whose policy denies unless aws:sourceVpce, then allows the role on STAGE/*', () => {
    const api = spec(one(provider, 'RestAPI'));
    expect(api.endpointConfiguration).toEqual({ types: ['PRIVATE'] });
    expect(api.tags).toEqual({ Project: 'orders' });
    const d = doc(api.policy);
    const [deny, allow] = d.Statement as [Statement, Statement];
    expect(d.Statement).toHaveLength(2);
    expect(deny).toMatchObject({
      Effect: 'Deny',
      Principal: '*',
      Action: 'execute-api:Invoke',
      Resource: 'arn:aws:execute-api:us-east-1:222222222222:a1b2c3d4e5/*',
      Condition: { StringNotEquals: { 'aws:sourceVpce': 'vpce-0aaaaaaaaaaaaaaaa' } },
    });
    expect(allow).toMatchObject({
      Effect: 'Allow',
      Principal: { AWS: ROLE },
      Resource: 'arn:aws:execute-api:us-east-1:222222222222:a1b2c3d4e5/prod/*',
      Condition: { StringEquals: { 'aws:sourceVpce': 'vpce-0aaaaaaaaaaaaaaaa' } },
    });
  });

  it('layer 4: one AWS_IAM Method and one Integration per route', () => {
    const methods = ofKind(provider, 'Method');
    expect(methods).toHaveLength(example.spec.provider.routes.length);
    for (const m of methods) expect(spec(m).authorizationType).toBe('AWS_IAM');
    expect(ofKind(provider, 'Integration')).toHaveLength(example.spec.provider.routes.length);
  });

  it('nested paths: /items hangs off the root ID, /items/{id} off /items by reference', () => {
    const resources = ofKind(provider, 'Resource');
    const byPath = new Map(resources.map((r) => [r.metadata.annotations?.[PATH_ANNOTATION], spec(r)]));
    expect([...byPath.keys()].sort()).toEqual(['/items', '/items/{id}']);
    expect(byPath.get('/items')).toMatchObject({ parentID: 'r00tid', pathPart: 'items' });
    expect(byPath.get('/items/{id}')).toMatchObject({ parentRef: { from: { name: resources.find((r) => r.metadata.annotations?.[PATH_ANNOTATION] === '/items')!.metadata.name } }, pathPart: '{id}' });
  });

  it('deploys the stage once every method is in place', () => {
    const stage = spec(one(provider, 'Stage'));
    const deployment = one(provider, 'Deployment');
    expect(stage).toMatchObject({ stageName: 'prod', deploymentRef: { from: { name: deployment.metadata.name } } });
  });

  it('a changed policy gives a new Deployment name (API Gateway applies policies on redeploy)', () => {
    const other = renderObjects(example, { ...FULL, allowedEndpointIds: ['vpce-0bbbbbbbbbbbbbbbb'] }).provider;
    expect(one(other, 'Deployment').metadata.name).not.toBe(one(provider, 'Deployment').metadata.name);
  });
});

describe('fail-closed while IDs are unknown', () => {
  const { consumer, provider } = renderObjects(example, {});

  it('no SG rules until both group IDs are known; the endpoint refers to its group by name', () => {
    for (const sg of ofKind(consumer, 'SecurityGroup')) {
      expect(spec(sg).ingressRules).toEqual([]);
      expect(spec(sg).egressRules).toEqual([]);
    }
    const half = renderObjects(example, { callerSecurityGroupId: 'sg-1' }).consumer;
    for (const sg of ofKind(half, 'SecurityGroup')) expect([...(spec(sg).ingressRules as []), ...(spec(sg).egressRules as [])]).toEqual([]);
    expect(spec(one(consumer, 'VPCEndpoint')).securityGroupRefs).toEqual([{ from: { name: objectNames(example).endpointSecurityGroup } }]);
  });

  it('endpoint policy is deny-all and the role has no invoke grant before the API ID is known', () => {
    const d = doc(spec(one(consumer, 'VPCEndpoint')).policyDocument);
    expect(allows(d)).toHaveLength(0);
    expect(d.Statement).toEqual([expect.objectContaining({ Effect: 'Deny', Principal: '*', Action: 'execute-api:*' })]);
    expect(spec(one(consumer, 'Role', 'orders-caller-role')).inlinePolicies).toBeUndefined();
  });

  it('resource policy is deny-all before any endpoint is known, even with the API ID', () => {
    for (const p of [provider, renderObjects(example, { restApiId: 'a1b2c3d4e5' }).provider]) {
      const d = doc(spec(one(p, 'RestAPI')).policy);
      expect(allows(d)).toHaveLength(0);
      expect(d.Statement).toHaveLength(1);
      expect(d.Statement[0]).toMatchObject({ Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke' });
      expect(d.Statement[0]!.Condition).toBeUndefined();
    }
  });

  it('no Resource, Method, Deployment or Stage until the root resource ID is known', () => {
    // the audit trail's log group and event data store need no ID (docs/audit.md)
    expect(provider.map((o) => o.kind)).toEqual(['RestAPI', 'LogGroup', 'EventDataStore']);
    const noEndpoint = renderObjects(example, { ...FULL, allowedEndpointIds: [] }).provider;
    expect(ofKind(noEndpoint, 'Method')).toHaveLength(3);
    expect(ofKind(noEndpoint, 'Stage')).toHaveLength(0); // nothing to deploy for while no endpoint is admitted
  });

  it('rotation: old and new endpoint both admitted while both are listed', () => {
    const d = doc(spec(one(renderObjects(example, { ...FULL, allowedEndpointIds: ['vpce-new', 'vpce-old'] }).provider, 'RestAPI')).policy);
    expect(d.Statement[0]!.Condition).toEqual({ StringNotEquals: { 'aws:sourceVpce': ['vpce-new', 'vpce-old'] } });
  });
});

describe('the order API Gateway needs, when creation is observed (the operator)', () => {
  const keys = example.spec.provider.routes.map((r) => `${r.method} ${r.path}`);

  it('no Integration before its Method exists in AWS, no Deployment before every Integration does', () => {
    const none = renderObjects(example, { ...FULL, createdMethods: [], createdIntegrations: [] }).provider;
    expect(ofKind(none, 'Method')).toHaveLength(3);
    expect(ofKind(none, 'Integration')).toHaveLength(0);
    expect(ofKind(none, 'Deployment')).toHaveLength(0);

    const some = renderObjects(example, { ...FULL, createdMethods: [keys[0]!], createdIntegrations: [] }).provider;
    expect(ofKind(some, 'Integration').map((o) => o.metadata.annotations?.['xapi.dev/route'])).toEqual([keys[0]]);
    expect(ofKind(some, 'Stage')).toHaveLength(0);

    const notAllIntegrated = renderObjects(example, { ...FULL, createdMethods: keys, createdIntegrations: keys.slice(1) }).provider;
    expect(ofKind(notAllIntegrated, 'Integration')).toHaveLength(3);
    expect(ofKind(notAllIntegrated, 'Deployment')).toHaveLength(0);

    const all = renderObjects(example, { ...FULL, createdMethods: keys, createdIntegrations: keys }).provider;
    expect(ofKind(all, 'Deployment')).toHaveLength(1);
    expect(ofKind(all, 'Stage')).toHaveLength(1);
  });

  it('a static render (creation not observed) has everything, ordered by Argo CD sync waves', () => {
    const { consumer, provider } = renderObjects(example, FULL);
    const wave = (o: KubeObject) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave']);
    const of = (objs: KubeObject[], kind: string) => ofKind(objs, kind).map(wave);
    const max = (xs: number[]) => Math.max(...xs);
    const min = (xs: number[]) => Math.min(...xs);
    expect(max(of(consumer, 'SecurityGroup'))).toBeLessThan(min(of(consumer, 'VPCEndpoint')));
    const byPath = new Map(ofKind(provider, 'Resource').map((r) => [r.metadata.annotations?.[PATH_ANNOTATION], wave(r)]));
    expect(max(of(provider, 'RestAPI'))).toBeLessThan(byPath.get('/items')!);
    expect(byPath.get('/items')!).toBeLessThan(byPath.get('/items/{id}')!);
    expect(max([...byPath.values()])).toBeLessThan(min(of(provider, 'Method')));
    expect(max(of(provider, 'Method'))).toBeLessThan(min(of(provider, 'Integration')));
    expect(max(of(provider, 'Integration'))).toBeLessThan(min(of(provider, 'Deployment')));
    expect(max(of(provider, 'Deployment'))).toBeLessThan(min(of(provider, 'Stage')));
  });
});

describe('determinism', () => {
  it('renders byte-identical output for the same input', () => {
    expect(JSON.stringify(renderObjects(example, FULL))).toBe(JSON.stringify(renderObjects(example, FULL)));
  });
});
