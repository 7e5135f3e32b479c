// The render cache: equal inputs render once; a status or resourceVersion change is not an input;
// a spec or ID change is; each call hands out its own copy; a forgotten CR renders again.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { withDefaults } from '../../../src/api/defaults.js';
import { validateSpec } from '../../../src/api/validate.js';
import { RenderCache } from '../../../src/reconciler/render-cache.js';
import { renderMember } from '../../../src/charts/render.js';
import type { CrossAccountApi, ObservedIds } from '../../../src/api/types.js';

const example = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;

/** The example as the reconciler renders it: validated and defaulted. */
function exampleCr(): CrossAccountApi {
  const valid = validateSpec(example.spec);
  if (!valid.ok) throw new Error('the example does not validate');
  return { ...structuredClone(example), spec: withDefaults(valid.spec) };
}

function counting(): { cache: RenderCache; calls: () => number } {
  let n = 0;
  const cache = new RenderCache((cr, observed) => {
    n++;
    return renderMember(cr, observed);
  });
  return { cache, calls: () => n };
}

const ids: ObservedIds = { restApiId: 'a1b2c3d4e5', rootResourceId: 'r00t', callerSecurityGroupId: 'sg-0caller', allowedEndpointIds: ['vpce-0aaa'] };

describe('RenderCache', () => {
  it('renders equal inputs once and hands each caller a copy equal to a fresh render', () => {
    const { cache, calls } = counting();
    const cr = exampleCr();
    const first = cache.fn(cr, ids);
    const second = cache.fn({ ...cr, metadata: { ...cr.metadata, resourceVersion: '42' }, status: { conditions: [] } } as CrossAccountApi, { ...ids });
    expect(calls()).toBe(1);
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    expect(second).toEqual(JSON.parse(JSON.stringify(renderMember(cr, ids))));
    // A caller changing its copy does not change what the next caller gets.
    second.provider.length = 0;
    expect(cache.fn(cr, ids).provider.length).toBe(first.provider.length);
    expect(cache.hits).toBe(2);
    expect(cache.misses).toBe(1);
  });

  it('renders again when the spec or an observed ID changes, or after forget()', () => {
    const { cache, calls } = counting();
    const cr = exampleCr();
    cache.fn(cr, ids);
    const rotated = cache.fn(cr, { ...ids, allowedEndpointIds: ['vpce-0bbb'] });
    expect(calls()).toBe(2);
    expect(JSON.stringify(rotated.provider)).toContain('vpce-0bbb');
    const moved = structuredClone(cr);
    moved.spec.provider.stage = 'v2';
    cache.fn(moved, { ...ids, allowedEndpointIds: ['vpce-0bbb'] });
    expect(calls()).toBe(3);
    cache.forget(`${cr.metadata.namespace ?? ''}/${cr.metadata.name}`);
    cache.fn(moved, { ...ids, allowedEndpointIds: ['vpce-0bbb'] });
    expect(calls()).toBe(4);
  });

  it('keeps each render in a fraction of its JSON size, and hands back exactly what was rendered', () => {
    const { cache } = counting();
    const cr = exampleCr();
    const fresh = renderMember(cr, ids);
    const got = cache.fn(cr, ids);
    expect(got).toEqual(JSON.parse(JSON.stringify(fresh)));
    expect(cache.bytes).toBeGreaterThan(0);
    expect(cache.bytes).toBeLessThan(JSON.stringify(fresh).length / 3);
    expect(cache.fn(cr, ids)).toEqual(got); // a hit inflates to the same
  });
});
