// What xapi can say about an existing endpoint (consumer.endpoint.id) it does not manage: layer 1
// (its security groups are not xapi's) and layer 2 (its policy is not xapi's), from what ACK
// reports of it, if anything. Pure: spec, IDs and the observed object in, two layer verdicts out.
import { ackObject } from '../api/ack-wire.js';
import { endpointPlan } from '../api/endpoint.js';
import type { CrossAccountApiSpec, KubeObject, ObservedIds } from '../api/types.js';
import { INVOKE, PROJECT_TAG_KEY, SOURCE_VPCE_KEY, callerRoleArn, executeApiArn, routeResource, type PolicyDocument } from './documents.js';
import { PolicyEvaluationError, evaluatePolicy } from './evaluate.js';

export interface LayerVerdict {
  ok: boolean;
  reason: string;
  message: string;
}

/** The fields of an observed VPCEndpoint that matter here. */
export interface ObservedEndpoint {
  where: string;
  state?: string;
  privateDns?: boolean;
  securityGroupIds: string[];
  /** spec.policyDocument as ACK reports it (undefined: none, AWS's full-access default). */
  policyDocument?: string;
  dnsNames: string[];
}

/** The VPCEndpoint with this ID among live objects (any namespace of the consumer cluster). */
export function findObservedEndpoint(objects: readonly unknown[], id: string): ObservedEndpoint | undefined {
  for (const o of objects) {
    const v = ackObject(o as KubeObject, 'VPCEndpoint');
    if (!v || v.status.vpcEndpointID !== id) continue;
    const policy = typeof v.spec.policyDocument === 'string' && v.spec.policyDocument.trim() !== '' ? v.spec.policyDocument : undefined;
    return {
      where: `${v.metadata.namespace ?? 'default'}/${v.metadata.name}`,
      ...(typeof v.status.state === 'string' && { state: v.status.state }),
      ...(typeof v.spec.privateDNSEnabled === 'boolean' && { privateDns: v.spec.privateDNSEnabled }),
      securityGroupIds: Array.isArray(v.spec.securityGroupIDs) ? v.spec.securityGroupIDs.filter((g): g is string => typeof g === 'string' && g !== '') : [],
      ...(policy && { policyDocument: policy }),
      dnsNames: Array.isArray(v.status.dnsEntries) ? v.status.dnsEntries.map((e) => e?.dnsName).filter((d): d is string => typeof d === 'string' && d !== '') : [],
    };
  }
  return undefined;
}

/** Layers 1 and 2 of a CR whose endpoint xapi does not manage; undefined for a managed one. */
export function unmanagedEndpointVerdicts(spec: CrossAccountApiSpec, ids: ObservedIds, observed: ObservedEndpoint | undefined): { layer1: LayerVerdict; layer2: LayerVerdict } | undefined {
  const plan = endpointPlan(spec);
  if (plan.managed) return undefined;
  const id = plan.id;
  if (!observed) {
    const why = `ACK reports no VPCEndpoint with status.vpcEndpointID ${id} in the consumer cluster`;
    return {
      layer1: { ok: false, reason: 'Unmanaged', message: `${id} is not xapi's and its security groups are unknown (${why}): the caller group has no egress rule yet (fail-closed); let ACK adopt the endpoint (docs/operator.md) so xapi can read them` },
      layer2: { ok: true, reason: 'Unmanaged', message: `the policy of ${id} is not xapi's and is not checked (${why}); it must allow execute-api:Invoke on this API for the caller role` },
    };
  }
  const groups = observed.securityGroupIds;
  const layer1: LayerVerdict = groups.length > 0
    ? { ok: true, reason: 'Unmanaged', message: `the caller group has egress tcp/443 to ${groups.join(', ')} (the groups of ${id}, VPCEndpoint ${observed.where}); their ingress from the caller group is the endpoint owner's and is not checked` }
    : { ok: false, reason: 'Unmanaged', message: `VPCEndpoint ${observed.where} (${id}) reports no security groups: the caller group has no egress rule (fail-closed)` };
  let layer2: LayerVerdict;
  const dnsNote = observed.privateDns !== undefined && observed.privateDns !== plan.privateDns
    ? `; note: ${id} has private DNS ${observed.privateDns ? 'on' : 'off'} but consumer.endpoint.privateDns is ${plan.privateDns}`
    : '';
  if (!ids.restApiId) {
    layer2 = { ok: true, reason: 'Unmanaged', message: `the policy of ${id} is not xapi's; it is checked once the API ID is known${dnsNote}` };
  } else if (!observed.policyDocument) {
    layer2 = { ok: true, reason: 'Unmanaged', message: `the policy of ${id} is not xapi's; ACK reports none, so AWS's default full-access policy applies and allows the call${dnsNote}` };
  } else {
    layer2 = { ...evaluateRoutes(spec, ids, id, observed.policyDocument), };
    layer2.message += dnsNote;
  }
  return { layer1, layer2 };
}

function evaluateRoutes(spec: CrossAccountApiSpec, ids: ObservedIds, id: string, text: string): LayerVerdict {
  let doc: PolicyDocument;
  try {
    doc = JSON.parse(text) as PolicyDocument;
  } catch {
    return { ok: false, reason: 'UnmanagedDenies', message: `the observed policy of ${id} is not valid JSON` };
  }
  const role = callerRoleArn(spec, ids);
  for (const route of spec.provider.routes) {
    const resource = executeApiArn(spec.region, spec.provider.accountId, ids.restApiId!, routeResource(spec.provider.stage, route));
    const context = { 'aws:PrincipalArn': role, [SOURCE_VPCE_KEY]: id, [PROJECT_TAG_KEY]: spec.project };
    try {
      const r = evaluatePolicy(doc, { principal: role, principalArn: role, action: INVOKE, resource, context }, 'resource', `policy of ${id}`);
      if (r.decision !== 'Allow') {
        const by = r.statement ? ` (statement ${r.statement.index}${r.statement.sid ? ` ${r.statement.sid}` : ''})` : ' (no statement allows it)';
        return { ok: false, reason: 'UnmanagedDenies', message: `the observed policy of ${id}, which xapi does not manage, ${r.decision === 'Deny' ? 'denies' : 'does not allow'} ${route.method} ${route.path} for ${role}${by}` };
      }
    } catch (err) {
      if (err instanceof PolicyEvaluationError) return { ok: false, reason: 'UnmanagedDenies', message: `the observed policy of ${id} cannot be evaluated: ${err.message}` };
      throw err;
    }
  }
  return { ok: true, reason: 'Unmanaged', message: `the policy of ${id} is not xapi's; as ACK reports it, it allows every route for ${role}` };
}
