// A spec is validated once per spec object, and the CR cache keeps a CR's spec object while the
// spec cannot have changed (same uid, same generation), so a status event reuses the check.
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { CrossAccountApi } from '../../../src/api/types.js';
import { validateSpec } from '../../../src/api/validate.js';
import type { LiveObject } from '../../../src/reconciler/observed.js';
import { checkedSpec } from '../../../src/reconciler/spec-check.js';
import { ListWatch } from '../../../src/reconciler/watch.js';

const example = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;

/** The CR as a watch event brings it: a fresh parse every time. */
const event = (rv: string, o: { generation?: number; uid?: string; grace?: number; phase?: string } = {}): LiveObject => {
  const cr = structuredClone(example) as unknown as LiveObject & { spec: { rotation?: { gracePeriodSeconds: number } } };
  cr.metadata = { ...cr.metadata, resourceVersion: rv, ...(o.uid !== undefined && { uid: o.uid }), ...(o.generation !== undefined && { generation: o.generation }) } as LiveObject['metadata'];
  if (o.grace !== undefined) cr.spec.rotation = { gracePeriodSeconds: o.grace };
  cr.status = { phase: o.phase ?? 'Pending' };
  return cr;
};

/** A CR watch that is never started: remember() feeds its cache as watch events and answers do. */
const crWatch = () =>
  new ListWatch({ kc: new KubeConfig(), path: '/apis/xapi.io/v1alpha1/crossaccountapis', list: async () => ({ items: [] }), kind: 'CrossAccountApi', apiVersion: 'xapi.io/v1alpha1' });

const cached = (lw: ListWatch) => lw.get(example.metadata.namespace, example.metadata.name)!;

it('checks a spec object once and gives every caller that answer; an equal copy is checked on its own', () => {
  const spec = structuredClone(example.spec);
  const first = checkedSpec(spec);
  expect(first.ok).toBe(true);
  expect(checkedSpec(spec)).toBe(first);
  const copy = checkedSpec(structuredClone(example.spec));
  expect(copy).not.toBe(first);
  expect(copy).toEqual(first);
  expect(first).toEqual(validateSpec(example.spec));
});

it('remembers a refusal as well, with its errors', () => {
  const bad = { ...structuredClone(example.spec), region: 'nowhere-1' };
  const v = checkedSpec(bad);
  expect(v.ok).toBe(false);
  expect(checkedSpec(bad)).toBe(v);
  expect(v).toEqual(validateSpec(bad));
});

it('the cache keeps the spec object of a CR whose generation did not move, and takes the new one when it did', () => {
  const lw = crWatch();
  lw.remember(event('10', { uid: 'u1', generation: 1 }));
  const spec1 = cached(lw).spec;
  lw.remember(event('11', { uid: 'u1', generation: 1, phase: 'Ready' })); // a status write
  expect(cached(lw).status?.phase).toBe('Ready');
  expect(cached(lw).spec).toBe(spec1);

  lw.remember(event('12', { uid: 'u1', generation: 2, grace: 60 })); // the spec changed
  const spec2 = cached(lw).spec as { rotation?: { gracePeriodSeconds: number } };
  expect(spec2).not.toBe(spec1);
  expect(spec2.rotation?.gracePeriodSeconds).toBe(60);
  expect((checkedSpec(spec2) as { ok: true; spec: { rotation: { gracePeriodSeconds: number } } }).spec.rotation.gracePeriodSeconds).toBe(60);
});

it('a CR deleted and created again under its name, or one without a generation, never keeps the old spec', () => {
  const lw = crWatch();
  lw.remember(event('20', { uid: 'u1', generation: 1 }));
  const old = cached(lw).spec;
  lw.remember(event('21', { uid: 'u2', generation: 1, grace: 30 })); // a new object: generation 1 again
  expect(cached(lw).spec).not.toBe(old);
  expect((cached(lw).spec as { rotation?: { gracePeriodSeconds: number } }).rotation?.gracePeriodSeconds).toBe(30);

  const plain = crWatch();
  plain.remember(event('30', { uid: 'u3' }));
  const before = cached(plain).spec;
  plain.remember(event('31', { uid: 'u3' }));
  expect(cached(plain).spec).not.toBe(before);
});
