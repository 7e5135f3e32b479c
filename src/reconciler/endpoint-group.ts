// Reconcile one endpoint group: the execute-api endpoint and its security group that every CR of
// one consumer cluster, namespace, account, region and VPC shares (charts/shared-endpoint.ts).
// Members are the valid, non-deleting CRs of the group in the (listed) CR cache; their observed
// IDs come from the watched clusters. Nothing is written while a cluster it needs has not been
// listed. The last member's departure drains the group: the endpoint goes, the security group
// drops its rules (so each caller group can be deleted: AWS refuses to delete a group another
// group's rule names), and goes once no caller group points at it.

import { ACK } from '../api/ack.js';
import { ackObject } from '../api/ack-wire.js';
import { withDefaults } from '../api/defaults.js';
import type { CrossAccountApi, ObservedIds } from '../api/types.js';
import { ownerLabelValue, type EndpointGroup } from '../charts/names.js';
import { EndpointPolicyTooLarge, renderEndpointGroup, type GroupMember } from '../charts/shared-endpoint.js';
import { executeApiArn } from '../policy/documents.js';
import { applyAll, prune, type Logger, type NamespaceAccounts } from './apply.js';
import type { AckCluster } from './cluster.js';
import type { ClusterRegistry } from './clusters.js';
import { observedIds, type LiveObject } from './observed.js';

export interface GroupOutcome {
  deps: string[];
  waiting?: boolean;
  requeueAfterMs?: number;
  /** Set when the group's policy could not be applied (too large): member key → message, for members it leaves out. */
  refused?: Map<string, string>;
}

const DRAIN_RETRY_MS = 1000;

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
const crKey = (cr: CrossAccountApi) => `${cr.metadata.namespace ?? 'default'}/${cr.metadata.name}`;

/** Security group IDs an ACK SecurityGroup's spec names in its rules of one direction. */
export function referencedGroups(sg: LiveObject | undefined, which: 'ingressRules' | 'egressRules'): string[] {
  const rules = (sg as { spec?: Record<string, unknown> } | undefined)?.spec?.[which];
  if (!Array.isArray(rules)) return [];
  return rules.flatMap((r: { userIDGroupPairs?: Array<{ groupID?: string }> }) => (r?.userIDGroupPairs ?? []).map((p) => p?.groupID).filter((id): id is string => !!id));
}

/**
 * What a group's render reads from a member's own object, or undefined for a kind it reads
 * nothing from: the RestAPI's ID (the endpoint policy's resource), the caller Role's ARN (its
 * principal), a security group's ID (the endpoint group's ingress rule). Every other change to
 * these objects (ACK's sync stamps, the API's policy that a rotation rewrites) leaves the group's
 * render as it was, and at 1,000 CRs waking the group for each was about a sixth of a burst's CPU.
 */
export function readByGroup(obj: LiveObject | undefined): { id: string | undefined } | undefined {
  const api = ackObject(obj, 'RestAPI');
  if (api) return { id: str(api.status.id) };
  const role = ackObject(obj, 'Role');
  if (role) return { id: str(role.status.ackResourceMetadata?.arn) };
  const sg = ackObject(obj, 'SecurityGroup');
  if (sg) return { id: str(sg.status.id) };
  return undefined;
}

/** Whether the ID a group reads from this object (readByGroup) differs from the one `old` had. */
export function groupIdChanged(obj: LiveObject, old: LiveObject | undefined): boolean {
  return readByGroup(obj)?.id !== readByGroup(old)?.id;
}

/** Whether a member's object event can change its group's render (a new or gone object always can). */
export function memberChangesGroup(type: string, obj: LiveObject, old: LiveObject | undefined): boolean {
  if (!readByGroup(obj)) return false;
  return type !== 'MODIFIED' || !old || groupIdChanged(obj, old);
}

/**
 * Whether an event of the group's own endpoint or security group can change what the group's pass
 * does: any change but one to the status alone, and a new ID of its security group (the render
 * reads it). ACK's status writes (an endpoint's new ID, its state, sync stamps) change neither the
 * render nor what a pass compares with it (spec, labels, annotations); the members, which read
 * them, are woken for them on their own.
 */
export function changesGroupObject(type: string, obj: LiveObject, old: LiveObject | undefined): boolean {
  if (type !== 'MODIFIED' || !old) return true;
  const beyondStatus = (o: LiveObject) => {
    const { status: _status, metadata, ...rest } = o;
    const { resourceVersion: _rv, managedFields: _mf, ...meta } = (metadata ?? {}) as Record<string, unknown>;
    return JSON.stringify([rest, meta]);
  };
  return beyondStatus(obj) !== beyondStatus(old) || groupIdChanged(obj, old);
}

export async function reconcileGroup(
  group: EndpointGroup,
  members: readonly CrossAccountApi[],
  d: {
    registry: Pick<ClusterRegistry, 'resolve'>;
    log: Logger;
    /** Why admission refuses a member (a second private-DNS endpoint in its VPC), if it does. */
    refusal?: (cr: CrossAccountApi, consumer: AckCluster) => string | undefined;
  },
): Promise<GroupOutcome> {
  const consumerSide = d.registry.resolve(group.cluster.crNamespace, group.cluster.ref);
  const deps = [...consumerSide.deps];
  if (consumerSide.state === 'waiting') return { deps, waiting: true };
  if (consumerSide.state === 'problem') return { deps, requeueAfterMs: 60_000 };
  const cluster = consumerSide.cluster;
  const live = cluster.grouped(group.label).filter((o) => o.metadata?.namespace === group.namespace);
  // A refused member is not one: the endpoint is neither made for it nor, when every member is
  // refused (another team's private-DNS endpoint appeared), drained because of it.
  const admitted = d.refusal ? members.filter((cr) => !d.refusal!(cr, cluster)) : members;
  if (admitted.length === 0 && members.length > 0) return { deps: [...new Set(deps)], requeueAfterMs: 60_000 };
  members = admitted;

  // Each member's API ID lives in its provider cluster. One not listed yet: wait (its statement
  // is not known to be absent). One unreachable: the last ID its CR reported, so an outage
  // never narrows the endpoint for an API that works.
  const observed: GroupMember[] = [];
  for (const cr of members) {
    const spec = withDefaults(cr.spec);
    const provider = d.registry.resolve(cr.metadata.namespace, spec.provider.cluster);
    deps.push(...provider.deps);
    if (provider.state === 'waiting') return { deps: [...new Set(deps)], waiting: true };
    const owner = ownerLabelValue(cr);
    const mine = (c: AckCluster, ns: string) => c.owned(owner).filter((o) => o.metadata?.namespace === ns);
    const seen = observedIds({ ...cr, spec }, mine(cluster, spec.consumer.namespace), provider.state === 'ready' ? mine(provider.cluster, spec.provider.namespace) : []);
    const ids: ObservedIds = { ...seen.ids };
    if (!ids.restApiId && provider.state !== 'ready' && cr.status?.api?.id) ids.restApiId = cr.status.api.id;
    observed.push({ cr: { ...cr, spec }, ids });
  }
  const sg = live.find((o) => o.kind === ACK.SecurityGroup.kind && o.metadata?.name === group.endpointSecurityGroup);
  const sgId = str(sg?.status?.id);
  const first = members[0];
  const carm: NamespaceAccounts = new Map(first ? [[group.namespace, { accountId: first.spec.consumer.accountId, region: first.spec.region }]] : []);

  if (members.length === 0) return { deps: [...new Set(deps)], ...(await drain(group, cluster, live, sg, sgId, d.log)) };

  let objs;
  try {
    objs = renderEndpointGroup(group, observed, sgId ? { endpointSecurityGroupId: sgId } : {});
  } catch (err) {
    if (!(err instanceof EndpointPolicyTooLarge)) throw err;
    // Nothing of the group changes (never wider, never a half-applied union); the members the
    // live policy does not grant yet are told why.
    const vpce = live.find((o) => o.kind === ACK.VPCEndpoint.kind && o.metadata?.name === group.vpcEndpoint);
    const policy = String((vpce as { spec?: { policyDocument?: unknown } } | undefined)?.spec?.policyDocument ?? '');
    const refused = new Map<string, string>();
    for (const m of observed) {
      const spec = withDefaults(m.cr.spec);
      const arn = m.ids.restApiId ? executeApiArn(spec.region, spec.provider.accountId, m.ids.restApiId, '*') : undefined;
      if (!arn || !policy.includes(JSON.stringify(arn))) refused.set(crKey(m.cr as CrossAccountApi), err.message);
    }
    d.log.warn({ group: group.label, err: err.message }, 'endpoint group policy too large');
    return { deps: [...new Set(deps)], refused, requeueAfterMs: 60_000 };
  }
  const { waitMs } = await applyAll(cluster, objs, live, carm, d.log);
  // The render of a group with members always holds both objects: anything else of the group's label there is stale.
  await prune(cluster, objs, live, d.log);
  return { deps: [...new Set(deps)], ...(waitMs > 0 && { requeueAfterMs: waitMs + 50 }) };
}

/** No members left: endpoint first, then the group's rules, then the group once nothing points at it. */
async function drain(group: EndpointGroup, cluster: AckCluster, live: LiveObject[], sg: LiveObject | undefined, sgId: string | undefined, log: Logger): Promise<Omit<GroupOutcome, 'deps'>> {
  const deleting = (o: LiveObject) => !!(o.metadata as { deletionTimestamp?: string } | undefined)?.deletionTimestamp;
  const vpces = live.filter((o) => o.kind === ACK.VPCEndpoint.kind);
  for (const v of vpces) if (!deleting(v)) await cluster.delete(v);
  if (!sg) return vpces.length > 0 ? { requeueAfterMs: DRAIN_RETRY_MS } : {};
  if (referencedGroups(sg, 'ingressRules').length > 0 && !deleting(sg)) {
    // Drop the rules (a patch of the one field) so that the callers' groups can be deleted.
    const { apiVersion, kind, metadata, spec } = sg as LiveObject & { spec?: Record<string, unknown> };
    await cluster.apply({
      apiVersion: apiVersion!,
      kind: kind!,
      metadata: { name: metadata!.name!, namespace: metadata!.namespace, labels: { ...(metadata!.labels ?? {}) } },
      spec: { ...(spec ?? {}), ingressRules: [] },
    });
    log.info({ group: group.label }, 'endpoint group drained of its rules');
    return { requeueAfterMs: DRAIN_RETRY_MS };
  }
  const pointing = sgId ? cluster.ofKind('SecurityGroup').filter((o) => o !== sg && referencedGroups(o, 'egressRules').includes(sgId)) : [];
  if (vpces.length > 0 || pointing.length > 0) return { requeueAfterMs: DRAIN_RETRY_MS };
  if (!deleting(sg)) {
    await cluster.delete(sg);
    log.info({ group: group.label, name: sg.metadata?.name }, 'endpoint group removed');
  }
  return {};
}
