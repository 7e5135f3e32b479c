// The last render of each CR, part by part (src/charts/render.ts, MEMBER_PARTS), each reused while
// the CR and the IDs that part reads are the same. Rendering builds a cdk8s app (about a
// millisecond and a half of CPU per CR, more on a busy machine) and most passes render inputs
// already rendered: an ACK condition changed but no ID, a resync, a retry. A rotation changes the
// IDs of two parts (the RestAPI, the Deployment and Stage): in a burst of 100 rotations at 100 CRs
// the render was 60% of the passes' CPU when every pass rendered all of a CR. Render is pure, and
// each part sees only the IDs its key holds, so equal keys give an equal result.
//
// Kept compact, since it holds entries per CR for the operator's lifetime: the inputs, and each
// part as deflated JSON (a heap snapshot at 300 CRs found the renders' text to be the largest item
// per CR when kept as text; about 3.2 KB in all for the example). Inflating and parsing a part
// costs a few hundredths of a millisecond.
// Every call parses, so each caller gets objects of its own.

import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { CrossAccountApi, ObservedIds } from '../api/types.js';
import { MEMBER_PARTS, joinParts, partIds, type MemberPart, type PartRender, type RenderedObjects } from '../charts/render.js';

/**
 * zlib settings for the parts (each a few KB of JSON): an 8 KB window and a smaller hash table keep
 * a deflate's working memory at about 64 KB instead of about 256 KB (zlib's formula: 2^(window+2)
 * + 2^(memLevel+9) bytes), below glibc's mmap threshold, for the same size within a few percent.
 */
const ZLIB = { windowBits: 13, memLevel: 6 } as const;

export type Render = (cr: CrossAccountApi, observed: ObservedIds) => RenderedObjects;
/** One part of a CR's render from the IDs it reads (`ids` holds those only). */
export type PartRenderFn = (part: MemberPart, cr: CrossAccountApi, ids: ObservedIds) => PartRender;

/** Digest of the CR as a render reads it: without its status and server bookkeeping. */
function crDigest(cr: CrossAccountApi): string {
  const { status: _status, ...rest } = cr;
  const { resourceVersion: _rv, managedFields: _mf, ...metadata } = cr.metadata as CrossAccountApi['metadata'] & { resourceVersion?: string; managedFields?: unknown };
  return createHash('sha256').update(JSON.stringify({ ...rest, metadata })).digest('base64');
}

export class RenderCache {
  /** "part CR-key" → that part's last inputs (CR digest and its IDs) and its render as deflated JSON. */
  private readonly last = new Map<string, { inputs: string; rendered: Uint8Array }>();
  /** Parts reused and parts rendered. */
  hits = 0;
  misses = 0;

  constructor(private readonly render: PartRenderFn) {}

  /** The render as a function the Reconciler calls. */
  readonly fn: Render = (cr, observed) => {
    const key = `${cr.metadata.namespace ?? ''}/${cr.metadata.name}`;
    const digest = crDigest(cr);
    const parts = {} as Record<MemberPart, PartRender>;
    for (const part of MEMBER_PARTS) {
      const ids = partIds(part, observed);
      const inputs = `${digest} ${JSON.stringify(ids)}`;
      const hit = this.last.get(`${part} ${key}`);
      if (hit && hit.inputs === inputs) {
        this.hits++;
        parts[part] = JSON.parse(inflateRawSync(hit.rendered, ZLIB).toString('utf8')) as PartRender;
        continue;
      }
      this.misses++;
      const rendered = JSON.stringify(this.render(part, cr, ids));
      // A copy of its own size: zlib's answer may be a slice of a larger pooled buffer.
      this.last.set(`${part} ${key}`, { inputs, rendered: new Uint8Array(deflateRawSync(rendered, ZLIB)) });
      // Parsed here too, so that a hit and a miss hand out the very same shape.
      parts[part] = JSON.parse(rendered) as PartRender;
    }
    return joinParts(parts);
  };

  /** Bytes the cached renders take (their deflated JSON). */
  get bytes(): number {
    let n = 0;
    for (const e of this.last.values()) n += e.rendered.byteLength;
    return n;
  }

  forget(key: string): void {
    for (const part of MEMBER_PARTS) this.last.delete(`${part} ${key}`);
  }

  clear(): void {
    this.last.clear();
  }
}
