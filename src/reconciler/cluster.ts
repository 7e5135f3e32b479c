// One cluster the operator talks to: its connections, a watch per ACK kind (objects labelled with
// the owner label, indexed by owner) and the writes (server-side apply, delete). Its cache is
// trusted only while every watch is live.

import { CoreV1Api, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { ACK, ACK_ANNOTATION, ackKindOf, type AckKindName } from '../api/ack.js';
import { carmConflict } from '../api/carm.js';
import { ENDPOINT_GROUP_LABEL, FIELD_MANAGER, OWNER_LABEL, type KubeObject } from '../api/types.js';
import { ConnectedKubeConfig, httpStatus, resourcePath } from './kube.js';
import type { LiveObject } from './observed.js';
import { ListWatch, listPages } from './watch.js';

export const ACK_KINDS = Object.keys(ACK) as AckKindName[];

/**
 * What the watches select: every object xapi renders carries this label (a CR's own objects the
 * owner label too, an endpoint group's shared objects the group label instead).
 */
export const MANAGED_SELECTOR = 'app.kubernetes.io/managed-by=xapi';
/** Index key of an endpoint group's shared objects (owner label values never contain '|'). */
const groupIndex = (label: string) => `group|${label}`;
const vpcIndex = (vpcId: string) => `vpc|${vpcId}`;

/** Answers to a list that retrying will not change: bad credentials, no permission, CRD missing. */
const REFUSED = new Set([401, 403, 404]);

export interface ClusterOptions {
  /** Relist period of every watch, ms. */
  resyncMs?: number;
  watchTimeoutSeconds?: number;
  /** An ACK object of an owner changed (old: the cached object before; cluster: this cluster's name). */
  onOwnerEvent?: (owner: string, obj: LiveObject, old: LiveObject | undefined, cluster: string, type: string) => void;
  /** A shared object of an endpoint group changed (label: the group label's value). */
  onGroupEvent?: (label: string, obj: LiveObject, old: LiveObject | undefined, cluster: string, type: string) => void;
  /**
   * The answer to one of the operator's own writes to an ACK object reached the cache (owner and
   * group: its labels). It may carry a status ACK wrote meanwhile, whose watch event is then dropped.
   */
  onOwnWrite?: (obj: LiveObject, old: LiveObject | undefined, owner: string | undefined, group: string | undefined) => void;
  /** The cluster became live or stopped being live. */
  onState?: (cluster: Cluster) => void;
  /** A write is about to be sent (metrics). */
  onWrite?: (verb: 'apply' | 'delete') => void;
  /** A VPCEndpoint changed, xapi's or not (one private-DNS endpoint per VPC, existing endpoints). */
  onEndpointEvent?: (obj: LiveObject, old: LiveObject | undefined, type: string) => void;
}

/** A namespace already annotated for another AWS account than the side that would use it. */
export class NamespaceConflict extends Error {}

/**
 * How old a namespace must be before xapi writes ACK objects into it. ACK picks the AWS account
 * of an object from its namespace cache; an object reconciled before that cache has the new
 * namespace is built in the controller's default account, and ACK then marks it Terminal for
 * good ("Resource already exists in account …"). A namespace created in the same moment as the
 * objects (by xapi, or by Argo CD in one sync with the CR) runs that race.
 */
export const NAMESPACE_SETTLE_MS = 5_000;

/** What the reconcile pipeline needs of a cluster (a fake in unit tests). */
export type AckCluster = Pick<Cluster, 'name' | 'owned' | 'grouped' | 'ofKind' | 'listOwned' | 'apply' | 'patchSpec' | 'delete' | 'ensureNamespace'> & Partial<Pick<Cluster, 'vpcEndpoints'>>;

export class Cluster {
  readonly objects: KubernetesObjectApi;
  /** Namespaces known to exist with the right CARM account → when (local clock) they are settled. */
  private readonly namespaces = new Map<string, number>();
  readonly custom: CustomObjectsApi;
  private readonly watches = new Map<AckKindName, ListWatch>();
  private started = false;

  constructor(
    readonly name: string,
    readonly kc: ConnectedKubeConfig,
    private readonly o: ClusterOptions = {},
  ) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    for (const kind of ACK_KINDS) {
      const ref = ACK[kind];
      // VPCEndpoints are watched whether xapi owns them or not: an existing endpoint a CR names,
      // and another team's private-DNS endpoint in a VPC, are read (never written). Few per cluster.
      const selector = kind === 'VPCEndpoint' ? undefined : MANAGED_SELECTOR;
      this.watches.set(
        kind,
        new ListWatch({
          kc,
          path: `/apis/${ref.group}/${ref.version}/${ref.plural}`,
          list: () => listPages((page) => this.custom.listClusterCustomObject({ group: ref.group, version: ref.version, plural: ref.plural, ...(selector && { labelSelector: selector }), ...page })),
          kind: ref.kind,
          apiVersion: ref.apiVersion,
          ...(selector && { labelSelector: selector }),
          indexBy: (obj) => {
            const labels = obj.metadata?.labels;
            const by = labels?.[OWNER_LABEL] ?? (labels?.[ENDPOINT_GROUP_LABEL] ? groupIndex(labels[ENDPOINT_GROUP_LABEL]) : undefined);
            // Endpoints also by VPC: admission reads one VPC's on every reconcile.
            const vpc = kind === 'VPCEndpoint' ? (obj.spec as { vpcID?: unknown } | undefined)?.vpcID : undefined;
            if (typeof vpc !== 'string') return by;
            return by === undefined ? vpcIndex(vpc) : [by, vpcIndex(vpc)];
          },
          resyncMs: o.resyncMs,
          watchTimeoutSeconds: o.watchTimeoutSeconds,
          onEvent: (type, obj, old) => {
            const owner = obj.metadata?.labels?.[OWNER_LABEL] ?? old?.metadata?.labels?.[OWNER_LABEL];
            if (owner) o.onOwnerEvent?.(owner, obj, old, this.name, type);
            const group = obj.metadata?.labels?.[ENDPOINT_GROUP_LABEL] ?? old?.metadata?.labels?.[ENDPOINT_GROUP_LABEL];
            if (group && !owner) o.onGroupEvent?.(group, obj, old, this.name, type);
            if (kind === 'VPCEndpoint') o.onEndpointEvent?.(obj, old, type);
          },
          onRemember: (obj, old) => o.onOwnWrite?.(obj, old, obj.metadata?.labels?.[OWNER_LABEL], obj.metadata?.labels?.[ENDPOINT_GROUP_LABEL]),
          onState: () => o.onState?.(this),
        }),
      );
    }
  }

  startWatches(): void {
    if (this.started) return;
    this.started = true;
    for (const lw of this.watches.values()) lw.start();
  }

  stop(): void {
    this.started = false;
    for (const lw of this.watches.values()) lw.stop();
    this.kc.close();
  }

  /** Every watch has listed at least once. */
  get synced(): boolean {
    return [...this.watches.values()].every((w) => w.synced);
  }

  /** Every watch is listed and connected: the cache can be acted on. */
  get live(): boolean {
    return [...this.watches.values()].every((w) => w.live);
  }

  /** A list the server refused (403, 401 …): waiting will not help. */
  get refused(): { kind: string; status: number } | undefined {
    for (const [kind, w] of this.watches) if (w.lastListStatus !== undefined && REFUSED.has(w.lastListStatus)) return { kind, status: w.lastListStatus };
    return undefined;
  }

  /** Why the cluster is not live, for conditions and logs. */
  get problem(): string {
    const bad = [...this.watches.entries()].find(([, w]) => !w.live);
    return bad ? `${bad[0]} watch: ${bad[1].describeError()}` : 'live';
  }

  /** Cached objects of one owner in this cluster. */
  owned(ownerValue: string): LiveObject[] {
    const out: LiveObject[] = [];
    for (const lw of this.watches.values()) out.push(...lw.byIndex(ownerValue));
    return out;
  }

  /** Cached shared objects of one endpoint group (group label value) in this cluster. */
  grouped(label: string): LiveObject[] {
    const out: LiveObject[] = [];
    for (const lw of this.watches.values()) out.push(...lw.byIndex(groupIndex(label)));
    return out;
  }

  /** Cached objects of one kind (for VPCEndpoints: others' too, see the watches). */
  ofKind(kind: AckKindName): LiveObject[] {
    return this.watches.get(kind)?.list() ?? [];
  }

  /** Every cached VPCEndpoint (xapi's and others'), optionally of one namespace and of one VPC. */
  vpcEndpoints(namespace?: string, vpcId?: string): LiveObject[] {
    const w = this.watches.get('VPCEndpoint');
    const some = (vpcId === undefined ? w?.list() : w?.byIndex(vpcIndex(vpcId))) ?? [];
    return namespace === undefined ? some : some.filter((o) => o.metadata?.namespace === namespace);
  }

  /** Current objects of one owner read from the server (deletion reads fresh, not the cache). */
  async listOwned(ownerValue: string): Promise<LiveObject[]> {
    const out: LiveObject[] = [];
    for (const kind of ACK_KINDS) {
      const ref = ACK[kind];
      const res = (await this.custom.listClusterCustomObject({ group: ref.group, version: ref.version, plural: ref.plural, labelSelector: `${OWNER_LABEL}=${ownerValue}` })) as { items?: LiveObject[] };
      for (const item of res.items ?? []) out.push({ ...item, kind: ref.kind, apiVersion: ref.apiVersion });
    }
    return out;
  }

  private watchOf(obj: { kind?: string; apiVersion?: string }): ListWatch | undefined {
    const kind = ackKindOf(obj);
    return kind ? this.watches.get(kind) : undefined;
  }

  async apply(obj: KubeObject): Promise<LiveObject> {
    this.o.onWrite?.('apply');
    const kind = ackKindOf(obj);
    const res = kind && obj.metadata.namespace
      ? await this.kc.write<LiveObject>({
          method: 'PATCH',
          path: resourcePath(ACK[kind], obj.metadata.namespace, obj.metadata.name),
          query: { fieldManager: FIELD_MANAGER, force: 'true' },
          body: obj,
          contentType: 'application/apply-patch+yaml',
        })
      : ((await this.objects.patch({ ...obj, metadata: { ...obj.metadata } } as KubernetesObject, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply)) as LiveObject);
    this.watchOf(res)?.remember(res);
    return res;
  }

  /**
   * Make sure a side's namespace exists: created with the side's CARM annotations, or, when it
   * exists, not annotated for another account (ACK would build the side's objects there).
   * Resolves to how long to wait before writing objects there (0: now; see NAMESPACE_SETTLE_MS).
   */
  async ensureNamespace(namespace: string, account: { accountId: string; region: string } | undefined): Promise<number> {
    const now = Date.now();
    const known = this.namespaces.get(namespace);
    if (known !== undefined) return Math.max(0, known - now);
    const core = this.kc.makeApiClient(CoreV1Api);
    let settled = now + NAMESPACE_SETTLE_MS;
    try {
      const ns = await core.readNamespace({ name: namespace });
      const conflict = account && carmConflict({ name: namespace, annotations: ns.metadata?.annotations }, account.accountId, account.region);
      if (conflict) throw new NamespaceConflict(`cluster ${this.name}: ${conflict}`);
      // Its age by the server's clock, never a longer wait than a namespace created now.
      const created = ns.metadata?.creationTimestamp ? new Date(ns.metadata.creationTimestamp).getTime() : NaN;
      if (Number.isFinite(created)) settled = now + Math.min(NAMESPACE_SETTLE_MS, Math.max(0, created + NAMESPACE_SETTLE_MS - now));
    } catch (err) {
      if (err instanceof NamespaceConflict || httpStatus(err) !== 404) throw err;
      try {
        const annotations = account ? { [ACK_ANNOTATION.ownerAccountId]: account.accountId, [ACK_ANNOTATION.defaultRegion]: account.region } : undefined;
        await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'app.kubernetes.io/managed-by': 'xapi' }, ...(annotations && { annotations }) } } });
      } catch (e) {
        if (httpStatus(e) !== 409) throw e;
      }
    }
    this.namespaces.set(namespace, settled);
    return Math.max(0, settled - now);
  }

  /** A JSON merge patch of the object's spec (`null` removes a field). */
  async patchSpec(obj: LiveObject, spec: Record<string, unknown>): Promise<void> {
    this.o.onWrite?.('apply');
    const body = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata?.name, namespace: obj.metadata?.namespace }, spec } as KubernetesObject;
    try {
      await this.objects.patch(body, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch);
    } catch (err) {
      if (httpStatus(err) !== 404) throw err;
    }
  }

  async delete(obj: LiveObject): Promise<void> {
    this.o.onWrite?.('delete');
    try {
      await this.objects.delete({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata?.name, namespace: obj.metadata?.namespace } } as KubernetesObject);
    } catch (err) {
      if (httpStatus(err) !== 404) throw err;
    }
  }
}

/** True when every field in `desired` has the same value in `live` (live may have more). */
export function covers(live: unknown, desired: unknown): boolean {
  if (desired === undefined) return true;
  if (desired === null || typeof desired !== 'object') return live === desired;
  if (Array.isArray(desired)) {
    return Array.isArray(live) && live.length === desired.length && desired.every((d, i) => covers(live[i], d));
  }
  if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
  const l = live as Record<string, unknown>;
  return Object.entries(desired as Record<string, unknown>).every(([k, v]) => covers(l[k], v));
}

/** Whether the live object already holds everything rendered (so applying would change nothing). */
export function upToDate(live: LiveObject | undefined, desired: KubeObject): boolean {
  if (!live) return false;
  const { apiVersion, kind, metadata, ...rest } = desired;
  if (live.apiVersion !== apiVersion || live.kind !== kind) return false;
  if (!covers(live.metadata?.labels ?? {}, metadata.labels ?? {})) return false;
  if (!covers((live.metadata as { annotations?: unknown } | undefined)?.annotations ?? {}, metadata.annotations ?? {})) return false;
  return covers(live, rest);
}
