// Server-side apply of a render to one cluster and pruning of what a complete render no longer
// holds. An object is written only when the live one lacks something rendered; nothing is
// deleted on the word of a partial render.

import { createHash } from 'node:crypto';
import { ACK, ackKindOf } from '../api/ack.js';
import type { KubeObject } from '../api/types.js';
import type { PartRender, RenderedObjects } from '../charts/render.js';
import { ackObject } from '../api/ack-wire.js';
import { upToDate, type AckCluster } from './cluster.js';
import { httpStatus } from './kube.js';
import type { LiveObject } from './observed.js';

/** Annotation holding a hash of what xapi last applied; a changed render always re-applies. */
export const APPLIED_HASH_ANNOTATION = 'xapi.dev/applied-hash';

/** Namespace → the account and region of the side that lives there. */
export type NamespaceAccounts = ReadonlyMap<string, { accountId: string; region: string }>;

export interface Logger {
  info: (o: object, m?: string) => void;
  warn: (o: object, m?: string) => void;
  error: (o: object, m?: string) => void;
}


function hashOf(obj: unknown): string {
  return createHash('sha256').update(JSON.stringify(obj)).digest('hex').slice(0, 16);
}

/** A rendered object's applied hash: the one it was stamped with (withAppliedHashes), or computed now. */
function renderHash(obj: KubeObject): string {
  return obj.metadata.annotations?.[APPLIED_HASH_ANNOTATION] ?? hashOf(obj);
}

const stamped = (obj: KubeObject): KubeObject =>
  obj.metadata.annotations?.[APPLIED_HASH_ANNOTATION] !== undefined
    ? obj
    : { ...obj, metadata: { ...obj.metadata, annotations: { ...(obj.metadata.annotations ?? {}), [APPLIED_HASH_ANNOTATION]: hashOf(obj) } } };

/**
 * The render with each object as applyAll writes it (its applied hash in its annotations). The
 * operator stamps a render once, when it is made, and its render cache keeps the stamps: most
 * passes reuse a render, and hashing each of its objects on every pass was about 3% of the
 * operator's CPU in a burst of rotations.
 */
export function withAppliedHashes(r: RenderedObjects): RenderedObjects {
  return { ...r, consumer: r.consumer.map(stamped), provider: r.provider.map(stamped) };
}

/** One part of a render (the operator's render cache keeps parts) with its objects stamped. */
export function partWithAppliedHashes(p: PartRender): PartRender {
  return { ...p, objects: p.objects.map(stamped) };
}

const identity = (o: { kind?: string; metadata?: { namespace?: string; name?: string } }) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;

/** What one apply pass did: objects written, and how long until what it held back can be written. */
export interface Applied {
  written: number;
  /** ms; 0 when nothing was held back (see NAMESPACE_SETTLE_MS, CONFLICT_RETRY_MS). */
  waitMs: number;
}

/** A Stage move written on a version the cache no longer holds (409) is tried again this soon. */
export const CONFLICT_RETRY_MS = 250;

/**
 * Apply each rendered object whose live version lacks something. Held back: objects of a
 * namespace too new for ACK to know its account yet, a recorded change (Stage move, RestAPI
 * change) that met a newer version or whose stamp is too fresh (`waitMs` says when to come
 * again), and a new Deployment with its Stage move until ACK has synced the RestAPI (its status
 * write brings the next pass). A Deployment already live is not held: its name is a hash of the
 * policy it was created from.
 */
export async function applyAll(cluster: AckCluster, objs: readonly KubeObject[], live: readonly LiveObject[], carm: NamespaceAccounts, log: Logger, now: () => number = Date.now): Promise<Applied> {
  const byId = new Map(live.map((o) => [identity(o), o]));
  const deployable = restApiInAws(objs, byId);
  /** Deployments not created in this pass (their Stage is not moved to them either). */
  const heldBack = new Set<string>();
  let written = 0;
  let waitMs = 0;
  for (const obj of objs) {
    const current = byId.get(identity(obj));
    const { desired, holdMs } = withSyncRecord(stamped(obj), current, now());
    if (current && ackKindOf(obj) && upToDate(current, desired)) continue;
    if (holdMs > 0) {
      waitMs = Math.max(waitMs, holdMs);
      continue;
    }
    if (!deployable && !current && obj.kind === ACK.Deployment.kind) {
      heldBack.add(obj.metadata.name);
      continue;
    }
    const stageTarget = ackObject(obj, 'Stage')?.spec.deploymentRef?.from?.name;
    if (stageTarget !== undefined && heldBack.has(stageTarget)) continue;
    if (obj.metadata.namespace) {
      const wait = await cluster.ensureNamespace(obj.metadata.namespace, carm.get(obj.metadata.namespace));
      if (wait > 0 && ackKindOf(obj)) {
        waitMs = Math.max(waitMs, wait);
        continue;
      }
    }
    try {
      await cluster.apply(desired);
    } catch (err) {
      // Only a recorded change (a Stage move, a RestAPI change) carries a resourceVersion
      // precondition: ACK wrote the object meanwhile.
      if (httpStatus(err) !== 409 || !('resourceVersion' in desired.metadata)) throw err;
      waitMs = Math.max(waitMs, CONFLICT_RETRY_MS);
      continue;
    }
    written++;
    log.info({ cluster: cluster.name, kind: obj.kind, name: obj.metadata.name }, 'applied');
  }
  // No timer: ACK's status write on the RestAPI is an event for this CR.
  if (heldBack.size > 0) log.info({ cluster: cluster.name, deployments: [...heldBack] }, 'a new Deployment waits for ACK to sync the RestAPI it snapshots');
  return { written, waitMs };
}

/**
 * On a Stage: the ACK sync stamp (ACK.ResourceSynced's lastTransitionTime) it carried when xapi
 * last pointed it at another Deployment. ACK's runtime clears and re-sets its conditions on every
 * sync, so a different stamp later means ACK has synced the Stage since that move.
 */
export const STAGE_SYNC_AT_MOVE_ANNOTATION = 'xapi.dev/synced-before-move';

/** On a RestAPI: the same stamp, as it was when xapi last changed what it renders there. */
export const RESTAPI_SYNC_AT_CHANGE_ANNOTATION = 'xapi.dev/synced-before-change';

const syncStamp = (o: { status: { conditions?: Array<{ type?: string; lastTransitionTime?: string } | undefined> } }) =>
  o.status.conditions?.find((c) => c?.type === 'ACK.ResourceSynced')?.lastTransitionTime ?? '';

const appliedHash = (o: { metadata?: { annotations?: Record<string, string> } } | undefined) => o?.metadata?.annotations?.[APPLIED_HASH_ANNOTATION];

/**
 * Where a change must be known synced by ACK before the next step: which annotation records the
 * stamp, and when a write is such a change. A Stage move lets the superseded Deployment go (prune,
 * stageMoved); a RestAPI change lets a Deployment be created (a Deployment snapshots the API's
 * resource policy when AWS creates it, so one made before ACK's UpdateRestApi would serve the
 * policy before the change).
 */
const SYNC_RECORDS = {
  Stage: {
    annotation: STAGE_SYNC_AT_MOVE_ANNOTATION,
    changes: (live: LiveObject, want: KubeObject) => ackObject(live, 'Stage')?.spec.deploymentRef?.from?.name !== ackObject(want, 'Stage')?.spec.deploymentRef?.from?.name,
  },
  RestAPI: {
    annotation: RESTAPI_SYNC_AT_CHANGE_ANNOTATION,
    changes: (live: LiveObject, want: KubeObject) => appliedHash(ackObject(live, 'RestAPI')) !== appliedHash(want),
  },
} as const;

/**
 * ACK's stamps have whole seconds (metav1.Time), so a sync within the second of the one before
 * would carry the same stamp and prove nothing. A recorded change is therefore written only once
 * the object's stamp is this old: any later sync falls in a later second, even with the
 * controller's clock up to a second ahead of the operator's.
 */
export const SYNC_STAMP_AGE_MS = 2_000;

/**
 * A Stage pointed at another Deployment, or a RestAPI whose render changed, records the sync stamp
 * it had, written on exactly that version (resourceVersion precondition: a sync ACK stamps
 * meanwhile makes the write fail and the next pass record it). Otherwise the record is carried
 * over unchanged, so that it never causes a write of its own. `holdMs` > 0: not to be written
 * yet (the stamp is too fresh, SYNC_STAMP_AGE_MS).
 */
function withSyncRecord(desired: KubeObject, current: LiveObject | undefined, now: number): { desired: KubeObject; holdMs: number } {
  const kind = ackKindOf(desired);
  const rule = kind === 'Stage' || kind === 'RestAPI' ? SYNC_RECORDS[kind] : undefined;
  if (!rule || !kind) return { desired, holdMs: 0 };
  const live = current && ackObject(current, kind);
  const changing = !live || rule.changes(current, desired);
  const stamp = live ? syncStamp(live) : '';
  const record = changing ? stamp : live.metadata.annotations?.[rule.annotation];
  if (record === undefined) return { desired, holdMs: 0 }; // an object from before the record: left as it is
  const metadata = { ...desired.metadata, annotations: { ...desired.metadata.annotations, [rule.annotation]: record } };
  if (changing && live?.metadata.resourceVersion) Object.assign(metadata, { resourceVersion: live.metadata.resourceVersion });
  const stampedAt = Date.parse(stamp);
  const holdMs = changing && !Number.isNaN(stampedAt) ? Math.max(0, stampedAt + SYNC_STAMP_AGE_MS - now) : 0;
  return { desired: { ...desired, metadata }, holdMs };
}

/**
 * May a new Deployment be created: the rendered RestAPI is live as rendered (nothing of it to
 * write in this pass), and ACK has synced it since xapi last changed it (Synced=True with a stamp
 * other than the recorded one; a RestAPI from before the record needs Synced=True only). With no
 * RestAPI in this render (the consumer's cluster) there is nothing to wait for.
 */
function restApiInAws(objs: readonly KubeObject[], live: ReadonlyMap<string, LiveObject>): boolean {
  const wanted = objs.find((o) => ackKindOf(o) === 'RestAPI');
  if (!wanted) return true;
  const api = ackObject(live.get(identity(wanted)) ?? {}, 'RestAPI');
  if (!api || appliedHash(api) !== renderHash(wanted)) return false;
  const synced = api.status.conditions?.find((c) => c?.type === 'ACK.ResourceSynced');
  const recorded = api.metadata.annotations?.[RESTAPI_SYNC_AT_CHANGE_ANNOTATION];
  return synced?.status === 'True' && (recorded === undefined || syncStamp(api) !== recorded);
}

/**
 * AWS refuses to delete a Deployment a Stage still serves, and ACK then marks it Terminal for
 * good. A superseded Deployment may go only once the Stage has moved off it in AWS: the live Stage
 * names the rendered Deployment, that Deployment is Ready, and ACK has synced the Stage since xapi
 * moved it (a new sync stamp, Synced=True). Where AWS reports dates, the Stage's last update must
 * also not precede the Deployment's creation. A Stage never proven moved keeps the old Deployment
 * (a leftover until the next move or the CR's deletion; never a refused delete).
 */
export function stageMoved(objs: readonly KubeObject[], live: readonly LiveObject[]): boolean {
  const wanted = objs.find((o) => o.kind === ACK.Deployment.kind);
  const stage = live.map((o) => ackObject(o, 'Stage')).find((o) => o !== undefined);
  if (!wanted || !stage) return true;
  if (stage.spec.deploymentRef?.from?.name !== wanted.metadata.name) return false; // the move has not reached the cluster
  const deployment = live.map((o) => ackObject(o, 'Deployment')).find((o) => o?.metadata.name === wanted.metadata.name);
  if (!deployment?.status.conditions?.some((c) => c?.type === 'Ready' && c.status === 'True')) return false;
  const synced = stage.status.conditions?.find((c) => c?.type === 'ACK.ResourceSynced');
  const recorded = stage.metadata.annotations?.[STAGE_SYNC_AT_MOVE_ANNOTATION];
  if (synced?.status !== 'True' || recorded === undefined || syncStamp(stage) === recorded) return false;
  const created = Date.parse(deployment.status.createdDate ?? '');
  const updated = Date.parse(stage.status.lastUpdatedDate ?? '');
  return Number.isNaN(created) || Number.isNaN(updated) || updated >= created;
}

/** Delete live objects the (complete) render does not hold; returns how many. */
export async function prune(cluster: AckCluster, objs: readonly KubeObject[], live: readonly LiveObject[], log: Logger): Promise<number> {
  const wanted = new Set(objs.map(identity));
  const moved = stageMoved(objs, live);
  let deleted = 0;
  for (const o of live) {
    if (wanted.has(identity(o))) continue;
    if (o.kind === ACK.Deployment.kind && !moved) continue; // the Stage may still serve it: next pass
    if ((o.metadata as { deletionTimestamp?: string } | undefined)?.deletionTimestamp) continue;
    await cluster.delete(o);
    deleted++;
    log.info({ cluster: cluster.name, kind: o.kind, name: o.metadata?.name }, 'pruned');
  }
  return deleted;
}
