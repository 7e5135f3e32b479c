// One cluster the operator talks to: clients, ACK watches labelled with the owner label, and
// the writes (server-side apply, delete). Remote clusters come from kubeconfig / Argo CD Secrets.

import { createHash } from 'node:crypto';
import { CustomObjectsApi, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { ACK, type AckKindName } from '../api/ack.js';
import { FIELD_MANAGER, OWNER_LABEL, type KubeObject } from '../api/types.js';
import type { LiveObject } from './observed.js';
import { ListWatch, rememberNewest } from './watch.js';

export const ACK_KINDS = Object.keys(ACK) as AckKindName[];

export class Cluster {
  readonly objects: KubernetesObjectApi;
  readonly custom: CustomObjectsApi;
  private readonly watches = new Map<AckKindName, ListWatch>();
  lastError: unknown;

  constructor(
    readonly name: string,
    readonly kc: KubeConfig,
    private readonly onOwnerEvent: (ownerValue: string, kind: string) => void,
    private readonly onHealth: (cluster: Cluster) => void = () => {},
  ) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  startWatches(): void {
    for (const kind of ACK_KINDS) {
      const ref = ACK[kind];
      const lw = new ListWatch({
        kc: this.kc,
        api: this.custom,
        group: ref.group,
        version: ref.version,
        plural: ref.plural,
        kind: ref.kind,
        labelSelector: OWNER_LABEL,
        onEvent: (_type, obj) => {
          const owner = obj.metadata?.labels?.[OWNER_LABEL];
          if (owner) this.onOwnerEvent(owner, ref.kind);
        },
        onError: (err) => {
          this.lastError = err;
        },
        onHealth: () => this.onHealth(this),
      });
      this.watches.set(kind, lw);
      lw.start();
    }
  }

  stop(): void {
    for (const lw of this.watches.values()) lw.stop();
  }

  /** False while any watch cannot reach the API server. */
  get healthy(): boolean {
    return [...this.watches.values()].every((w) => w.healthy);
  }

  get synced(): boolean {
    return [...this.watches.values()].every((w) => w.synced);
  }

  /** Cached objects of one owner in this cluster. */
  owned(ownerValue: string): LiveObject[] {
    const out: LiveObject[] = [];
    for (const lw of this.watches.values()) for (const o of lw.cache.values()) if (o.metadata?.labels?.[OWNER_LABEL] === ownerValue) out.push(o);
    return out;
  }

  /** Current objects of one owner read from the server (for deletion, where the cache may lag). */
  async listOwned(ownerValue: string): Promise<LiveObject[]> {
    const out: LiveObject[] = [];
    for (const kind of ACK_KINDS) {
      const ref = ACK[kind];
      const res = (await this.custom.listClusterCustomObject({ group: ref.group, version: ref.version, plural: ref.plural, labelSelector: `${OWNER_LABEL}=${ownerValue}` })) as { items?: LiveObject[] };
      for (const item of res.items ?? []) out.push({ ...item, kind: ref.kind, apiVersion: ref.apiVersion });
    }
    return out;
  }

  remember(obj: LiveObject): void {
    const kind = ACK_KINDS.find((k) => ACK[k].kind === obj.kind && ACK[k].apiVersion === obj.apiVersion);
    if (!kind) return;
    const lw = this.watches.get(kind);
    if (lw) rememberNewest(lw.cache, obj);
  }

  async apply(obj: KubeObject): Promise<LiveObject> {
    const body = { ...obj, metadata: { ...obj.metadata } } as KubernetesObject;
    const res = (await this.objects.patch(body, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply)) as LiveObject;
    this.remember(res);
    return res;
  }

  async delete(obj: LiveObject): Promise<void> {
    try {
      await this.objects.delete({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata?.name, namespace: obj.metadata?.namespace } } as KubernetesObject);
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
  }
}

/** Cache key for a kubeconfig: the same content gives the same Cluster. */
export function kubeconfigKey(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
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
