// consumer.endpoint: an existing endpoint (brownfield), private DNS off, and the one-private-DNS-
// endpoint-per-VPC rules, on the pure decisions and on the rendered objects of the shipped example.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { endpointGroupKey, endpointPlan, invokeTargets, invokeUrl, parseExecuteApiHost, unmanagedLayers } from '../../../src/api/endpoint.js';
import type { CrossAccountApi, KubeObject, ObservedIds } from '../../../src/api/types.js';
import { OWNER_LABEL } from '../../../src/api/types.js';
import { renderObjects } from '../../../src/charts/render.js';
import { synth } from '../../../src/cli/commands/synth.js';
import type { PolicyDocument } from '../../../src/policy/documents.js';
import { lint } from '../../../src/policy/lint.js';
import { admissionProblem, checkClaims, endpointObject, type EndpointClaimant } from '../../../src/policy/vpc-endpoints.js';
import { FULL_OBSERVED } from '../../fixtures/observed.js';

const example = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;
const EXISTING = 'vpce-0feedfacefeedface';
const FULL: ObservedIds = { ...FULL_OBSERVED };

function cr(name: string, edit: (c: CrossAccountApi) => void = () => {}): CrossAccountApi {
  const c = structuredClone(example);
  c.metadata = { ...c.metadata, name };
  edit(c);
  return c;
}
const brownfield = (privateDns?: boolean) => cr('orders', (c) => (c.spec.consumer.endpoint = { id: EXISTING, ...(privateDns !== undefined && { privateDns }) }));
const noDns = () => cr('orders', (c) => (c.spec.consumer.endpoint = { privateDns: false }));
const kinds = (objs: KubeObject[]) => objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
const one = (objs: KubeObject[], kind: string, name?: string) => {
  const found = objs.filter((o) => o.kind === kind && (!name || o.metadata.name === name));
  expect(found).toHaveLength(1);
  return found[0]! as KubeObject & { spec: Record<string, unknown> };
};
const policy = (api: KubeObject) => JSON.parse(String((api.spec as { policy: string }).policy)) as PolicyDocument;
const asInputs = (objs: KubeObject[]) => objs.map((object, index) => ({ object, file: 'm.yaml', index }));

describe('endpoint decisions (src/api/endpoint.ts)', () => {
  it('a CR without consumer.endpoint.id uses the managed endpoint of its group, with private DNS by default', () => {
    expect(endpointPlan(example.spec)).toEqual({ managed: true, privateDns: true, group: `cluster-a/account-a/111111111111/us-east-1/${example.spec.consumer.vpcId}` });
    expect(endpointGroupKey(cr('x', (c) => delete c.spec.consumer.cluster).spec)).toBe(`local/account-a/111111111111/us-east-1/${example.spec.consumer.vpcId}`);
    expect(unmanagedLayers(example.spec)).toEqual([]);
  });
  it('an existing endpoint: not managed, layers 1 and 2 named as not xapi\'s', () => {
    expect(endpointPlan(brownfield().spec)).toEqual({ managed: false, id: EXISTING, privateDns: true });
    const layers = unmanagedLayers(brownfield(false).spec);
    expect(layers.map((l) => l.layer)).toEqual([1, 2]);
    expect(layers[1]!.message).toContain(`the policy of ${EXISTING} is not xapi's`);
  });
  it('invoke targets: the API name with private DNS; without, the endpoint-specific hostname, then the endpoint DNS name with x-apigw-api-id', () => {
    const base = { apiId: 'a1b2c3d4e5', region: 'us-east-1', stage: 'prod' };
    expect(invokeUrl({ ...base, privateDns: true, vpceId: EXISTING })).toBe('https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod');
    const targets = invokeTargets({ ...base, privateDns: false, vpceId: EXISTING, vpceDnsName: `${EXISTING}-abcd1234.execute-api.us-east-1.vpce.amazonaws.com` });
    expect(targets.map((t) => [t.url, t.headers])).toEqual([
      [`https://a1b2c3d4e5-${EXISTING}.execute-api.us-east-1.amazonaws.com/prod`, {}],
      [`https://${EXISTING}-abcd1234.execute-api.us-east-1.vpce.amazonaws.com/prod`, { 'x-apigw-api-id': 'a1b2c3d4e5' }],
    ]);
    expect(invokeUrl({ ...base, privateDns: false })).toBeUndefined();
  });
  it('parses the three execute-api host forms, and nothing else', () => {
    expect(parseExecuteApiHost('a1b2c3d4e5.execute-api.us-east-1.amazonaws.com')).toEqual({ kind: 'api', apiId: 'a1b2c3d4e5', region: 'us-east-1' });
    expect(parseExecuteApiHost(`A1B2C3D4E5-${EXISTING}.execute-api.eu-west-1.amazonaws.com:443`)).toEqual({ kind: 'endpoint-specific', apiId: 'a1b2c3d4e5', vpceId: EXISTING, region: 'eu-west-1' });
    expect(parseExecuteApiHost(`${EXISTING}-abcd1234.execute-api.us-east-1.vpce.amazonaws.com`)).toEqual({ kind: 'vpce', vpceId: EXISTING, region: 'us-east-1' });
    expect(parseExecuteApiHost('127.0.0.1:8443')).toBeUndefined();
    expect(parseExecuteApiHost('a1b2c3d4e5.execute-api.us-east-1.amazonaws.com.evil.test')).toBeUndefined();
  });
});

describe('render: an existing endpoint (brownfield)', () => {
  it('renders no VPCEndpoint and no endpoint security group; the caller group has no egress until ACK reports the endpoint\'s groups', () => {
    const r = renderObjects(brownfield(), {});
    expect(kinds(r.consumer)).toEqual(['Role/orders-caller-role', 'SecurityGroup/orders-caller-sg']);
    expect(one(r.consumer, 'SecurityGroup').spec.egressRules).toEqual([]);
  });
  it('B\'s resource policy names the given ID from the spec alone; the RestAPI says which endpoint is not xapi\'s', () => {
    const r = renderObjects(brownfield(), {});
    const api = one(r.provider, 'RestAPI');
    expect(policy(api).Statement[0]!.Condition).toEqual({ StringNotEquals: { 'aws:sourceVpce': EXISTING } });
    expect(api.metadata.annotations?.['xapi.dev/unmanaged-endpoint']).toBe(EXISTING);
    // private DNS on: no association needed
    expect(api.spec.endpointConfiguration).toEqual({ types: ['PRIVATE'] });
  });
  it('with every ID known: egress 443 to each of the endpoint\'s groups only, and a deployed API (rotation IDs kept too)', () => {
    const r = renderObjects(brownfield(), { ...FULL, endpointSecurityGroupIds: ['sg-0bbbbbbbbbbbbbbbb', 'sg-0aaaaaaaaaaaaaaaa'] });
    const egress = one(r.consumer, 'SecurityGroup').spec.egressRules as Array<{ userIDGroupPairs: Array<{ groupID: string }>; fromPort: number }>;
    expect(egress.map((e) => [e.fromPort, e.userIDGroupPairs[0]!.groupID])).toEqual([[443, 'sg-0aaaaaaaaaaaaaaaa'], [443, 'sg-0bbbbbbbbbbbbbbbb']]);
    expect(policy(one(r.provider, 'RestAPI')).Statement[0]!.Condition).toEqual({ StringNotEquals: { 'aws:sourceVpce': [EXISTING, 'vpce-0aaaaaaaaaaaaaaaa'].sort() } });
    expect(r.provider.some((o) => o.kind === 'Stage')).toBe(true);
    expect(lint(asInputs([...r.consumer, ...r.provider])).filter((f) => f.level === 'error')).toEqual([]);
  });
  it('without private DNS: the existing endpoint is associated with the API (vpcEndpointIDs)', () => {
    const api = one(renderObjects(brownfield(false), {}).provider, 'RestAPI');
    expect(api.spec.endpointConfiguration).toEqual({ types: ['PRIVATE'], vpcEndpointIDs: [EXISTING] });
  });
});

describe('render: private DNS off', () => {
  it('the VPCEndpoint renders privateDNSEnabled false, marked deliberate; lint does not flag it', () => {
    const r = renderObjects(noDns(), FULL);
    const vpce = one(r.consumer, 'VPCEndpoint');
    expect(vpce.spec.privateDNSEnabled).toBe(false);
    expect(vpce.metadata.annotations?.['xapi.dev/private-dns']).toBe('false');
    expect(lint(asInputs([...r.consumer, ...r.provider])).filter((f) => f.level === 'error')).toEqual([]);
    // the same object without the marker is still a finding
    delete vpce.metadata.annotations!['xapi.dev/private-dns'];
    expect(lint(asInputs([vpce])).map((f) => f.ruleId)).toContain('XAPI007');
  });
  it('the RestAPI lists the allowed endpoints in vpcEndpointIDs (the alias records the caller calls); none before an ID is known', () => {
    expect(one(renderObjects(noDns(), { ...FULL, allowedEndpointIds: ['vpce-0bbbbbbbbbbbbbbbb', 'vpce-0aaaaaaaaaaaaaaaa'] }).provider, 'RestAPI').spec.endpointConfiguration).toEqual({
      types: ['PRIVATE'],
      vpcEndpointIDs: ['vpce-0aaaaaaaaaaaaaaaa', 'vpce-0bbbbbbbbbbbbbbbb'],
    });
    expect(one(renderObjects(noDns(), {}).provider, 'RestAPI').spec.endpointConfiguration).toEqual({ types: ['PRIVATE'] });
  });
  it('private DNS on (the default) leaves the RestAPI unassociated and the endpoint on', () => {
    const r = renderObjects(example, FULL);
    expect(one(r.consumer, 'VPCEndpoint').spec.privateDNSEnabled).toBe(true);
    expect(one(r.provider, 'RestAPI').spec.endpointConfiguration).toEqual({ types: ['PRIVATE'] });
  });
});

const claim = (c: CrossAccountApi, created?: string): EndpointClaimant => ({ key: `${c.metadata.namespace}/${c.metadata.name}`, spec: c.spec, ...(created && { created }), owner: `${c.metadata.namespace}.${c.metadata.name}` });
const otherNs = (name: string) => cr(name, (c) => (c.spec.consumer.namespace = 'account-a-2'));
const otherVpc = (name: string) => cr(name, (c) => (c.spec.consumer.vpcId = 'vpc-0b1b2b3b4b5b6b7b8'));

describe('one private-DNS endpoint per VPC (src/policy/vpc-endpoints.ts)', () => {
  it('three CRs of one group and one in another VPC: no conflict', () => {
    expect(checkClaims([claim(cr('a')), claim(cr('b')), claim(cr('c')), claim(otherVpc('d'))])).toEqual([]);
  });
  it('two consumer namespaces in one VPC: two private-DNS endpoints (XAPI013), naming both', () => {
    const [c] = checkClaims([claim(cr('a')), claim(otherNs('b'))]);
    expect(c!.ruleId).toBe('XAPI013');
    expect(c!.subjects.sort()).toEqual(['xapi-system/a', 'xapi-system/b']);
    expect(c!.message).toMatch(/would have 2 execute-api endpoints with private DNS/);
  });
  it('an existing endpoint with private DNS beside the managed one is refused; without private DNS it may share the VPC', () => {
    const bf = cr('bf', (c) => (c.spec.consumer.endpoint = { id: EXISTING }));
    expect(checkClaims([claim(cr('a')), claim(bf)]).map((c) => c.ruleId)).toEqual(['XAPI013']);
    const quiet = cr('bf', (c) => (c.spec.consumer.endpoint = { id: EXISTING, privateDns: false }));
    expect(checkClaims([claim(cr('a')), claim(quiet)])).toEqual([]);
    // two CRs naming the same existing endpoint are one endpoint
    expect(checkClaims([claim(bf), claim(cr('bf2', (c) => (c.spec.consumer.endpoint = { id: EXISTING })))])).toEqual([]);
  });
  it('members of one group must agree on privateDns (XAPI012)', () => {
    const off = cr('b', (c) => (c.spec.consumer.endpoint = { privateDns: false }));
    const conflicts = checkClaims([claim(cr('a')), claim(off)]);
    expect(conflicts.map((c) => c.ruleId)).toEqual(['XAPI012']);
    expect(conflicts[0]!.message).toContain('xapi-system/b (privateDns false)');
  });
  it('admission: the older CR proceeds, the newer is refused, and the message says why', () => {
    const a = claim(cr('a'), '2026-01-01T00:00:00Z');
    const b = claim(otherNs('b'), '2026-01-02T00:00:00Z');
    expect(admissionProblem(a, [a, b], [])).toBeUndefined();
    expect(admissionProblem(b, [a, b], [])).toMatch(/^XAPI013: VPC vpc-0a1b2c3d4e5f60718 \(us-east-1\) already has an execute-api endpoint with private DNS: group .* of xapi-system\/a/);
  });
  it('admission: an endpoint xapi does not own that ACK reports in the namespace refuses a private-DNS CR; the CR\'s own existing endpoint does not', () => {
    const foreign = endpointObject({
      apiVersion: 'ec2.services.k8s.aws/v1alpha1',
      kind: 'VPCEndpoint',
      metadata: { name: 'network-team', namespace: 'account-a' },
      spec: { serviceName: 'com.amazonaws.us-east-1.execute-api', vpcID: example.spec.consumer.vpcId, privateDNSEnabled: true },
      status: { vpcEndpointID: EXISTING },
    })!;
    expect(foreign).toMatchObject({ id: EXISTING, privateDns: true, region: 'us-east-1' });
    const a = claim(cr('a'));
    expect(admissionProblem(a, [a], [foreign])).toMatch(/VPCEndpoint account-a\/network-team \(vpce-0feedfacefeedface\), not xapi's/);
    const bf = claim(brownfield());
    expect(admissionProblem(bf, [bf], [foreign])).toBeUndefined();
    const quiet = claim(noDns());
    expect(admissionProblem(quiet, [quiet], [foreign])).toBeUndefined();
    // xapi's own shared endpoint of the group (same namespace and VPC; no owner label, xapi's
    // managed-by label) is not a second one, for the first member and for a later one
    const own = endpointObject({ ...renderObjects(cr('a'), FULL).consumer.find((o) => o.kind === 'VPCEndpoint')!, status: { vpcEndpointID: 'vpce-0aaaaaaaaaaaaaaaa' } })!;
    expect(own).toMatchObject({ xapi: true, privateDns: true });
    expect(own.owner).toBeUndefined();
    expect(admissionProblem(a, [a], [own])).toBeUndefined();
    const later = claim(cr('z'), '2027-01-01T00:00:00Z');
    expect(admissionProblem(later, [a, later], [own])).toBeUndefined();
    // another service's endpoint is not execute-api
    expect(endpointObject({ apiVersion: 'ec2.services.k8s.aws/v1alpha1', kind: 'VPCEndpoint', metadata: { name: 's3' }, spec: { serviceName: 'com.amazonaws.us-east-1.s3', vpcID: 'vpc-1' } })).toBeUndefined();
  });
});

describe('xapi synth refuses a VPC with two private-DNS endpoints', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'xapi-endpoint-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const flags = (input: string, out: string) => ({ input, out, image: 'x:1', operatorNamespace: 'xapi-system', replicas: '1', repoUrl: 'https://example.test/r.git', revision: 'HEAD', manifestsPath: 'manifests', argocdNamespace: 'argocd', argocdProject: 'default' });
  it('names the rule and both CRs; writes nothing', async () => {
    const input = join(work, 'in');
    mkdirSync(input);
    writeFileSync(join(input, 'a.yaml'), stringify(cr('a')));
    writeFileSync(join(input, 'b.yaml'), stringify(otherNs('b')));
    const out = join(work, 'out');
    await expect(synth(flags(input, out))).rejects.toThrow(/XAPI013: VPC us-east-1\/vpc-0a1b2c3d4e5f60718 would have 2 execute-api endpoints with private DNS: .*xapi-system\/a.*xapi-system\/b/s);
    expect(existsSync(out)).toBe(false);
  });
  it('three CRs in one VPC (one group) and one in another synthesize', async () => {
    const input = join(work, 'in2');
    mkdirSync(input);
    for (const c of [cr('a'), cr('b'), cr('c'), otherVpc('d')]) writeFileSync(join(input, `${c.metadata.name}.yaml`), stringify(c));
    const out = join(work, 'out2');
    await synth(flags(input, out));
    expect(existsSync(join(out, 'apis'))).toBe(true);
  });
});
