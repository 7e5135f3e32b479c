// Reconcile one CrossAccountApi: finalizer, validation, render, server-side apply to both
// clusters (skipping objects already up to date), prune, rotation, status. Level-triggered:
// everything is recomputed from the API servers' state each time.

import { createHash } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { ACK, ACK_ANNOTATION, type AckKindName } from '../api/ack.js';
import { validateSpec, formatErrors } from '../api/validate.js';
import { withDefaults } from '../api/defaults.js';
import { CONDITION, FINALIZER, GROUP, PATH_ANNOTATION, PLURAL, VERSION, type ClusterRef, type CrossAccountApi, type CrossAccountApiStatus, type KubeObject, type ObservedIds } from '../api/types.js';
import { ownerLabelValue } from '../charts/names.js';
import { Cluster, kubeconfigKey, upToDate } from './cluster.js';
import { parseClusterSecret } from './cluster-secret.js';
import { observedIds, type LiveObject } from './observed.js';
import { rotate } from './rotation.js';
import { computeStatus, deletionStatus, invalidSpecStatus, objectState, statusChanged, transitions, type Expected } from './status.js';
import type { OperatorMetrics } from './metrics.js';

/** Namespace → the account and region of the side that lives there. */
type NamespaceAccounts = ReadonlyMap<string, { accountId: string; region: string }>;

export type RenderFn = (cr: CrossAccountApi, observed: ObservedIds) => { consumer: KubeObject[]; provider: KubeObject[] };
export type Logger = { info: (o: object, m?: string) => void; warn: (o: object, m?: string) => void; error: (o: object, m?: string) => void };

/** Annotation holding a hash of what xapi last applied; a changed render always re-applies. */
export const APPLIED_HASH_ANNOTATION = 'xapi.dev/applied-hash';

export class ClusterProblem extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ReconcileResult {
  /** Re-run after this many ms (grace expiry, deletion in progress). */
  requeueAfterMs?: number;
}

export interface ReconcilerDeps {
  kc: KubeConfig;
  local: Cluster;
  render: RenderFn;
  metrics: OperatorMetrics;
  log: Logger;
  /** Called when a remote Cluster is created, so its events reach the queue. */
  makeCluster: (name: string, kc: KubeConfig) => Cluster;
  now?: () => Date;
}

function hashOf(obj: unknown): string {
  return createHash('sha256').update(JSON.stringify(obj)).digest('hex').slice(0, 16);
}

function ackKindOf(obj: { apiVersion?: string; kind?: string }): AckKindName | undefined {
  return (Object.keys(ACK) as AckKindName[]).find((k) => ACK[k].kind === obj.kind && ACK[k].apiVersion === obj.apiVersion);
}

export const errText = (err: unknown): string => {
  const e = err as { message?: string; code?: number; body?: unknown; cause?: { code?: string } };
  if (typeof e?.code === 'number' && e.body !== undefined) {
    // client-node's ApiException: the Status message says more than its generic text.
    let detail = typeof e.body === 'string' ? e.body : JSON.stringify(e.body);
    try {
      detail = (JSON.parse(detail) as { message?: string }).message ?? detail;
    } catch {
      // not JSON
    }
    return `HTTP ${e.code}: ${detail}`.slice(0, 400);
  }
  const cause = e?.cause?.code ? ` (${e.cause.code})` : '';
  return `${e?.message ?? String(err)}${cause}`.slice(0, 400);
};

export class Reconciler {
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  private readonly remotes = new Map<string, Cluster>();
  /** Which CR keys use which cluster, so a cluster's health change re-queues them. */
  readonly usersOfCluster = new Map<Cluster, Set<string>>();
  /** Last time an ACK watch event arrived for an owner (for the rotation latency metric). */
  readonly lastOwnerEvent = new Map<string, number>();
  private readonly knownNamespaces = new Map<Cluster, Set<string>>();

  constructor(private readonly d: ReconcilerDeps) {
    this.core = d.kc.makeApiClient(CoreV1Api);
    this.custom = d.kc.makeApiClient(CustomObjectsApi);
  }

  private now(): Date {
    return this.d.now ? this.d.now() : new Date();
  }

  /** The cluster a side lives in: the operator's own, or the one its Secret names. */
  async clusterFor(cr: CrossAccountApi, ref: ClusterRef | undefined): Promise<Cluster> {
    if (!ref) return this.d.local;
    const namespace = ref.namespace ?? cr.metadata.namespace ?? 'default';
    let secret;
    try {
      secret = await this.core.readNamespacedSecret({ name: ref.secretName, namespace });
    } catch (err) {
      throw new ClusterProblem('ClusterSecretUnavailable', `cannot read cluster Secret ${namespace}/${ref.secretName}: ${errText(err)}`);
    }
    let text: string;
    try {
      text = parseClusterSecret(secret, ref.key ?? 'kubeconfig').kubeconfig;
    } catch (err) {
      throw new ClusterProblem('InvalidClusterSecret', (err as Error).message);
    }
    const key = kubeconfigKey(text);
    let cluster = this.remotes.get(key);
    if (!cluster) {
      const kc = new KubeConfig();
      try {
        kc.loadFromString(text);
      } catch (err) {
        throw new ClusterProblem('InvalidClusterSecret', `Secret ${namespace}/${ref.secretName}: kubeconfig does not parse: ${errText(err)}`);
      }
      cluster = this.d.makeCluster(`${namespace}/${ref.secretName}`, kc);
      this.remotes.set(key, cluster);
    }
    return cluster;
  }

  stop(): void {
    for (const c of this.remotes.values()) c.stop();
    this.remotes.clear();
    this.usersOfCluster.clear();
    this.knownNamespaces.clear();
  }

  private use(cluster: Cluster, key: string): void {
    let set = this.usersOfCluster.get(cluster);
    if (!set) this.usersOfCluster.set(cluster, (set = new Set()));
    set.add(key);
  }

  async reconcile(key: string, cr: CrossAccountApi): Promise<ReconcileResult> {
    if (cr.metadata.deletionTimestamp) return this.finalize(cr);
    if (!cr.metadata.finalizers?.includes(FINALIZER)) {
      cr = await this.replaceCr({ ...cr, metadata: { ...cr.metadata, finalizers: [...(cr.metadata.finalizers ?? []), FINALIZER] } });
    }
    const valid = validateSpec(cr.spec);
    if (!valid.ok) {
      await this.writeStatus(cr, invalidSpecStatus(cr, formatErrors(valid.errors), this.now()));
      return {};
    }
    const spec = withDefaults(valid.spec);
    const crv: CrossAccountApi = { ...cr, spec };
    const owner = ownerLabelValue(cr);
    const problems: Array<{ reason: string; message: string }> = [];

    let consumer: Cluster | undefined;
    let provider: Cluster | undefined;
    try {
      consumer = await this.clusterFor(cr, spec.consumer.cluster);
      this.use(consumer, key);
    } catch (err) {
      problems.push(problemOf(err, 'consumer'));
    }
    try {
      provider = await this.clusterFor(cr, spec.provider.cluster);
      this.use(provider, key);
    } catch (err) {
      problems.push(problemOf(err, 'provider'));
    }
    for (const [side, c] of [['consumer', consumer], ['provider', provider]] as const) {
      if (c && !c.healthy) problems.push({ reason: 'ClusterUnreachable', message: `${side} cluster ${c.name} is unreachable: ${errText(c.lastError)}` });
    }

    // Each side reads only its own namespace: both sides may be one cluster reached two ways.
    const inNs = (ns: string) => (o: LiveObject) => o.metadata?.namespace === ns;
    const liveConsumer = (consumer?.owned(owner) ?? []).filter(inNs(spec.consumer.namespace));
    const liveProvider = (provider?.owned(owner) ?? []).filter(inNs(spec.provider.namespace));
    const seen = observedIds(crv, liveConsumer, liveProvider);
    const rotation = rotate(cr.status?.allowedEndpoints, seen.endpoint, this.now(), spec.rotation?.gracePeriodSeconds ?? 300);
    const observed: ObservedIds = { ...seen.ids };
    if (rotation.allowed.length > 0) observed.allowedEndpointIds = rotation.allowed.map((a) => a.id);
    const rendered = this.d.render(crv, observed);

    const expected: Expected[] = [];
    for (const obj of [...rendered.consumer, ...rendered.provider]) {
      const kind = ackKindOf(obj);
      if (kind) expected.push({ kind, name: obj.metadata.name });
    }
    const newEndpoint = !!seen.endpoint.id && !(cr.status?.allowedEndpoints ?? []).some((a) => a.id === seen.endpoint.id);

    if (problems.length === 0) {
      // Both sides may share one cluster: apply and prune per cluster, never per side.
      const byCluster = new Map<Cluster, KubeObject[]>();
      byCluster.set(consumer!, [...rendered.consumer]);
      byCluster.set(provider!, [...(byCluster.get(provider!) ?? []), ...rendered.provider]);
      // Objects of this CR in a namespace neither side uses any more (the spec moved a side) are
      // stale and pruned too; a namespace of the other side is left alone, as the same cluster may
      // be reached two ways.
      const sideNamespaces = new Set([spec.consumer.namespace, spec.provider.namespace]);
      // Account and region of each side's namespace, for the CARM annotations of one it creates.
      const carm: NamespaceAccounts = new Map([
        [spec.consumer.namespace, { accountId: spec.consumer.accountId, region: spec.region }],
        [spec.provider.namespace, { accountId: spec.provider.accountId, region: spec.region }],
      ]);
      for (const [cluster, objs] of byCluster) {
        const namespaces = new Set(objs.map((o) => o.metadata.namespace ?? ''));
        const owned = cluster.owned(owner);
        const live = owned.filter((o) => namespaces.has(o.metadata?.namespace ?? ''));
        const stale = owned.filter((o) => !sideNamespaces.has(o.metadata?.namespace ?? ''));
        try {
          await this.applyAll(cluster, objs, live, carm);
          await this.prune(cluster, objs, [...live, ...stale]);
        } catch (err) {
          // No HTTP status means the request never got an answer: the cluster is unreachable.
          const reason = typeof (err as { code?: unknown }).code === 'number' ? 'ApplyFailed' : 'ClusterUnreachable';
          problems.push({ reason, message: `${reason === 'ClusterUnreachable' ? 'cannot reach' : 'applying to'} cluster ${cluster.name}: ${errText(err)}` });
        }
      }
      if (newEndpoint && problems.length === 0) {
        const since = this.lastOwnerEvent.get(owner);
        if (since) this.d.metrics.rotationLatency.observe((Date.now() - since) / 1000);
      }
    }

    const liveConsumerNow = () => (consumer?.owned(owner) ?? []).filter(inNs(spec.consumer.namespace));
    const liveProviderNow = () => (provider?.owned(owner) ?? []).filter(inNs(spec.provider.namespace));
    const names = new Map(expected.map((e) => [`${ACK[e.kind].kind}/${e.name}`, e]));
    const live = [...liveConsumerNow(), ...liveProviderNow()].filter((o) => names.has(`${o.kind}/${o.metadata?.name}`));
    const status = computeStatus({
      cr,
      expected,
      live,
      endpoint: seen.endpoint,
      // The allowed set only changes once it is really in the provider's policy.
      allowed: problems.length === 0 ? rotation.allowed : (cr.status?.allowedEndpoints ?? []),
      api: seen.ids.restApiId ? { id: seen.ids.restApiId, stage: spec.provider.stage, invokeUrl: `https://${seen.ids.restApiId}.execute-api.${spec.region}.amazonaws.com/${spec.provider.stage}` } : { stage: spec.provider.stage },
      securityGroups: { ...(seen.ids.callerSecurityGroupId ? { callerId: seen.ids.callerSecurityGroupId } : {}), ...(seen.ids.endpointSecurityGroupId ? { endpointId: seen.ids.endpointSecurityGroupId } : {}) },
      problems,
      now: this.now(),
    });
    await this.writeStatus(cr, status);
    if (problems.length > 0) throw new ClusterProblem(problems[0]!.reason, problems[0]!.message);
    if (rotation.wakeAt) return { requeueAfterMs: Math.max(0, rotation.wakeAt.getTime() - this.now().getTime()) + 50 };
    return {};
  }

  private async ensureNamespace(cluster: Cluster, namespace: string, carm: NamespaceAccounts): Promise<void> {
    let known = this.knownNamespaces.get(cluster);
    if (!known) this.knownNamespaces.set(cluster, (known = new Set()));
    if (known.has(namespace)) return;
    const core = cluster.kc.makeApiClient(CoreV1Api);
    try {
      await core.readNamespace({ name: namespace });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
      try {
        // CARM: the owner-account annotation routes ACK to the right account (ACK.md).
        const account = carm.get(namespace);
        const annotations = account ? { [ACK_ANNOTATION.ownerAccountId]: account.accountId, [ACK_ANNOTATION.defaultRegion]: account.region } : undefined;
        await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'app.kubernetes.io/managed-by': 'xapi' }, ...(annotations && { annotations }) } } });
      } catch (e) {
        if ((e as { code?: number }).code !== 409) throw e;
      }
    }
    known.add(namespace);
  }

  private async applyAll(cluster: Cluster, objs: readonly KubeObject[], live: readonly LiveObject[], carm: NamespaceAccounts): Promise<void> {
    for (const obj of objs) {
      const hash = hashOf(obj);
      const desired: KubeObject = { ...obj, metadata: { ...obj.metadata, annotations: { ...(obj.metadata.annotations ?? {}), [APPLIED_HASH_ANNOTATION]: hash } } };
      const current = live.find((o) => o.kind === obj.kind && o.apiVersion === obj.apiVersion && o.metadata?.name === obj.metadata.name && (o.metadata?.namespace ?? '') === (obj.metadata.namespace ?? ''));
      if (current && ackKindOf(obj) && upToDate(current, desired)) continue;
      if (obj.metadata.namespace) await this.ensureNamespace(cluster, obj.metadata.namespace, carm);
      await cluster.apply(desired);
      this.d.log.info({ cluster: cluster.name, kind: obj.kind, name: obj.metadata.name }, 'applied');
    }
  }

  private async prune(cluster: Cluster, objs: readonly KubeObject[], live: readonly LiveObject[]): Promise<void> {
    const wanted = new Set(objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`));
    for (const o of live) {
      if (wanted.has(`${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`)) continue;
      if ((o.metadata as { deletionTimestamp?: string } | undefined)?.deletionTimestamp) continue;
      await cluster.delete(o);
      this.d.log.info({ cluster: cluster.name, kind: o.kind, name: o.metadata?.name }, 'pruned');
    }
  }

  private async finalize(cr: CrossAccountApi): Promise<ReconcileResult> {
    if (!cr.metadata.finalizers?.includes(FINALIZER)) return {};
    const owner = ownerLabelValue(cr);
    const valid = validateSpec(cr.spec);
    let remaining = 0;
    const waiting: LiveObject[] = [];
    if (valid.ok) {
      const spec = withDefaults(valid.spec);
      const sides = [spec.consumer.cluster, spec.provider.cluster];
      const seen = new Set<Cluster>();
      const abandon = cr.metadata.annotations?.[ABANDON_ANNOTATION] === 'true';
      for (const [side, ref] of [['consumer', sides[0]], ['provider', sides[1]]] as const) {
        let cluster: Cluster;
        let objs: LiveObject[];
        try {
          cluster = await this.clusterFor(cr, ref);
          if (seen.has(cluster)) continue;
          seen.add(cluster);
          objs = await cluster.listOwned(owner);
        } catch (err) {
          // Never drop the finalizer silently: the objects (and the AWS resources behind them)
          // would be orphaned. Say why and how to proceed, and retry with backoff.
          const why = `${problemOf(err, side).message}`;
          if (abandon) {
            this.d.log.warn({ cr: cr.metadata.name, side, reason: why }, `deleting without the ${side} side's objects (${ABANDON_ANNOTATION}=true)`);
            continue;
          }
          const message = `cannot delete the ${side} side's objects: ${why}. Restore access to that cluster, or set the annotation ${ABANDON_ANNOTATION}=true to finish the deletion and leave them behind`;
          await this.writeStatus(cr, deletionStatus(cr, { reason: 'DeletionBlocked', message, degraded: message }, this.now()));
          throw err;
        }
        // Dependants first (AWS refuses to delete a RestAPI's pieces once it is gone, and ACK
        // marks that Terminal): only the lowest tier still present is deleted in this pass.
        remaining += objs.length;
        const tier = Math.min(...objs.map(deletionTier));
        for (const o of objs) {
          if (deletionTier(o) !== tier) continue;
          waiting.push(o);
          if (!(o.metadata as { deletionTimestamp?: string } | undefined)?.deletionTimestamp) await cluster.delete(o);
        }
      }
    }
    if (remaining > 0) {
      const terminal = waiting.map(objectState).find((s) => s.terminal);
      const names = waiting.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ');
      await this.writeStatus(
        cr,
        deletionStatus(
          cr,
          {
            reason: 'Deleting',
            message: `deleting ${remaining} object(s); waiting for ${names}`,
            ...(terminal && { degraded: `cannot delete ${terminal.message}` }),
          },
          this.now(),
        ),
      );
    }
    // Wait until the objects are really gone (ACK holds its own finalizers while it deletes in AWS).
    if (remaining > 0) return { requeueAfterMs: 500 };
    await this.replaceCr({ ...cr, metadata: { ...cr.metadata, finalizers: (cr.metadata.finalizers ?? []).filter((f) => f !== FINALIZER) } });
    return {};
  }

  /** Hook: set by the operator so a write updates its cache at once. */
  onCrWritten: (cr: CrossAccountApi) => void = () => {};

  private async replaceCr(cr: CrossAccountApi): Promise<CrossAccountApi> {
    const { status: _status, ...body } = cr;
    const res = (await this.custom.replaceNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: cr.metadata.namespace!, name: cr.metadata.name, body })) as CrossAccountApi;
    this.onCrWritten(res);
    return res;
  }

  private async writeStatus(cr: CrossAccountApi, status: CrossAccountApiStatus): Promise<void> {
    if (!statusChanged(cr.status, status)) return;
    const res = (await this.custom.replaceNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, plural: PLURAL, namespace: cr.metadata.namespace!, name: cr.metadata.name, body: { ...cr, status } })) as CrossAccountApi;
    this.onCrWritten(res);
    for (const c of transitions(cr.status, status)) {
      if (c.type !== CONDITION.Ready && c.type !== CONDITION.Degraded) continue;
      const warn = (c.type === CONDITION.Ready && c.status === 'False') || (c.type === CONDITION.Degraded && c.status === 'True');
      await this.event(res, warn ? 'Warning' : 'Normal', c.reason, `${c.type}=${c.status}: ${c.message}`);
    }
  }

  private async event(cr: CrossAccountApi, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = this.now();
    try {
      await this.core.createNamespacedEvent({
        namespace: cr.metadata.namespace!,
        body: {
          metadata: { generateName: `${cr.metadata.name}.`, namespace: cr.metadata.namespace },
          involvedObject: { apiVersion: cr.apiVersion, kind: cr.kind, name: cr.metadata.name, namespace: cr.metadata.namespace, uid: cr.metadata.uid },
          type,
          reason,
          message: message.slice(0, 1024),
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          source: { component: 'xapi-operator' },
          reportingComponent: 'xapi-operator',
        },
      });
    } catch (err) {
      this.d.log.warn({ err: errText(err) }, 'could not record event');
    }
  }
}

/** Deletion order: lower tiers go first (what references or lives inside another object). */
export function deletionTier(o: LiveObject): number {
  switch (o.kind) {
    case ACK.Stage.kind:
    case ACK.Function.kind:
      return 0;
    case ACK.Deployment.kind:
    case ACK.VPCEndpoint.kind:
      return 1;
    case ACK.Integration.kind:
      return 2;
    case ACK.Method.kind:
      return 3;
    case ACK.Resource.kind: {
      // deepest paths first
      const path = (o.metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.[PATH_ANNOTATION] ?? '/';
      return 4 + Math.max(0, 64 - path.split('/').filter(Boolean).length);
    }
    default:
      return 100; // RestAPI, Role, SecurityGroup: once nothing uses them
  }
}

/** Set to "true" on a CR being deleted to finish without a side whose cluster is gone for good. */
export const ABANDON_ANNOTATION = 'xapi.dev/abandon-unreachable-objects';

function problemOf(err: unknown, side: string): { reason: string; message: string } {
  if (err instanceof ClusterProblem) return { reason: err.reason, message: `${side}: ${err.message}` };
  return { reason: 'ClusterUnreachable', message: `${side}: ${errText(err)}` };
}
