// One copy of each repeated short string in the watch caches. JSON.parse makes a new string for
// every value, so the namespace, apiVersion, account ID, owner label and condition type of 17
// cached objects per CR were 17 copies each: in a heap snapshot at 300 CRs, half of the 153,000
// short strings were duplicates (about 3 MB). Values of fields that are unique per object (uid,
// resourceVersion, timestamps) are left alone: pooling them would only add entries.

/** Strings longer than this are left alone (documents, messages: rarely equal, costly to hash). */
export const INTERN_MAX_LENGTH = 64;

const UNIQUE_FIELDS = new Set(['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'lastTransitionTime', 'createdDate', 'lastUpdatedDate']);

export class StringPool {
  private readonly pool = new Map<string, string>();

  /** Past this many entries the pool starts over: strings of objects long gone do not pile up. */
  constructor(private readonly maxEntries = 100_000) {}

  get size(): number {
    return this.pool.size;
  }

  /** The pooled copy of `s`. */
  string(s: string): string {
    if (s.length > INTERN_MAX_LENGTH) return s;
    const have = this.pool.get(s);
    if (have !== undefined) return have;
    if (this.pool.size >= this.maxEntries) this.pool.clear();
    this.pool.set(s, s);
    return s;
  }

  /** Replaces, in place, the short string values (and array items) of a parsed JSON value. */
  intern<T>(value: T): T {
    this.walk(value);
    return value;
  }

  private walk(v: unknown): void {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (typeof x === 'string') v[i] = this.string(x);
        else if (x !== null && typeof x === 'object') this.walk(x);
      }
      return;
    }
    if (v === null || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const x = o[k];
      if (typeof x === 'string') {
        if (!UNIQUE_FIELDS.has(k)) o[k] = this.string(x);
      } else if (x !== null && typeof x === 'object') this.walk(x);
    }
  }
}
