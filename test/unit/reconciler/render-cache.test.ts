// The render cache: equal inputs render once, part by part; a status or resourceVersion change is
// not an input; a spec change is, and an ID change is for the parts that read that ID (a rotation
// renders the RestAPI and the Deployment again, nothing else); each call hands out its own copy;
// a forgotten CR renders again.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { withDefaults } from '../../../src/api/defaults.js';
import { validateSpec } from '../../../src/api/validate.js';
import { RenderCache } from '../../../src/reconciler/render-cache.js';
import { MEMBER_PARTS, renderMember, renderPart, type MemberPart } from '../../../src/charts/render.js';
import type { CrossAccountApi, ObservedIds } from '../../../src/api/types.js';

const example = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;

/** The example as the reconciler renders it: validated and defaulted. */
function exampleCr(): CrossAccountApi {
  const valid = validateSpec(example.spec);
  if (!valid.ok) throw new Error('the example does not validate');
  return { ...structuredClone(example), spec: withDefaults(valid.spec) };
}

/** A cache over the real parts' render; `calls()` counts whole renders (every part made again), `made` each part. */
function counting(): { cache: RenderCache; calls: () => number; made: MemberPart[] } {
  const made: MemberPart[] = [];
  const cache = new RenderCache((part, cr, ids) => {
    made.push(part);
    return renderPart(part, cr, ids);
  });
  return { cache, calls: () => made.length / MEMBER_PARTS.length, made };
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
    expect(cache.hits).toBe(2 * MEMBER_PARTS.length);
    expect(cache.misses).toBe(MEMBER_PARTS.length);
  });

  it('renders again when the spec or an observed ID changes, or after forget()', () => {
    const { cache, made } = counting();
    const cr = exampleCr();
    cache.fn(cr, ids);
    expect(made).toHaveLength(MEMBER_PARTS.length);
    const rotated = cache.fn(cr, { ...ids, allowedEndpointIds: ['vpce-0bbb'] });
    expect(made).toHaveLength(MEMBER_PARTS.length + 2);
    expect(JSON.stringify(rotated.provider)).toContain('vpce-0bbb');
    expect(rotated).toEqual(JSON.parse(JSON.stringify(renderMember(cr, { ...ids, allowedEndpointIds: ['vpce-0bbb'] }))));
    // A spec change makes every part again.
    const moved = structuredClone(cr);
    moved.spec.provider.stage = 'v2';
    made.length = 0;
    expect(cache.fn(moved, { ...ids, allowedEndpointIds: ['vpce-0bbb'] })).toEqual(JSON.parse(JSON.stringify(renderMember(moved, { ...ids, allowedEndpointIds: ['vpce-0bbb'] }))));
    expect(made).toEqual([...MEMBER_PARTS]);
    made.length = 0;
    cache.forget(`${cr.metadata.namespace ?? ''}/${cr.metadata.name}`);
    cache.fn(moved, { ...ids, allowedEndpointIds: ['vpce-0bbb'] });
    expect(made).toEqual([...MEMBER_PARTS]);
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

  it('makes again only the parts that read a changed ID: a rotation, the RestAPI and the Deployment', () => {
    const { cache, made } = counting();
    const cr = exampleCr();
    cache.fn(cr, ids);
    made.length = 0;
    cache.fn(cr, { ...ids, allowedEndpointIds: ['vpce-0bbb', 'vpce-0aaa'] });
    expect(made).toEqual(['api', 'deployment']);
    made.length = 0;
    cache.fn(cr, { ...ids, allowedEndpointIds: ['vpce-0bbb', 'vpce-0aaa'], callerSecurityGroupId: 'sg-0other' });
    expect(made).toEqual(['consumer']);
    made.length = 0;
    cache.fn(cr, { ...ids, allowedEndpointIds: ['vpce-0bbb', 'vpce-0aaa'], callerSecurityGroupId: 'sg-0other', createdMethods: [] });
    expect(made).toEqual(['routes', 'deployment']);
  });
});
