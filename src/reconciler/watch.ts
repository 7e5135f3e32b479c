// List + watch of one collection with a local cache. The cache is trusted only while the watch is
// live: a list completed and no error since. After any error the state is "unknown" until a new
// list completes (an unreachable server is never mistaken for an empty one). A 410 Gone, in the
// stream or as the watch request's own answer, relists. A watch that stays open past its
// server-side timeout (dead TCP, a proxy that stopped forwarding) is aborted, and a periodic
// relist with a request timeout notices a server that stopped answering.

import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { StringPool } from './intern.js';
import { errText, httpStatus } from './kube.js';
import type { LiveObject } from './observed.js';

export type WatchEvent = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ObjectList {
  metadata?: { resourceVersion?: string };
  items?: LiveObject[];
}

export interface ListWatchOptions {
  kc: KubeConfig;
  /** Collection path, e.g. /apis/GROUP/VERSION/PLURAL or /api/v1/namespaces/NS/secrets. */
  path: string;
  /** The same collection, listed (with the same selectors); must time out on its own. */
  list: () => Promise<ObjectList>;
  kind: string;
  apiVersion: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Called for every change of the cache; `old` is the cached object it replaces. */
  onEvent?: (type: WatchEvent, obj: LiveObject, old: LiveObject | undefined) => void;
  /**
   * Called when remember() takes an object the operator wrote (no watch event will say so: the one
   * for that version, or an older one, is dropped as an echo); `old` is the cached object it replaces.
   */
  onRemember?: (obj: LiveObject, old: LiveObject | undefined) => void;
  /** Called when `live` flips. */
  onState?: (live: boolean) => void;
  /** Relist this often even when nothing fails, ms (0: never). */
  resyncMs?: number;
  /** Server-side watch timeout; the client gives up a little after it. */
  watchTimeoutSeconds?: number;
  maxBackoffMs?: number;
  /** Index the cache by these values (e.g. the owner label; a VPC ID): byIndex reads one. */
  indexBy?: (obj: LiveObject) => string | readonly string[] | undefined;
}

/** Items per page of a list: a large collection arrives (and is parsed) in pieces. */
export const LIST_PAGE_SIZE = 500;

/**
 * Every page of a list, as one list (the pages are of one snapshot: the continue token holds the
 * first page's resourceVersion). managedFields are dropped page by page.
 */
export async function listPages(
  page: (o: { limit: number; _continue?: string }) => Promise<ObjectList & { metadata?: { continue?: string; _continue?: string } }>,
  limit = LIST_PAGE_SIZE,
): Promise<ObjectList> {
  const items: LiveObject[] = [];
  let resourceVersion: string | undefined;
  let token: string | undefined;
  do {
    const res = await page({ limit, ...(token && { _continue: token }) });
    resourceVersion ??= res.metadata?.resourceVersion;
    for (const item of res.items ?? []) items.push(withoutManagedFields(item));
    // Raw JSON (custom objects) says `continue`; client-node's typed lists rename it `_continue`.
    token = res.metadata?.continue || res.metadata?._continue || undefined;
  } while (token);
  return { metadata: { ...(resourceVersion && { resourceVersion }) }, items };
}

function withoutManagedFields(item: LiveObject): LiveObject {
  if (!item.metadata || !('managedFields' in item.metadata)) return item;
  const { managedFields: _dropped, ...metadata } = item.metadata as NonNullable<LiveObject['metadata']> & { managedFields?: unknown };
  return { ...item, metadata };
}

/** One pool for every watch of the process: the same namespace or account ID recurs across kinds and clusters. */
const CACHE_STRINGS = new StringPool();

const keyOf = (o: LiveObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** Kubernetes resourceVersions are opaque, but etcd's are increasing integers; compare when both parse. */
function rvNumber(o: LiveObject | undefined): number {
  const n = Number(o?.metadata?.resourceVersion);
  return Number.isFinite(n) ? n : NaN;
}

/**
 * Both are the same object (uid) at the same generation, which the API server raises on every
 * change of the spec. An object without a generation (a Secret) never matches.
 */
function sameGeneration(a: LiveObject, b: LiveObject): boolean {
  const ma = a.metadata as { uid?: string; generation?: number } | undefined;
  const mb = b.metadata as { uid?: string; generation?: number } | undefined;
  return ma?.generation !== undefined && ma.generation === mb?.generation && ma.uid !== undefined && ma.uid === mb?.uid;
}

export class ListWatch {
  private readonly cache = new Map<string, LiveObject>();
  private readonly index = new Map<string, Map<string, LiveObject>>();
  private resourceVersion: string | undefined;
  private abort: AbortController | undefined;
  private stopped = true;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  /** True once a list has completed (ever). */
  synced = false;
  /** True while the cache is known current: listed, and no error since. */
  live = false;
  lastError: unknown;
  /** HTTP status of the last failed list, if the server answered (403, 404 …). */
  lastListStatus: number | undefined;

  constructor(private readonly opts: ListWatchOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.resourceVersion = undefined;
    void this.cycle();
    const every = this.opts.resyncMs ?? 0;
    if (every > 0) {
      // Each watch relists at its own phase: an operator's thirty-odd watches relisting at the
      // same instant held its event loop for seconds at 1,000 CRs (and delayed rotations).
      const first = setTimeout(() => {
        void this.resync();
        this.resyncTimer = setInterval(() => void this.resync(), every);
        this.resyncTimer.unref?.();
      }, Math.round(every * (0.5 + Math.random() * 0.5)));
      first.unref?.();
      this.resyncTimer = first;
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.abort?.abort();
    this.setLive(false);
  }

  get(namespace: string | undefined, name: string): LiveObject | undefined {
    return this.cache.get(`${namespace ?? ''}/${name}`);
  }

  list(): LiveObject[] {
    return [...this.cache.values()];
  }

  byIndex(value: string): LiveObject[] {
    return [...(this.index.get(value)?.values() ?? [])];
  }

  /** Take an object the operator just wrote, unless the cache already holds a newer one. */
  remember(obj: LiveObject): void {
    const withKind = this.withKind(obj);
    const old = this.cache.get(keyOf(withKind));
    if (rvNumber(old) > rvNumber(withKind)) return;
    this.put(withKind);
    this.opts.onRemember?.(withKind, old);
  }

  private withKind(item: LiveObject): LiveObject {
    // Items in a list carry no kind; restore it so consumers can match by kind. managedFields are
    // dropped: nothing reads them, and they are most of an object's size (the cache's memory).
    // Repeated short strings become one copy (intern.ts).
    return CACHE_STRINGS.intern({ ...withoutManagedFields(item), kind: item.kind ?? this.opts.kind, apiVersion: item.apiVersion ?? this.opts.apiVersion });
  }

  private put(obj: LiveObject): LiveObject | undefined {
    const k = keyOf(obj);
    const old = this.cache.get(k);
    // The same object at the same generation has the same spec: keep the cached copy, so work keyed
    // by it (spec-check.ts) is not done again for a status change, and the new copy is dropped.
    if (old?.spec !== undefined && sameGeneration(old, obj)) obj.spec = old.spec;
    this.cache.set(k, obj);
    if (this.opts.indexBy) {
      const after = this.indexValues(obj);
      for (const v of old ? this.indexValues(old) : []) if (!after.includes(v)) this.unindex(v, k);
      for (const v of after) {
        let m = this.index.get(v);
        if (!m) this.index.set(v, (m = new Map()));
        m.set(k, obj);
      }
    }
    return old;
  }

  private remove(k: string): LiveObject | undefined {
    const old = this.cache.get(k);
    if (!old) return undefined;
    this.cache.delete(k);
    for (const v of this.indexValues(old)) this.unindex(v, k);
    return old;
  }

  private indexValues(obj: LiveObject): readonly string[] {
    const v = this.opts.indexBy?.(obj);
    return v === undefined ? [] : typeof v === 'string' ? [v] : v;
  }

  private unindex(value: string, k: string): void {
    const m = this.index.get(value);
    m?.delete(k);
    if (m?.size === 0) this.index.delete(value);
  }

  private setLive(live: boolean): void {
    if (this.live === live) return;
    this.live = live;
    this.opts.onState?.(live);
  }

  /** List and make the cache equal to the list; objects newer than the list (from the watch) stay. */
  private async relist(): Promise<void> {
    let result: ObjectList;
    try {
      result = await this.opts.list();
      this.lastListStatus = undefined;
    } catch (err) {
      this.lastListStatus = httpStatus(err);
      throw err;
    }
    if (this.stopped) return;
    const listRv = Number(result.metadata?.resourceVersion);
    const seen = new Set<string>();
    for (const item of result.items ?? []) {
      const obj = this.withKind(item);
      const k = keyOf(obj);
      seen.add(k);
      const old = this.cache.get(k);
      if (old && rvNumber(old) >= rvNumber(obj)) continue;
      this.put(obj);
      this.opts.onEvent?.(old ? 'MODIFIED' : 'ADDED', obj, old);
    }
    for (const [k, old] of [...this.cache]) {
      if (seen.has(k)) continue;
      // Created after the list was taken (the watch delivered it): not a deletion.
      if (Number.isFinite(listRv) && rvNumber(old) > listRv) continue;
      this.remove(k);
      this.opts.onEvent?.('DELETED', old, old);
    }
    if (!this.resourceVersion || !Number.isFinite(Number(this.resourceVersion)) || listRv > Number(this.resourceVersion)) {
      this.resourceVersion = result.metadata?.resourceVersion;
    }
    this.synced = true;
    this.failures = 0;
    this.setLive(true);
  }

  /** The periodic relist: a server that stopped answering fails here within the request timeout. */
  private async resync(): Promise<void> {
    if (this.stopped || !this.live) return;
    try {
      await this.relist();
    } catch (err) {
      this.fail(err);
      // Drop the (possibly stalled) watch; the cycle relists and reconnects.
      this.resourceVersion = undefined;
      this.abort?.abort();
    }
  }

  private fail(err: unknown): void {
    this.lastError = err;
    this.setLive(false);
  }

  private async cycle(): Promise<void> {
    if (this.stopped) return;
    const started = Date.now();
    try {
      if (!this.resourceVersion) await this.relist();
      if (this.stopped) return;
      const next = await this.watchOnce();
      if (next === 'relist') this.resourceVersion = undefined;
      // A watch the server ends at once again and again (a proxy, an overloaded server) is not spun on.
      this.schedule(Date.now() - started < 1000 ? 1000 : 0);
    } catch (err) {
      this.fail(err);
      // The cache is not trusted again until a list completes.
      this.resourceVersion = undefined;
      this.failures++;
      this.schedule(Math.min(this.opts.maxBackoffMs ?? 10_000, 100 * 2 ** Math.min(this.failures, 10)));
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.cycle(), ms);
  }

  private watchOnce(): Promise<'again' | 'relist'> {
    const timeoutSeconds = this.opts.watchTimeoutSeconds ?? 300;
    return new Promise((resolve, reject) => {
      let finished = false;
      let gone = false;
      const finish = (f: () => void) => {
        if (finished) return;
        finished = true;
        clearTimeout(deadline);
        f();
      };
      // The server ends the watch after timeoutSeconds; past that plus a margin, it is stalled.
      const deadline = setTimeout(
        () => {
          this.abort?.abort();
          finish(() => reject(new Error(`watch of ${this.opts.path} stalled: no answer ${timeoutSeconds}s after it started`)));
        },
        (timeoutSeconds + Math.max(5, Math.ceil(timeoutSeconds / 4))) * 1000,
      );
      deadline.unref?.();
      const params: Record<string, string | boolean | number> = { allowWatchBookmarks: true, resourceVersion: this.resourceVersion ?? '', timeoutSeconds };
      if (this.opts.labelSelector) params.labelSelector = this.opts.labelSelector;
      if (this.opts.fieldSelector) params.fieldSelector = this.opts.fieldSelector;
      new Watch(this.opts.kc)
        .watch(
          this.opts.path,
          params,
          (phase: string, obj: LiveObject & { code?: number }) => {
            if (finished) return;
            if (phase === 'ERROR') {
              if (obj?.code === 410) gone = true;
              return;
            }
            const rv = obj?.metadata?.resourceVersion;
            if (rv) this.resourceVersion = rv;
            if (phase === 'BOOKMARK') return;
            const withKind = this.withKind(obj);
            const k = keyOf(withKind);
            if (phase === 'DELETED') {
              const old = this.remove(k);
              this.opts.onEvent?.('DELETED', withKind, old);
              return;
            }
            const old = this.cache.get(k);
            // A write we remembered first: newer, or the very object (the echo of our own write,
            // which would only run its owner's reconcile again for nothing).
            if (rvNumber(old) >= rvNumber(withKind)) return;
            this.put(withKind);
            this.opts.onEvent?.(phase as WatchEvent, withKind, old);
          },
          (err) => {
            if (gone || httpStatus(err) === 410) return finish(() => resolve('relist'));
            if (this.stopped) return finish(() => resolve('again'));
            if (err && (err as { name?: string }).name !== 'AbortError') return finish(() => reject(err));
            finish(() => resolve('again'));
          },
        )
        .then(
          (abort) => {
            this.abort = abort;
            if (this.stopped || finished) abort.abort();
          },
          (err) => finish(() => reject(err)),
        );
    });
  }

  describeError(): string {
    return this.lastError === undefined ? 'no error recorded' : errText(this.lastError);
  }
}
