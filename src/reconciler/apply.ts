// Server-side apply of a render to one cluster and pruning of what a complete render no longer
// holds. An object is written only when the live one lacks something rendered; nothing is
// deleted on the word of a partial render.

import { createHash } from 'node:crypto';
import { ACK, type AckKindName } from '../api/ack.js';
import type { KubeObject } from '../api/types.js';
import { ackObject } from '../api/ack-wire.js';
import { upToDate, type AckCluster } from './cluster.js';
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

export function ackKindOf(obj: { apiVersion?: string; kind?: string }): AckKindName | undefined {
  return (Object.keys(ACK) as AckKindName[]).find((k) => ACK[k].kind === obj.kind && ACK[k].apiVersion === obj.apiVersion);
}

const identity = (o: { kind?: string; metadata?: { namespace?: string; name?: string } }) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;

/** What one apply pass did: objects written, and how long until a namespace it skipped settles. */
export interface Applied {
  written: number;
  /** ms; 0 when nothing was held back (see NAMESPACE_SETTLE_MS). */
  waitMs: number;
}

/**
 * Apply each rendered object whose live version lacks something. Objects of a namespace too new
 * for ACK to know its account yet are held back; `waitMs` says when to come again.
 */
export async function applyAll(cluster: AckCluster, objs: readonly KubeObject[], live: readonly LiveObject[], carm: NamespaceAccounts, log: Logger): Promise<Applied> {
  const byId = new Map(live.map((o) => [identity(o), o]));
  let written = 0;
  let waitMs = 0;
  for (const obj of objs) {
    const desired: KubeObject = { ...obj, metadata: { ...obj.metadata, annotations: { ...(obj.metadata.annotations ?? {}), [APPLIED_HASH_ANNOTATION]: hashOf(obj) } } };
    const current = byId.get(identity(obj));
    if (current && ackKindOf(obj) && upToDate(current, desired)) continue;
    if (obj.metadata.namespace) {
      const wait = await cluster.ensureNamespace(obj.metadata.namespace, carm.get(obj.metadata.namespace));
      if (wait > 0 && ackKindOf(obj)) {
        waitMs = Math.max(waitMs, wait);
        continue;
      }
    }
    await cluster.apply(desired);
    written++;
    log.info({ cluster: cluster.name, kind: obj.kind, name: obj.metadata.name }, 'applied');
  }
  return { written, waitMs };
}

/**
 * AWS refuses to delete a Deployment a Stage still serves (and ACK then marks it Terminal for
 * good). A superseded Deployment may go once the Stage has moved: the rendered Deployment exists
 * in AWS and ACK reports the Stage updated after it was created. (Objects without those AWS
 * timestamps, as a test's stand-in for ACK writes them, count as moved once Ready.)
 */
export function stageMoved(objs: readonly KubeObject[], live: readonly LiveObject[]): boolean {
  const wanted = objs.find((o) => o.kind === ACK.Deployment.kind);
  const stage = live.map((o) => ackObject(o, 'Stage')).find((o) => o !== undefined);
  if (!wanted || !stage) return true;
  const deployment = live.map((o) => ackObject(o, 'Deployment')).find((o) => o?.metadata.name === wanted.metadata.name);
  if (!deployment?.status.conditions?.some((c) => c?.type === 'Ready' && c.status === 'True')) return false;
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
