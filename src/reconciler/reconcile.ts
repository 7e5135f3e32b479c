// Reconcile one CrossAccountApi as a straight pipeline:
//   validate → clusters → observe → render → apply → prune → status
// Level-triggered: everything is recomputed from the watched state each time. Nothing is written
// while a cluster the CR needs has not been listed: "not observed yet" is never "absent".

import { ACK, ackKindOf } from '../api/ack.js';
import { ackObject } from '../api/ack-wire.js';
import { withDefaults, type DefaultedSpec } from '../api/defaults.js';
import { endpointPlan, invokeUrl } from '../api/endpoint.js';
import { AUDIT_ANNOTATION, accessLogCommand, accessLogSettings } from '../charts/audit.js';
import { formatErrors } from '../api/validate.js';
import { CONDITION, type CrossAccountApi, type CrossAccountApiSpec, type KubeObject, type ObservedIds } from '../api/types.js';
import { endpointGroup, objectNames, ownerLabelValue } from '../charts/names.js';
import { renderMember, type RenderedObjects } from '../charts/render.js';
import { executeApiArn } from '../policy/documents.js';
import { findObservedEndpoint, unmanagedEndpointVerdicts } from '../policy/unmanaged-endpoint.js';
import { admissionProblem, endpointObject, type EndpointClaimant, type EndpointObject } from '../policy/vpc-endpoints.js';
import { applyAll, prune, type Logger, type NamespaceAccounts } from './apply.js';
import { NamespaceConflict, type AckCluster } from './cluster.js';
import type { ClusterRegistry, Resolution } from './clusters.js';
import type { CrWriter } from './cr-writes.js';
import { referencedGroups } from './endpoint-group.js';
import { finalize } from './finalize.js';
import { errText, httpStatus } from './kube.js';
import type { OperatorMetrics } from './metrics.js';
import { observedIds, type LiveObject } from './observed.js';
import { rotate } from './rotation.js';
import { checkedSpec } from './spec-check.js';
import { computeStatus, invalidSpecStatus, refusedStatus, statusChanged, type AuditStatusInput, type Expected } from './status.js';

export type { Logger } from './apply.js';
export type RenderFn = (cr: CrossAccountApi, observed: ObservedIds) => RenderedObjects;

export interface ReconcileOutcome {
  /** Run again after this many ms (grace expiry, deletion in progress, a cluster problem). */
  requeueAfterMs?: number;
  /** What this CR depends on (Secrets, clusters): a change there runs it again. */
  deps: string[];
  /** Nothing was done: a cluster it needs has not been listed yet (a watch event runs it again). */
  waiting?: boolean;
}

export interface ReconcilerDeps {
  registry: Pick<ClusterRegistry, 'resolve'>;
  writer: Pick<CrWriter, 'addFinalizer' | 'removeFinalizer' | 'writeStatus'>;
  render?: RenderFn;
  metrics: OperatorMetrics;
  log: Logger;
  /** When ACK last reported a new endpoint ID for an owner (rotation latency starts there). */
  endpointSeenAt?: (owner: string) => number | undefined;
  /**
   * Called once this pass's policy writes are out, before its status write: resolves when the
   * status may go (with `hold`, it waits while a burst of rotations still has policies to write;
   * a pass with no status to write passes false and is not held).
   */
  policiesWritten?: (cr: CrossAccountApi, hold: boolean) => Promise<void>;
  /**
   * The CR's endpoint group as the operator knows it: how many APIs share it, and why the group
   * could not include this CR (its policy would be too large), if so.
   */
  endpointGroup?: (cr: CrossAccountApi) => { sharedBy: number; refused?: string } | undefined;
  now?: () => Date;
  /** The CrossAccountApis whose consumer is in this VPC (one private-DNS endpoint per VPC is checked across them). */
  peers?: (vpcId: string) => readonly CrossAccountApi[];
}

/** What AuditReady is computed from: the switches, the flow logs rendered, the Stage's access log settings. */
function auditInput(cr: CrossAccountApi & { spec: DefaultedSpec }, restApiId: string | undefined, rendered: RenderedObjects, provider: readonly LiveObject[]): AuditStatusInput {
  const { audit } = cr.spec;
  const settings = accessLogSettings({ namespace: cr.spec.provider.namespace, baseName: cr.metadata.name, region: cr.spec.region, accountId: cr.spec.provider.accountId });
  const stageName = objectNames(cr).stage;
  const stage = provider.map((o) => ackObject(o, 'Stage')).find((o) => o?.metadata.name === stageName);
  const stageArn = stage?.status.accessLogSettings?.destinationARN;
  return {
    enabled: { flowLogs: audit.flowLogs.enabled && endpointPlan(cr.spec).managed, accessLogs: audit.accessLogs.enabled, cloudTrail: audit.cloudTrail.enabled },
    flowLogsRendered: rendered.consumer.some((o) => o.kind === ACK.FlowLog.kind),
    accessLog: {
      destinationArn: settings.destinationArn,
      stageExists: !!stage,
      ...(stageArn && { stageDestinationArn: stageArn }),
      ...(restApiId && { command: accessLogCommand(restApiId, cr.spec.provider.stage, settings) }),
    },
  };
}

/** A cluster problem is retried on its own (the watches report recovery); this is a safety net. */
const PROBLEM_RETRY_MS = 60_000;

type Problem = { reason: string; message: string };

interface Side {
  side: 'consumer' | 'provider';
  resolution: Resolution;
}

export class Reconciler {
  private readonly render: RenderFn;

  constructor(private readonly d: ReconcilerDeps) {
    this.render = d.render ?? renderMember;
  }

  private now(): Date {
    return this.d.now ? this.d.now() : new Date();
  }

  private sides(cr: CrossAccountApi, spec: CrossAccountApiSpec): Side[] {
    return [
      { side: 'consumer', resolution: this.d.registry.resolve(cr.metadata.namespace, spec.consumer.cluster) },
      { side: 'provider', resolution: this.d.registry.resolve(cr.metadata.namespace, spec.provider.cluster) },
    ];
  }

  async reconcile(cr: CrossAccountApi): Promise<ReconcileOutcome> {
    // validate
    const valid = checkedSpec(cr.spec);
    if (cr.metadata.deletionTimestamp) {
      const sides = valid.ok ? this.sides(cr, withDefaults(valid.spec)) : undefined;
      const deps = sides?.flatMap((s) => s.resolution.deps) ?? [];
      const group = valid.ok ? endpointGroup({ ...cr, spec: valid.spec }) : undefined;
      const consumer = sides?.[0]?.resolution;
      // AWS refuses to delete a caller group the shared endpoint's group still names in a rule.
      const held = (o: LiveObject): string | undefined => {
        if (!group || consumer?.state !== 'ready' || o.kind !== ACK.SecurityGroup.kind) return undefined;
        const id = typeof o.status?.id === 'string' ? o.status.id : undefined;
        const shared = consumer.cluster.grouped(group.label).find((g) => g.kind === ACK.SecurityGroup.kind && g.metadata?.namespace === group.namespace);
        return id && referencedGroups(shared, 'ingressRules').includes(id) ? `${shared!.metadata?.name} to drop its rule for ${id}` : undefined;
      };
      const result = await finalize(cr, sides, this.d.writer, this.d.log, this.now(), held);
      if (!result.done && result.waitingForClusters) return { deps, waiting: true };
      return { deps, ...(!result.done && result.requeueAfterMs !== undefined && { requeueAfterMs: result.requeueAfterMs }) };
    }
    if (!valid.ok) {
      await this.d.writer.writeStatus(cr, invalidSpecStatus(cr, formatErrors(valid.errors), this.now()));
      return { deps: [] };
    }
    const spec = withDefaults(valid.spec);

    // clusters
    const [consumerSide, providerSide] = this.sides(cr, spec) as [Side, Side];
    const deps = [...consumerSide.resolution.deps, ...providerSide.resolution.deps];
    if (consumerSide.resolution.state === 'waiting' || providerSide.resolution.state === 'waiting') return { deps, waiting: true };
    const problems: Problem[] = [];
    for (const s of [consumerSide, providerSide]) {
      if (s.resolution.state === 'problem') problems.push({ reason: s.resolution.reason, message: `${s.side}: ${s.resolution.message}` });
    }
    const consumer = consumerSide.resolution.state === 'ready' ? consumerSide.resolution.cluster : undefined;
    const provider = providerSide.resolution.state === 'ready' ? providerSide.resolution.cluster : undefined;

    // admit: one execute-api endpoint with private DNS per VPC, checked before anything is applied
    if (consumer) {
      const refusal = this.admission(cr, spec, consumer);
      if (refusal) {
        await this.d.writer.writeStatus(cr, refusedStatus(cr, 'EndpointConflict', refusal, this.now()));
        return { deps, requeueAfterMs: PROBLEM_RETRY_MS };
      }
    }

    // observe: each side reads only its own namespace (both sides may be one cluster reached two ways)
    const crv: CrossAccountApi = { ...cr, spec };
    const owner = ownerLabelValue(cr);
    const group = endpointGroup(crv);
    const shared = (c: AckCluster | undefined) => (group && c ? c.grouped(group.label) : []);
    // The CR's own objects, and on the consumer side the shared endpoint's (read, never applied here).
    const liveOf = (c: AckCluster | undefined, ns: string) => [...(c?.owned(owner) ?? []), ...(c === consumer ? shared(c) : [])].filter((o) => o.metadata?.namespace === ns);
    const seen = observedIds(crv, liveOf(consumer, spec.consumer.namespace), liveOf(provider, spec.provider.namespace));
    // An existing endpoint (never written): its ID comes from the spec, the rest from ACK if it reports it.
    const plan = endpointPlan(spec);
    const existing = plan.managed ? undefined : findObservedEndpoint(consumer?.vpcEndpoints?.() ?? [], plan.id);
    if (!plan.managed) {
      seen.endpoint = { id: plan.id, ...(existing?.state && { state: existing.state }), ...(existing && existing.dnsNames.length > 0 && { dnsNames: existing.dnsNames }) };
      if (existing && existing.securityGroupIds.length > 0) seen.ids.endpointSecurityGroupIds = existing.securityGroupIds;
    }
    // Unreported, an existing endpoint is taken as available: the spec says it exists.
    const rotating = plan.managed ? seen.endpoint : { ...seen.endpoint, state: existing?.state ?? 'available' };
    const rotation = rotate(cr.status?.allowedEndpoints, rotating, this.now(), spec.rotation.gracePeriodSeconds);
    const observed: ObservedIds = { ...seen.ids };
    if (rotation.allowed.length > 0) observed.allowedEndpointIds = rotation.allowed.map((a) => a.id);

    // render
    const rendered = this.render(crv, observed);

    // apply, prune
    let applied = false;
    /** Objects held back from a namespace too new for ACK (NAMESPACE_SETTLE_MS): come again after this. */
    let settleWaitMs = 0;
    // Both sides are known now (usable or not): from here on the CR may own objects.
    cr = await this.d.writer.addFinalizer(cr);
    if (problems.length === 0 && consumer && provider) {
      try {
        settleWaitMs = await this.applyAndPrune(spec, owner, rendered, consumer, provider);
        applied = settleWaitMs === 0;
      } catch (err) {
        // No HTTP status: the request got no answer, the cluster is unreachable.
        const reason = err instanceof NamespaceConflict ? 'NamespaceConflict' : httpStatus(err) === undefined ? 'ClusterUnreachable' : 'ApplyFailed';
        problems.push({ reason, message: errText(err) });
      }
    }
    const newEndpoint = !!seen.endpoint.id && !(cr.status?.allowedEndpoints ?? []).some((a) => a.id === seen.endpoint.id);
    if (applied && newEndpoint) {
      const since = this.d.endpointSeenAt?.(owner);
      if (since !== undefined) this.d.metrics.rotationLatency.observe((Date.now() - since) / 1000);
    }

    // status
    const expected: Expected[] = [];
    for (const [side, objs] of [['consumer', rendered.consumer], ['provider', rendered.provider]] as const) {
      for (const obj of objs) {
        const kind = ackKindOf(obj);
        const audit = obj.metadata.annotations?.[AUDIT_ANNOTATION];
        if (kind) expected.push({ kind, name: obj.metadata.name, side, ...(audit && { audit }) });
      }
    }
    // The shared endpoint's objects count for this CR's layers 1 and 2 like its own.
    const groupState = group ? this.d.endpointGroup?.(crv) : undefined;
    if (group) expected.push({ kind: 'SecurityGroup', name: group.endpointSecurityGroup, side: 'consumer' }, { kind: 'VPCEndpoint', name: group.vpcEndpoint, side: 'consumer' });
    if (groupState?.refused) problems.push({ reason: 'EndpointPolicyTooLarge', message: groupState.refused });
    // Layer 2 holds for this API only once the shared policy grants it.
    const vpce = group ? liveOf(consumer, spec.consumer.namespace).find((o) => o.kind === ACK.VPCEndpoint.kind && o.metadata?.name === group.vpcEndpoint) : undefined;
    const apiArn = seen.ids.restApiId ? executeApiArn(spec.region, spec.provider.accountId, seen.ids.restApiId, '*') : undefined;
    const endpointGrants = !vpce || !apiArn ? undefined : String((vpce as { spec?: { policyDocument?: unknown } }).spec?.policyDocument ?? '').includes(JSON.stringify(apiArn));
    const names = new Set(expected.map((e) => `${ACK[e.kind].kind}/${e.name}`));
    const live = [...liveOf(consumer, spec.consumer.namespace), ...liveOf(provider, spec.provider.namespace)].filter((o) => names.has(`${o.kind}/${o.metadata?.name}`));
    // Without private DNS the URL names the endpoint too ({api-id}-{vpce-id}.execute-api…).
    const url = seen.ids.restApiId && invokeUrl({ apiId: seen.ids.restApiId, region: spec.region, stage: spec.provider.stage, privateDns: plan.privateDns, ...(seen.endpoint.id && { vpceId: seen.endpoint.id }) });
    // An unreadable provider is not an API gone: its ID stays (the VPC's shared endpoint policy is
    // built from these IDs while the provider cannot be read, and must not narrow meanwhile).
    const kept = !provider && cr.status?.api?.id ? cr.status.api : undefined;
    const api = seen.ids.restApiId ? { id: seen.ids.restApiId, stage: spec.provider.stage, ...(url && { invokeUrl: url }) } : (kept ?? { stage: spec.provider.stage });
    const unmanaged = unmanagedEndpointVerdicts(spec, observed, existing);
    const status = computeStatus({
      cr,
      expected,
      live,
      endpoint: { ...seen.endpoint, ...(group && { name: group.vpcEndpoint }), ...(groupState && { sharedBy: groupState.sharedBy }) },
      ...(endpointGrants === false && { endpointPolicyMissing: `the shared endpoint ${group!.vpcEndpoint}'s policy does not grant this API yet` }),
      // The allowed set changes only once it is really in the provider's policy.
      allowed: applied ? rotation.allowed : (cr.status?.allowedEndpoints ?? []),
      api,
      securityGroups: {
        ...(seen.ids.callerSecurityGroupId ? { callerId: seen.ids.callerSecurityGroupId } : {}),
        ...(seen.ids.endpointSecurityGroupId ? { endpointId: seen.ids.endpointSecurityGroupId } : {}),
      },
      renderComplete: rendered.complete.consumer && rendered.complete.provider,
      audit: auditInput({ ...cr, spec }, seen.ids.restApiId, rendered, liveOf(provider, spec.provider.namespace)),
      problems,
      ...(unmanaged && { unmanaged: { [CONDITION.SecurityGroupsReady]: unmanaged.layer1, [CONDITION.EndpointPolicyReady]: unmanaged.layer2 } }),
      now: this.now(),
    });
    await this.d.policiesWritten?.(cr, statusChanged(cr.status, status));
    await this.d.writer.writeStatus(cr, status);
    const applyError = problems.find((p) => p.reason === 'ApplyFailed' || p.reason === 'ClusterUnreachable');
    if (applied === false && applyError && consumer && provider) throw Object.assign(new Error(applyError.message), { reason: applyError.reason });
    if (problems.length > 0) return { deps, requeueAfterMs: PROBLEM_RETRY_MS };
    const wakes = [
      ...(settleWaitMs > 0 ? [settleWaitMs + 50] : []),
      ...(rotation.wakeAt ? [Math.max(0, rotation.wakeAt.getTime() - this.now().getTime()) + 50] : []),
    ];
    if (wakes.length > 0) return { deps, requeueAfterMs: Math.min(...wakes) };
    return { deps };
  }

  /** Why admission refuses `cr` given the consumer cluster's endpoints (the endpoint group asks too). */
  admissionRefusal(cr: CrossAccountApi, consumer: AckCluster): string | undefined {
    const valid = checkedSpec(cr.spec);
    return valid.ok ? this.admission(cr, withDefaults(valid.spec), consumer) : undefined;
  }

  private admission(cr: CrossAccountApi, spec: CrossAccountApiSpec, consumer: AckCluster): string | undefined {
    const claimant = (c: CrossAccountApi, s: CrossAccountApiSpec): EndpointClaimant => ({
      key: `${c.metadata.namespace}/${c.metadata.name}`,
      spec: s,
      owner: ownerLabelValue(c),
      ...(c.metadata.creationTimestamp && { created: c.metadata.creationTimestamp }),
    });
    const peers: EndpointClaimant[] = [];
    for (const p of this.d.peers?.(spec.consumer.vpcId) ?? []) {
      if (p.metadata.deletionTimestamp) continue; // its endpoint, while it lasts, is seen live
      const v = checkedSpec(p.spec);
      if (v.ok) peers.push(claimant(p, v.spec));
    }
    // Only endpoints of this VPC can conflict (admissionProblem skips the rest): reading every
    // endpoint of the namespace on every reconcile was O(n) per CR, O(n²) per convergence. The
    // cluster reads them from its VPC index.
    const live = (consumer.vpcEndpoints?.(spec.consumer.namespace, spec.consumer.vpcId) ?? [])
      .map((o) => endpointObject(o))
      .filter((e): e is EndpointObject => !!e);
    return admissionProblem(claimant(cr, spec), peers, live);
  }

  /**
   * Both sides may share one cluster: apply and prune per cluster, never per side. Resolves to how
   * long until a namespace it held objects back from settles (0: nothing held back).
   */
  private async applyAndPrune(spec: CrossAccountApiSpec, owner: string, rendered: RenderedObjects, consumer: AckCluster, provider: AckCluster): Promise<number> {
    // `keep`: "namespace/Kind" of live objects the render could not decide yet (never pruned).
    const undecided = (side: 'consumer' | 'provider', ns: string) => (rendered.undecided?.[side] ?? []).map((k) => `${ns}/${k}`);
    const plan = new Map<AckCluster, { objs: KubeObject[]; complete: boolean; keep: string[] }>();
    plan.set(consumer, { objs: [...rendered.consumer], complete: rendered.complete.consumer, keep: undecided('consumer', spec.consumer.namespace) });
    const p = plan.get(provider);
    const keepB = undecided('provider', spec.provider.namespace);
    if (p) plan.set(provider, { objs: [...p.objs, ...rendered.provider], complete: p.complete && rendered.complete.provider, keep: [...p.keep, ...keepB] });
    else plan.set(provider, { objs: [...rendered.provider], complete: rendered.complete.provider, keep: keepB });
    const sideNamespaces = new Set([spec.consumer.namespace, spec.provider.namespace]);
    // Account and region of each side's namespace, for the CARM annotations of one it creates.
    const carm: NamespaceAccounts = new Map([
      [spec.consumer.namespace, { accountId: spec.consumer.accountId, region: spec.region }],
      [spec.provider.namespace, { accountId: spec.provider.accountId, region: spec.region }],
    ]);
    let waitMs = 0;
    for (const [cluster, { objs, complete, keep }] of plan) {
      const namespaces = new Set(objs.map((o) => o.metadata.namespace ?? ''));
      const owned = cluster.owned(owner);
      const live: LiveObject[] = owned.filter((o) => namespaces.has(o.metadata?.namespace ?? ''));
      waitMs = Math.max(waitMs, (await applyAll(cluster, objs, live, carm, this.d.log)).waitMs);
      // What a partial render leaves out is "not yet", never "not wanted".
      if (!complete) continue;
      // Objects of this CR in a namespace neither side uses any more (the spec moved a side).
      const stale = owned.filter((o) => !sideNamespaces.has(o.metadata?.namespace ?? ''));
      const decided = live.filter((o) => !keep.includes(`${o.metadata?.namespace}/${o.kind}`));
      await prune(cluster, objs, [...decided, ...stale], this.d.log);
    }
    return waitMs;
  }
}
