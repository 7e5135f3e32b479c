// List + watch of one resource path with a local cache: watch from the list's resourceVersion,
// relist on 410 Gone, reconnect with capped backoff after errors. Bookmarks keep the
// resourceVersion fresh so a reconnect rarely needs a relist.

import { Watch, type KubeConfig, type CustomObjectsApi } from '@kubernetes/client-node';
import type { LiveObject } from './observed.js';

export type WatchEvent = 'ADDED' | 'MODIFIED' | 'DELETED' | 'SYNCED';

export interface ListWatchOptions {
  kc: KubeConfig;
  api: CustomObjectsApi;
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespace?: string;
  labelSelector?: string;
  onEvent: (type: WatchEvent, obj: LiveObject) => void;
  onError?: (err: unknown) => void;
  onHealth?: (healthy: boolean) => void;
  maxBackoffMs?: number;
}

const keyOf = (o: LiveObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export class ListWatch {
  readonly cache = new Map<string, LiveObject>();
  private resourceVersion: string | undefined;
  private abort: AbortController | undefined;
  private stopped = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  /** True once the first list has completed. */
  synced = false;
  /** False after a failed list/watch until the next one succeeds. */
  healthy = true;
  lastError: unknown;

  constructor(private readonly opts: ListWatchOptions) {}

  get path(): string {
    const { group, version, plural, namespace } = this.opts;
    return `/apis/${group}/${version}/${namespace ? `namespaces/${namespace}/` : ''}${plural}`;
  }

  start(): void {
    this.stopped = false;
    void this.cycle();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort?.abort();
  }

  list(): LiveObject[] {
    return [...this.cache.values()];
  }

  private async relist(): Promise<void> {
    const { api, group, version, plural, namespace, labelSelector } = this.opts;
    const result = (namespace
      ? await api.listNamespacedCustomObject({ group, version, plural, namespace, labelSelector })
      : await api.listClusterCustomObject({ group, version, plural, labelSelector })) as { metadata?: { resourceVersion?: string }; items?: LiveObject[] };
    const items = result.items ?? [];
    const seen = new Set<string>();
    for (const item of items) {
      // Items in a list carry no kind; restore it so consumers can match by kind.
      const obj = { ...item, kind: item.kind ?? this.opts.kind, apiVersion: item.apiVersion ?? `${group}/${version}` };
      const k = keyOf(obj);
      seen.add(k);
      const old = this.cache.get(k);
      this.cache.set(k, obj);
      if (!old || old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.opts.onEvent(old ? 'MODIFIED' : 'ADDED', obj);
    }
    for (const [k, old] of this.cache) {
      if (!seen.has(k)) {
        this.cache.delete(k);
        this.opts.onEvent('DELETED', old);
      }
    }
    this.resourceVersion = result.metadata?.resourceVersion;
    this.synced = true;
    this.markHealthy(true);
    this.opts.onEvent('SYNCED', {});
  }

  private async cycle(): Promise<void> {
    if (this.stopped) return;
    try {
      if (!this.resourceVersion) await this.relist();
      if (this.stopped) return;
      await this.watchOnce();
      this.failures = 0;
      this.schedule(0);
    } catch (err) {
      this.lastError = err;
      this.markHealthy(false);
      this.opts.onError?.(err);
      this.failures++;
      this.schedule(Math.min(this.opts.maxBackoffMs ?? 10_000, 100 * 2 ** Math.min(this.failures, 10)));
    }
  }

  private markHealthy(ok: boolean): void {
    if (this.healthy === ok) return;
    this.healthy = ok;
    this.opts.onHealth?.(ok);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.cycle(), ms);
  }

  private watchOnce(): Promise<void> {
    return new Promise((resolve, reject) => {
      let gone = false;
      const watch = new Watch(this.opts.kc);
      const params: Record<string, string | boolean | number> = { allowWatchBookmarks: true, resourceVersion: this.resourceVersion ?? '', timeoutSeconds: 300 };
      if (this.opts.labelSelector) params.labelSelector = this.opts.labelSelector;
      watch
        .watch(
          this.path,
          params,
          (phase, obj: LiveObject & { code?: number }) => {
            if (phase === 'ERROR') {
              if (obj?.code === 410) {
                gone = true;
                this.resourceVersion = undefined;
              }
              return;
            }
            const rv = obj?.metadata?.resourceVersion;
            if (rv) this.resourceVersion = rv;
            if (phase === 'BOOKMARK') return;
            const k = keyOf(obj);
            if (phase === 'DELETED') this.cache.delete(k);
            else if (!newer(this.cache.get(k), obj)) this.cache.set(k, obj);
            this.opts.onEvent(phase as WatchEvent, obj);
          },
          (err) => {
            if (gone) {
              this.resourceVersion = undefined;
              resolve();
            } else if (err && (err as { name?: string }).name !== 'AbortError') reject(err);
            else resolve();
          },
        )
        .then((abort) => {
          this.abort = abort;
          this.markHealthy(true);
          if (this.stopped) abort.abort();
        }, reject);
    });
  }
}

/** True when the cached object is newer than the incoming one (a write we remembered first). */
function newer(cached: LiveObject | undefined, incoming: LiveObject): boolean {
  const a = Number(cached?.metadata?.resourceVersion);
  const b = Number(incoming.metadata?.resourceVersion);
  return Number.isFinite(a) && Number.isFinite(b) && a > b;
}

export function rememberNewest(cache: Map<string, LiveObject>, obj: LiveObject): void {
  const k = keyOf(obj);
  if (!newer(cache.get(k), obj)) cache.set(k, obj);
}
