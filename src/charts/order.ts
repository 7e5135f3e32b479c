// The one table of order for a CR's ACK objects. A static Argo CD sync creates lower waves first
// (sync-wave annotations); the operator deletes the highest wave still present first, so what
// references or lives inside another object goes before it (AWS refuses to delete a RestAPI's
// pieces once it is gone, and ACK marks that Terminal). Within the provider's waves, API Gateway
// also needs each Integration's Method to exist in AWS and every Integration before a
// Deployment: the render gates those on what ACK reports (render.ts), in the same order.
import type { AckKindName } from '../api/ack.js';

export const WAVE = { base: 0, dependent: 1, method: 20, integration: 21, deployment: 22, stage: 23, audit: 30, flowLog: 31 } as const;

/** Resources hang below their parent: one wave per path segment, below the Methods. */
const MAX_RESOURCE_WAVE = WAVE.method - 1;

const KIND_WAVE: Record<AckKindName, number> = {
  SecurityGroup: WAVE.base,
  Role: WAVE.base,
  RestAPI: WAVE.base,
  VPCEndpoint: WAVE.dependent,
  Function: WAVE.dependent,
  Resource: WAVE.base + 1,
  Method: WAVE.method,
  Integration: WAVE.integration,
  Deployment: WAVE.deployment,
  Stage: WAVE.stage,
  // The audit trail comes after the four layers, so that a static sync never waits on it (a
  // missing cloudtrail controller must not hold the endpoint back) and a deletion stops the
  // recording first. A log group before what writes to it; a flow log after the endpoint whose
  // ENIs it watches (their IDs come from the VPCEndpoint's status, so the render waits for them).
  LogGroup: WAVE.audit,
  EventDataStore: WAVE.audit,
  FlowLog: WAVE.flowLog,
};

/** The wave of an object of `kind`; a Resource's comes from the depth of its path ("/a/b" → 2). */
export function waveOf(kind: AckKindName, resourcePath?: string): number {
  if (kind !== 'Resource') return KIND_WAVE[kind];
  const depth = (resourcePath ?? '/').split('/').filter(Boolean).length;
  return Math.min(MAX_RESOURCE_WAVE, WAVE.base + Math.max(1, depth));
}
