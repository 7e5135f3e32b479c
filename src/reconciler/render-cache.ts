// The last render of each CR, reused while its inputs are the same. Rendering builds a cdk8s app
// (several ms of CPU per CR) and most passes render inputs already rendered: an ACK condition
// changed but no ID, a resync, a retry. Render is pure, so equal inputs give an equal result.

import type { CrossAccountApi, ObservedIds } from '../api/types.js';
import type { RenderedObjects } from '../charts/render.js';

export type Render = (cr: CrossAccountApi, observed: ObservedIds) => RenderedObjects;

/** What a render may read: the CR without its status and server bookkeeping, and the IDs. */
function inputsOf(cr: CrossAccountApi, observed: ObservedIds): string {
  const { status: _status, ...rest } = cr;
  const { resourceVersion: _rv, managedFields: _mf, ...metadata } = cr.metadata as CrossAccountApi['metadata'] & { resourceVersion?: string; managedFields?: unknown };
  return JSON.stringify([{ ...rest, metadata }, observed]);
}

export class RenderCache {
  /** CR key → its last inputs and render (one entry per CR: bounded by the number of CRs). */
  private readonly last = new Map<string, { inputs: string; rendered: RenderedObjects }>();
  hits = 0;
  misses = 0;

  constructor(private readonly render: Render) {}

  /** The render as a function the Reconciler calls; the result must not be mutated (it is shared). */
  readonly fn: Render = (cr, observed) => {
    const key = `${cr.metadata.namespace ?? ''}/${cr.metadata.name}`;
    const inputs = inputsOf(cr, observed);
    const hit = this.last.get(key);
    if (hit && hit.inputs === inputs) {
      this.hits++;
      return hit.rendered;
    }
    this.misses++;
    const rendered = this.render(cr, observed);
    this.last.set(key, { inputs, rendered });
    return rendered;
  };

  forget(key: string): void {
    this.last.delete(key);
  }

  clear(): void {
    this.last.clear();
  }
}
