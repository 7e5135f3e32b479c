// What "zero disruption" means, checked from outside: no ACK object of a CR whose desired state
// did not change is deleted, recreated (new uid) or changed (new generation). Two views:
// snapshots (uid and generation of every object at two moments) and a change log (every spec an
// object had, from a watch), which also catches an object that was deleted and came back, or a
// spec that went back to an earlier one (a field reset to its fail-closed value and restored).
import { createHash } from 'node:crypto';
import { CustomObjectsApi, makeInformer, type Informer, type KubeConfig, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import { ACK, type AckKindName } from '../../../src/api/ack.js';
import { OWNER_LABEL } from '../../../src/api/types.js';
import { MANAGED_SELECTOR } from '../../../src/reconciler/cluster.js';

/** A CR's objects by their owner; an endpoint group's shared objects as `group:<label>`. */
const ownerOf = (o: { metadata?: { labels?: Record<string, string> } }) => o.metadata?.labels?.[OWNER_LABEL] ?? `group:${o.metadata?.labels?.['xapi.dev/endpoint-group'] ?? ''}`;

export interface Side {
  name: string;
  kc: KubeConfig;
  namespaces: string[];
}

export interface ObjectState {
  uid: string;
  generation: number;
  owner: string;
  spec: string;
}

export type Snapshot = Map<string, ObjectState>;

type AckObject = KubernetesObject & { spec?: unknown };
const KINDS = Object.keys(ACK) as AckKindName[];
const specHash = (spec: unknown) => createHash('sha256').update(JSON.stringify(spec ?? null)).digest('hex').slice(0, 16);

/** Objects whose change is expected: the provider side of a CR whose endpoint rotated. */
export interface Allowance {
  /** Owner label values (namespace.name) of CRs whose desired state changed. */
  changedOwners?: Iterable<string>;
}

/**
 * A changed resource policy legitimately updates the RestAPI and the Stage (new generation) and
 * replaces the Deployment (its name carries the policy's hash); nothing else may move.
 */
function updatable(key: string, owner: string, changed: ReadonlySet<string>): boolean {
  const kind = key.split('/')[1]!;
  return changed.has(owner) && (kind === 'RestAPI' || kind === 'Stage' || kind === 'Deployment');
}
function replaceable(key: string, owner: string, changed: ReadonlySet<string>): boolean {
  return changed.has(owner) && key.split('/')[1] === 'Deployment';
}

export async function snapshot(sides: Side[]): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (const side of sides) {
    const custom = side.kc.makeApiClient(CustomObjectsApi);
    for (const kind of KINDS) {
      const r = ACK[kind];
      const list = (await custom.listClusterCustomObject({ group: r.group, version: r.version, plural: r.plural, labelSelector: MANAGED_SELECTOR })) as { items: Array<AckObject> };
      for (const o of list.items) {
        const ns = o.metadata?.namespace ?? '';
        if (!side.namespaces.includes(ns)) continue;
        out.set(`${side.name}/${kind}/${ns}/${o.metadata?.name}`, {
          uid: o.metadata?.uid ?? '',
          generation: o.metadata?.generation ?? 0,
          owner: ownerOf(o),
          spec: specHash(o.spec),
        });
      }
    }
  }
  return out;
}

/** Disruptions between two snapshots; `created` counts new objects of unchanged CRs too. */
export function compare(before: Snapshot, after: Snapshot, allow: Allowance = {}): string[] {
  const changed = new Set(allow.changedOwners ?? []);
  const out: string[] = [];
  for (const [key, b] of before) {
    const a = after.get(key);
    if (replaceable(key, b.owner, changed)) continue;
    if (!a) out.push(`${key}: deleted`);
    else if (a.uid !== b.uid) out.push(`${key}: recreated (uid ${b.uid} -> ${a.uid})`);
    else if (a.generation !== b.generation && !updatable(key, b.owner, changed)) out.push(`${key}: changed (generation ${b.generation} -> ${a.generation})`);
  }
  for (const [key, a] of after) if (!before.has(key) && !replaceable(key, a.owner, changed)) out.push(`${key}: created`);
  return out;
}

interface History {
  owner: string;
  uids: string[];
  specs: string[];
  deletes: number;
}

/**
 * Watches every ACK object in the sides' namespaces and keeps, per object, its uids, the
 * sequence of distinct specs and its deletions. Informers restart after errors (a restarted API
 * server); what happened while one was down is seen through the next list.
 */
export class ChangeLog {
  private readonly informers: Array<Informer<AckObject> & ObjectCache<AckObject>> = [];
  private readonly history = new Map<string, History>();
  private stopped = false;

  constructor(private readonly sides: Side[]) {}

  async start(): Promise<this> {
    for (const side of this.sides) {
      const custom = side.kc.makeApiClient(CustomObjectsApi);
      for (const kind of KINDS) {
        const r = ACK[kind];
        const inf = makeInformer<AckObject>(
          side.kc,
          `/apis/${r.group}/${r.version}/${r.plural}`,
          () => custom.listClusterCustomObject({ group: r.group, version: r.version, plural: r.plural, labelSelector: MANAGED_SELECTOR }) as never,
          MANAGED_SELECTOR,
        );
        const key = (o: AckObject) => `${side.name}/${kind}/${o.metadata?.namespace}/${o.metadata?.name}`;
        const mine = (o: AckObject) => side.namespaces.includes(o.metadata?.namespace ?? '');
        const seen = (o: AckObject) => {
          if (!mine(o)) return;
          const k = key(o);
          let h = this.history.get(k);
          if (!h) this.history.set(k, (h = { owner: ownerOf(o), uids: [], specs: [], deletes: 0 }));
          const uid = o.metadata?.uid ?? '';
          if (h.uids.at(-1) !== uid) h.uids.push(uid);
          const s = specHash(o.spec);
          if (h.specs.at(-1) !== s) h.specs.push(s);
        };
        inf.on('add', seen);
        inf.on('update', seen);
        inf.on('delete', (o) => {
          if (!mine(o)) return;
          seen(o);
          this.history.get(key(o))!.deletes++;
        });
        inf.on('error', () => {
          if (!this.stopped) setTimeout(() => void inf.start().catch(() => undefined), 1000);
        });
        this.informers.push(inf);
      }
    }
    await Promise.all(this.informers.map((i) => i.start()));
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.informers.map((i) => i.stop().catch(() => undefined)));
  }

  /** Marks the current point: disruptions() only reports what happens after it. */
  mark(): void {
    for (const h of this.history.values()) {
      h.uids = h.uids.slice(-1);
      h.specs = h.specs.slice(-1);
      h.deletes = 0;
    }
  }

  /**
   * Since the last mark (or start): objects deleted, recreated, or whose spec went back to an
   * earlier one. With `strict`, any spec change at all (steady state: nothing should move).
   */
  disruptions(allow: Allowance = {}, strict = false): string[] {
    const changed = new Set(allow.changedOwners ?? []);
    const out: string[] = [];
    for (const [key, h] of this.history) {
      if (replaceable(key, h.owner, changed)) continue;
      if (h.deletes > 0) out.push(`${key}: deleted ${h.deletes}x`);
      if (h.uids.length > 1) out.push(`${key}: recreated (${h.uids.length} uids)`);
      if (updatable(key, h.owner, changed)) continue;
      if (strict && h.specs.length > 1) out.push(`${key}: spec changed ${h.specs.length - 1}x`);
      else if (!strict) {
        const back = h.specs.findIndex((s, i) => h.specs.indexOf(s) < i);
        if (back >= 0) out.push(`${key}: spec went back to an earlier version (${h.specs.length} versions)`);
      }
    }
    return out;
  }
}
