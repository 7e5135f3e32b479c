// The objects an endpoint group shares (names.ts, endpointGroup): the VPC's execute-api interface
// endpoint and its security group. Private DNS is VPC-wide, so every CR of one consumer cluster,
// namespace, account, region and VPC goes through one endpoint. Its policy is the union of the
// members' statements; its security group admits each member's caller group on 443. Pure: the
// members (their specs and observed IDs) in, objects out; synth and the operator both use it.
import { App, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { SecurityGroup, VpcEndpoint, type SecurityGroupSpecIngressRules } from '../../imports/ec2.services.k8s.aws.js';
import { ACK_ANNOTATION } from '../api/ack.js';
import { withDefaults } from '../api/defaults.js';
import type { CrossAccountApi, KubeObject, ObservedIds } from '../api/types.js';
import { PRIVATE_DNS_ANNOTATION } from '../api/endpoint.js';
import { ENDPOINT_POLICY_MAX_CHARS, PROJECT_TAG_CONDITION_ANNOTATION, policyJson, sharedEndpointPolicy } from '../policy/documents.js';
import { SYNC_WAVE, groupLabels, type EndpointGroup } from './names.js';
import { waveOf } from './order.js';

const HTTPS = 443;

/** One CR using the group's endpoint, with what is observed of it (API ID, role ARN, caller SG ID). */
export interface GroupMember {
  cr: Pick<CrossAccountApi, 'metadata' | 'spec'>;
  ids: ObservedIds;
}

/** The union policy would not fit in a VPC endpoint policy: nothing of the group is changed. */
export class EndpointPolicyTooLarge extends Error {
  constructor(
    readonly group: EndpointGroup,
    readonly members: string[],
    readonly size: number,
  ) {
    super(
      `endpoint group ${group.label} (VPC ${group.vpcId}, namespace ${group.namespace}): the shared endpoint policy for ${members.length} APIs (${members.join(', ')}) ` +
        `would be ${size} characters, over the ${ENDPOINT_POLICY_MAX_CHARS} AWS allows for a VPC endpoint policy; the live policy is left as it is ` +
        `(APIs not yet in it stay denied). Move some of these APIs' callers to another VPC, or give them an existing endpoint (spec.consumer.endpoint.id)`,
    );
    this.name = 'EndpointPolicyTooLarge';
  }
}

const memberKey = (m: GroupMember) => `${m.cr.metadata.namespace ?? 'default'}/${m.cr.metadata.name}`;

/** Members in their stable order (namespace/name). */
export function sortedMembers(members: readonly GroupMember[]): GroupMember[] {
  return [...members].sort((a, b) => (memberKey(a) < memberKey(b) ? -1 : memberKey(a) > memberKey(b) ? 1 : 0));
}

/** The group's endpoint policy as applied (compact, deterministic JSON); throws EndpointPolicyTooLarge. */
export function groupPolicyJson(group: EndpointGroup, members: readonly GroupMember[]): string {
  const json = policyJson(sharedEndpointPolicy(members.map((m) => ({ key: memberKey(m), spec: withDefaults(m.cr.spec), ids: m.ids }))));
  if (json.length > ENDPOINT_POLICY_MAX_CHARS) throw new EndpointPolicyTooLarge(group, sortedMembers(members).map(memberKey), json.length);
  return json;
}

/**
 * Adds the group's endpoint and security group. `endpointSecurityGroupId`: the group SG's ID once
 * ACK reports it (until then the endpoint references the SG by name and the SG has no rules).
 * No members: nothing (the last member's departure removes the shared objects).
 */
export function addEndpointGroup(scope: Construct, group: EndpointGroup, members: readonly GroupMember[], observed: { endpointSecurityGroupId?: string }): void {
  if (members.length === 0) return;
  const sorted = sortedMembers(members);
  const specs = sorted.map((m) => withDefaults(m.cr.spec));
  const first = specs[0]!;
  const policyDocument = groupPolicyJson(group, sorted);
  const projects = [...new Set(specs.map((s) => s.project))];
  const tags = projects.length === 1 ? [{ key: 'Project', value: projects[0]! }] : [];
  const meta = (name: string, wave: number, annotations: Record<string, string> = {}) => ({
    name,
    namespace: group.namespace,
    labels: groupLabels(group),
    annotations: { [ACK_ANNOTATION.region]: first.region, [SYNC_WAVE]: String(wave), ...annotations },
  });

  // One rule per caller group whose ID is known; a caller without one yet is simply not admitted.
  const callers = new Map<string, string>();
  for (const m of sorted) if (m.ids.callerSecurityGroupId && !callers.has(m.ids.callerSecurityGroupId)) callers.set(m.ids.callerSecurityGroupId, memberKey(m));
  const ingressRules: SecurityGroupSpecIngressRules[] = observed.endpointSecurityGroupId
    ? [...callers.keys()].sort().map((id) => ({
        ipProtocol: 'tcp',
        fromPort: HTTPS,
        toPort: HTTPS,
        userIdGroupPairs: [{ groupId: id, description: `from the caller of ${callers.get(id)}` }],
      }))
    : [];
  new SecurityGroup(scope, group.endpointSecurityGroup, {
    metadata: meta(group.endpointSecurityGroup, waveOf('SecurityGroup')),
    spec: {
      name: group.endpointSecurityGroup,
      description: `xapi: shared execute-api endpoint of ${group.vpcId}, ingress 443 from each caller group only`,
      vpcId: group.vpcId,
      ingressRules,
      egressRules: [],
      tags,
    },
  });
  // Members agree on private DNS (a rule refuses two private-DNS endpoints in one VPC); if they
  // did not, the endpoint has it only when every member asks for it.
  const privateDnsEnabled = specs.every((s) => s.consumer.endpoint.privateDns);
  new VpcEndpoint(scope, group.vpcEndpoint, {
    metadata: meta(
      group.vpcEndpoint,
      waveOf('VPCEndpoint'),
      {
        ...(specs.some((s) => !s.projectTagCondition) && { [PROJECT_TAG_CONDITION_ANNOTATION]: 'false' }),
        // Deliberate, so lint's private-DNS rule does not flag it (docs/charts.md).
        ...(!privateDnsEnabled && { [PRIVATE_DNS_ANNOTATION]: 'false' }),
      },
    ),
    spec: {
      serviceName: `com.amazonaws.${first.region}.execute-api`,
      vpcEndpointType: 'Interface',
      vpcId: group.vpcId,
      // One subnet per AZ is allowed: the first member's (every subnet of the VPC routes to it).
      subnetIDs: [...first.consumer.subnetIds],
      privateDnsEnabled,
      ...(observed.endpointSecurityGroupId
        ? { securityGroupIDs: [observed.endpointSecurityGroupId] }
        : { securityGroupRefs: [{ from: { name: group.endpointSecurityGroup } }] }),
      policyDocument,
      tags,
    },
  });
}

/** Plain manifests of a group's shared objects (what the operator applies). */
export function renderEndpointGroup(group: EndpointGroup, members: readonly GroupMember[], observed: { endpointSecurityGroupId?: string }): KubeObject[] {
  const chart = new Chart(new App({ outdir: '/nonexistent' }), 'group', { disableResourceNameHashes: true });
  addEndpointGroup(chart, group, members, observed);
  return chart.toJson() as KubeObject[];
}
