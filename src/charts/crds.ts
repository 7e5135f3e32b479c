// Our own CRD as a chart, so that it is synthesized (and synced) like everything else.
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { crossAccountApiCrd } from '../api/crd.js';

/**
 * The schema as the API server stores it: an empty `required: []` is dropped on write, and Argo CD
 * (server-side diff of the manifest against the live CRD) then reports the CRD OutOfSync forever
 * and selfHeal re-applies it in a loop. Seen with Argo CD v3.5.1.
 */
export function withoutEmptyRequired(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmptyRequired);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'required' && Array.isArray(v) && v.length === 0) continue;
    out[k] = withoutEmptyRequired(v);
  }
  return out;
}

export function addCrossAccountApiCrd(scope: Construct): void {
  const crd = withoutEmptyRequired(crossAccountApiCrd()) as { apiVersion: string; kind: string; metadata: Record<string, unknown> };
  new ApiObject(scope, 'crd', crd as ConstructorParameters<typeof ApiObject>[2]);
}
