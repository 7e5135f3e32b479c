// Deletion of a CR: its ACK objects in both clusters, highest wave first (order.ts), then the
// finalizer. A cluster that cannot be reached blocks the deletion (the AWS resources would be
// orphaned) unless the user says to abandon them.

import { ACK, ACK_CONDITION, type AckKindName } from '../api/ack.js';
import { ackObject } from '../api/ack-wire.js';
import { PATH_ANNOTATION, type CrossAccountApi } from '../api/types.js';
import { ownerLabelValue } from '../charts/names.js';
import { waveOf } from '../charts/order.js';
import type { AckCluster } from './cluster.js';
import type { Resolution } from './clusters.js';
import type { CrWriter } from './cr-writes.js';
import { errText } from './kube.js';
import type { LiveObject } from './observed.js';
import { deletionStatus, objectState } from './status.js';
import type { Logger } from './apply.js';

/** Set to "true" on a CR being deleted to finish without a side whose cluster is gone for good. */
export const ABANDON_ANNOTATION = 'xapi.dev/abandon-unreachable-objects';

/** The wave of a live object (its kind, and a Resource's path annotation). */
export function liveWave(o: LiveObject): number {
  const kind = (Object.keys(ACK) as AckKindName[]).find((k) => ACK[k].kind === o.kind);
  if (!kind) return 0;
  const path = (o.metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.[PATH_ANNOTATION];
  return waveOf(kind, path);
}

/** The object of `kind` a Stage's reference names, in the Stage's namespace. */
function referenced<K extends 'RestAPI' | 'Deployment'>(o: LiveObject, live: readonly LiveObject[], kind: K, name: string | undefined) {
  if (!name) return undefined;
  return live.map((x) => ackObject(x, kind)).find((x) => x?.metadata.name === name && x.metadata.namespace === o.metadata?.namespace);
}

/**
 * Why a Stage may not be deleted yet: a reference of it (its RestAPI, the Deployment it serves)
 * is not synced in ACK now. ACK resolves a Stage's references before deleting it and ignores a
 * failure; unresolved, the Stage reads as absent, ACK drops its finalizer without calling
 * DeleteStage, and the stage left in AWS then refuses the Deployment's deletion for good
 * ("Active stages pointing to this deployment", ACK.Terminal).
 */
export function stageHeld(o: LiveObject, live: readonly LiveObject[]): string | undefined {
  const stage = ackObject(o, 'Stage');
  if (!stage) return undefined;
  const refs: Array<['RestAPI' | 'Deployment', string | undefined]> = [
    ['RestAPI', stage.spec.restAPIRef?.from?.name],
    ['Deployment', stage.spec.deploymentRef?.from?.name],
  ];
  for (const [kind, name] of refs) {
    const target = referenced(o, live, kind, name);
    const conditions = Array.isArray(target?.status.conditions) ? target.status.conditions : [];
    const state = (type: string) => conditions.find((c) => c?.type === type)?.status;
    // Only what ACK reports counts: ResourceSynced=False (an update in flight) or Terminal.
    if (target && (state(ACK_CONDITION.Synced) === 'False' || state(ACK_CONDITION.Terminal) === 'True')) {
      return `${kind}/${name} to be synced in ACK (ACK resolves the Stage's references before deleting it)`;
    }
  }
  return undefined;
}

/**
 * The IDs a Stage's references stand for, as a merge patch of its spec (references out, IDs in),
 * when ACK reports both: a Stage deleted with IDs has nothing to resolve, so ACK always reads it
 * and calls DeleteStage. Undefined when the Stage names no reference or an ID is not reported.
 */
export function stagePinned(o: LiveObject, live: readonly LiveObject[]): Record<string, unknown> | undefined {
  const stage = ackObject(o, 'Stage');
  if (!stage || (!stage.spec.restAPIRef && !stage.spec.deploymentRef)) return undefined;
  const restAPIID = stage.spec.restAPIRef ? referenced(o, live, 'RestAPI', stage.spec.restAPIRef.from?.name)?.status.id : stage.spec.restAPIID;
  const deploymentID = stage.spec.deploymentRef ? referenced(o, live, 'Deployment', stage.spec.deploymentRef.from?.name)?.status.id : stage.spec.deploymentID;
  if (!restAPIID || !deploymentID) return undefined;
  return { restAPIRef: null, deploymentRef: null, restAPIID, deploymentID };
}

export type FinalizeResult = { done: true } | { done: false; requeueAfterMs?: number; waitingForClusters?: boolean };

/**
 * One pass of deletion. `sides` are the resolved clusters of each side (undefined when the spec is
 * invalid: nothing was ever applied from it).
 */
export async function finalize(
  cr: CrossAccountApi,
  sides: Array<{ side: string; resolution: Resolution }> | undefined,
  writer: Pick<CrWriter, 'removeFinalizer' | 'writeStatus'>,
  log: Logger,
  now: Date,
  /** What an object must wait for before it may be deleted (another object still naming it), if anything. */
  held: (o: LiveObject) => string | undefined = () => undefined,
): Promise<FinalizeResult> {
  const owner = ownerLabelValue(cr);
  const abandon = cr.metadata.annotations?.[ABANDON_ANNOTATION] === 'true';
  const seen = new Set<AckCluster>();
  const waiting: LiveObject[] = [];
  const heldFor: string[] = [];
  let remaining = 0;
  for (const { side, resolution } of sides ?? []) {
    if (resolution.state === 'waiting') return { done: false, waitingForClusters: true };
    let objs: LiveObject[];
    let cluster: AckCluster;
    try {
      if (resolution.state === 'problem') throw new Error(resolution.message);
      cluster = resolution.cluster;
      if (seen.has(cluster)) continue;
      seen.add(cluster);
      objs = await cluster.listOwned(owner);
    } catch (err) {
      // Never drop the finalizer silently: say why and how to proceed, and retry with backoff.
      const why = `${side}: ${errText(err)}`;
      if (abandon) {
        log.warn({ cr: cr.metadata.name, side, reason: why }, `deleting without the ${side} side's objects (${ABANDON_ANNOTATION}=true)`);
        continue;
      }
      const message = `cannot delete the ${side} side's objects: ${why}. Restore access to that cluster, or set the annotation ${ABANDON_ANNOTATION}=true to finish the deletion and leave them behind`;
      await writer.writeStatus(cr, deletionStatus(cr, { reason: 'DeletionBlocked', message, degraded: message }, now));
      throw err;
    }
    if (objs.length === 0) continue;
    remaining += objs.length;
    const top = Math.max(...objs.map(liveWave));
    for (const o of objs) {
      if (liveWave(o) !== top) continue;
      waiting.push(o);
      const wait = held(o) ?? stageHeld(o, objs);
      if (wait) heldFor.push(`${o.kind}/${o.metadata?.name} waits for ${wait}`);
      else if (!(o.metadata as { deletionTimestamp?: string } | undefined)?.deletionTimestamp) {
        // Even a reference that was synced a moment ago may not resolve when ACK gets to the
        // deletion (an update in flight); IDs cannot fail to resolve.
        const pinned = stagePinned(o, objs);
        if (pinned) await cluster.patchSpec(o, pinned);
        await cluster.delete(o);
      }
    }
  }
  if (remaining > 0) {
    const terminal = waiting.map(objectState).find((s) => s.terminal);
    const names = waiting.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ');
    await writer.writeStatus(
      cr,
      deletionStatus(cr, { reason: 'Deleting', message: `deleting ${remaining} object(s); waiting for ${names}${heldFor.length ? ` (${heldFor.join('; ')})` : ''}`, ...(terminal && { degraded: `cannot delete ${terminal.message}` }) }, now),
    );
    // ACK holds its own finalizers while it deletes in AWS: look again shortly.
    return { done: false, requeueAfterMs: 500 };
  }
  await writer.removeFinalizer(cr);
  return { done: true };
}
