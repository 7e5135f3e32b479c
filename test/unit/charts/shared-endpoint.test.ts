// One execute-api endpoint per VPC: synth groups CRs by consumer cluster, namespace, account,
// region and VPC; each group's endpoint policy is the union of its members' statements (deny
// first), its security group admits each caller group; too large a policy is refused by name.
import { readFileSync } from 'node:fs';
import { Chart } from 'cdk8s';
import { parse } from 'yaml';
import type { CrossAccountApi, KubeObject, ObservedIds } from '../../../src/api/types.js';
import { buildApp } from '../../../src/charts/app.js';
import { endpointGroup, objectNames } from '../../../src/charts/names.js';
import { EndpointPolicyTooLarge, groupPolicyJson, renderEndpointGroup } from '../../../src/charts/shared-endpoint.js';
import { ENDPOINT_POLICY_MAX_CHARS, type PolicyDocument, type Statement } from '../../../src/policy/documents.js';

const example = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;
const VPC_1 = 'vpc-0a1b2c3d4e5f60718';
const VPC_2 = 'vpc-0ffffffffffffffff';

function crIn(name: string, vpcId: string, roleName = `${name}-caller`): CrossAccountApi {
  const cr = structuredClone(example);
  cr.metadata = { name, namespace: 'xapi-system' };
  cr.spec.consumer.vpcId = vpcId;
  cr.spec.consumer.roleName = roleName;
  cr.spec.provider.apiName = `${name}-api`;
  return cr;
}
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
/** IDs ACK would report for CR i: its API, its caller group, and the group SG of its VPC. */
function idsFor(i: number, vpcId: string): ObservedIds {
  return { restApiId: `api${hex(i, 7)}`, callerSecurityGroupId: `sg-0c${hex(i, 15)}`, endpointSecurityGroupId: `sg-0e${vpcId.slice(-15)}`, rootResourceId: 'r00t', allowedEndpointIds: ['vpce-0123456789abcdef0'] };
}

const crs = [crIn('alpha', VPC_1), crIn('beta', VPC_1), crIn('gamma', VPC_1), crIn('delta', VPC_2)];
const observed = Object.fromEntries(crs.map((cr, i) => [`xapi-system/${cr.metadata.name}`, idsFor(i, cr.spec.consumer.vpcId)]));
const options = {
  outdir: '/nonexistent',
  operator: { namespace: 'xapi-system', image: 'x:1', replicas: 1 },
  argocd: { namespace: 'argocd', project: 'default', repoUrl: 'https://example.invalid/x.git', targetRevision: 'HEAD', basePath: 'manifests' },
  observed,
};

function clusterObjects(list: readonly CrossAccountApi[], folder = 'cluster-a'): KubeObject[] {
  const app = buildApp(list, options);
  const chart = app.node.children.find((c) => c instanceof Chart && c.node.id === folder) as Chart;
  return chart.toJson() as KubeObject[];
}
const ofKind = (objs: KubeObject[], kind: string) => objs.filter((o) => o.kind === kind);
const spec = (o: KubeObject) => o.spec as Record<string, any>;
const doc = (o: KubeObject) => JSON.parse(spec(o).policyDocument as string) as PolicyDocument;
const apiArn = (i: number) => `arn:aws:execute-api:us-east-1:222222222222:api${hex(i, 7)}/*`;
const roleArn = (name: string) => `arn:aws:iam::111111111111:role/${name}-caller`;

describe('synth: three CRs in one VPC and one in another', () => {
  const objs = clusterObjects(crs);
  const endpoints = ofKind(objs, 'VPCEndpoint');
  const g1 = endpointGroup(crs[0]!)!;
  const g2 = endpointGroup(crs[3]!)!;

  it('renders two endpoints and two endpoint groups, one per VPC, named and labelled by group, no owner label', () => {
    expect(endpoints.map((e) => [e.metadata.name, spec(e).vpcID]).sort()).toEqual([[g1.vpcEndpoint, VPC_1], [g2.vpcEndpoint, VPC_2]].sort());
    expect(g1.label).not.toBe(g2.label);
    const groupSgs = ofKind(objs, 'SecurityGroup').filter((o) => o.metadata.labels?.['xapi.dev/endpoint-group']);
    expect(groupSgs.map((o) => o.metadata.name).sort()).toEqual([g1.endpointSecurityGroup, g2.endpointSecurityGroup].sort());
    for (const o of [...endpoints, ...groupSgs]) expect(o.metadata.labels?.['xapi.dev/owner']).toBeUndefined();
    // Every CR still has its own caller group, and names the shared objects of its VPC.
    expect(ofKind(objs, 'SecurityGroup').filter((o) => o.metadata.labels?.['xapi.dev/owner']).map((o) => o.metadata.name).sort()).toEqual(crs.map((c) => objectNames(c).callerSecurityGroup).sort());
    expect(crs.map((c) => objectNames(c).vpcEndpoint)).toEqual([g1.vpcEndpoint, g1.vpcEndpoint, g1.vpcEndpoint, g2.vpcEndpoint]);
  });

  it("the shared policy denies first, then allows each API for its own caller role only, with its own tag condition", () => {
    const d = doc(endpoints.find((e) => e.metadata.name === g1.vpcEndpoint)!);
    const effects = d.Statement.map((s) => s.Effect);
    expect(effects.indexOf('Allow')).toBe(effects.lastIndexOf('Deny') + 1);
    expect(d.Statement[0]).toEqual({ Sid: 'DenyAllOtherApis', Effect: 'Deny', Principal: '*', Action: 'execute-api:*', NotResource: [apiArn(0), apiArn(1), apiArn(2)] });
    const allows = d.Statement.filter((s) => s.Effect === 'Allow');
    expect(allows.map((s) => [s.Principal, s.Resource, s.Condition])).toEqual(
      ['alpha', 'beta', 'gamma'].map((name, i) => [{ AWS: roleArn(name) }, apiArn(i), { StringEquals: { 'aws:resourceTag/Project': 'orders' } }]),
    );
    const denyOthers = d.Statement.filter((s): s is Statement => s.Effect === 'Deny' && s.Condition !== undefined);
    expect(denyOthers.map((s) => [s.Resource, s.Condition])).toEqual(['alpha', 'beta', 'gamma'].map((name, i) => [apiArn(i), { ArnNotEquals: { 'aws:PrincipalArn': roleArn(name) } }]));
    expect(new Set(d.Statement.map((s) => s.Sid)).size).toBe(d.Statement.length);
    // The other VPC's endpoint knows only its own API.
    const other = doc(endpoints.find((e) => e.metadata.name === g2.vpcEndpoint)!);
    expect(other.Statement.filter((s) => s.Effect === 'Allow').map((s) => s.Resource)).toEqual([apiArn(3)]);
    expect(JSON.stringify(other)).not.toContain(apiArn(0).slice(0, -2));
  });

  it("the endpoint's group admits each caller group of its VPC on 443, and nothing else; each caller egresses to its VPC's endpoint group", () => {
    const sg = spec(objs.find((o) => o.metadata.name === g1.endpointSecurityGroup)!);
    expect(sg.egressRules).toEqual([]);
    expect(sg.ingressRules.map((r: any) => [r.ipProtocol, r.fromPort, r.toPort, r.ipRanges, r.userIDGroupPairs.map((p: any) => p.groupID)])).toEqual(
      [0, 1, 2].map((i) => ['tcp', 443, 443, undefined, [idsFor(i, VPC_1).callerSecurityGroupId]]),
    );
    for (const [i, cr] of crs.entries()) {
      const caller = spec(objs.find((o) => o.metadata.name === objectNames(cr).callerSecurityGroup)!);
      expect(caller.egressRules.map((r: any) => r.userIDGroupPairs.map((p: any) => p.groupID))).toEqual([[idsFor(i, cr.spec.consumer.vpcId).endpointSecurityGroupId]]);
    }
    expect(spec(endpoints.find((e) => e.metadata.name === g1.vpcEndpoint)!).securityGroupIDs).toEqual([idsFor(0, VPC_1).endpointSecurityGroupId]);
  });

  it("is deterministic: the shared objects do not depend on the members' order", () => {
    const shared = (list: KubeObject[]) => JSON.stringify(list.filter((o) => o.metadata.labels?.['xapi.dev/endpoint-group']));
    expect(shared(clusterObjects([crs[2]!, crs[3]!, crs[0]!, crs[1]!]))).toBe(shared(objs));
    expect(shared(objs)).toContain(g1.vpcEndpoint);
  });

  it('a member whose API ID is not known yet gets no statement and no SG rule (fail-closed for it only)', () => {
    const withUnknown = { ...observed, 'xapi-system/beta': { endpointSecurityGroupId: idsFor(1, VPC_1).endpointSecurityGroupId } };
    const o = buildApp(crs, { ...options, observed: withUnknown });
    const chart = o.node.children.find((c) => c instanceof Chart && c.node.id === 'cluster-a') as Chart;
    const list = chart.toJson() as KubeObject[];
    const d = doc(list.find((x) => x.metadata.name === g1.vpcEndpoint)!);
    expect(d.Statement.filter((s) => s.Effect === 'Allow').map((s) => s.Resource)).toEqual([apiArn(0), apiArn(2)]);
    expect(JSON.stringify(d)).not.toContain(roleArn('beta'));
    const sg = spec(list.find((x) => x.metadata.name === g1.endpointSecurityGroup)!);
    expect(sg.ingressRules.map((r: any) => r.userIDGroupPairs[0].groupID)).toEqual([idsFor(0, VPC_1).callerSecurityGroupId, idsFor(2, VPC_1).callerSecurityGroupId]);
  });
});

describe('policy size limit', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => ({ cr: crIn(`api-${hex(i, 3)}`, VPC_1), ids: idsFor(i, VPC_1) }));
  const group = endpointGroup(crIn('x', VPC_1))!;

  it('fits as many members as the 20,480 characters allow, compactly (no whitespace)', () => {
    const fits = (k: number) => {
      try {
        return groupPolicyJson(group, many(k)).length <= ENDPOINT_POLICY_MAX_CHARS;
      } catch (err) {
        if (err instanceof EndpointPolicyTooLarge) return false;
        throw err;
      }
    };
    let n = 1;
    while (fits(n + 1)) n++;
    expect(n).toBeGreaterThanOrEqual(20);
    const json = groupPolicyJson(group, many(n));
    expect(json).not.toMatch(/\s/);
    expect(JSON.parse(json).Statement).toHaveLength(1 + 2 * n);
    expect(() => groupPolicyJson(group, many(n + 1))).toThrow(EndpointPolicyTooLarge);
  });

  it('refuses by name: the group, its VPC, every member, the size and the limit', () => {
    let err: unknown;
    try {
      renderEndpointGroup(group, many(200), { endpointSecurityGroupId: 'sg-0e0000000000000001' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EndpointPolicyTooLarge);
    const message = (err as Error).message;
    expect(message).toContain(`endpoint group ${group.label} (VPC ${VPC_1}, namespace account-a)`);
    expect(message).toContain('200 APIs (xapi-system/api-000, xapi-system/api-001');
    expect(message).toMatch(/would be \d+ characters, over the 20480 AWS allows for a VPC endpoint policy/);
    expect(Number(/would be (\d+)/.exec(message)![1])).toBeGreaterThan(ENDPOINT_POLICY_MAX_CHARS);
  });

  it('synth refuses the same way (nothing is written for an over-full VPC)', () => {
    const list = many(200).map((m) => m.cr);
    const obs = Object.fromEntries(many(200).map((m) => [`xapi-system/${m.cr.metadata.name}`, m.ids]));
    expect(() => buildApp(list, { ...options, observed: obs })).toThrow(/the shared endpoint policy for 200 APIs/);
  });
});
