// The offline validator (synth, operator) on the shared table of bad CRs: each is refused at the
// named field with the rule's words (the admission test checks the API server says the same).
import { validateMetadata, validateSpec, formatErrors } from '../../../src/api/validate.js';
import { RULES } from '../../../src/api/rules.js';
import { BAD_CRS, exampleCr } from '../../fixtures/bad-crs.js';

describe('bad CRs are refused offline with the rule at the field', () => {
  it('the unmodified example is valid (the baseline every case differs from)', () => {
    expect(validateSpec(exampleCr().spec)).toMatchObject({ ok: true });
  });

  it('has at least 70 cases', () => {
    expect(BAD_CRS.length).toBeGreaterThanOrEqual(70);
  });

  it.each(BAD_CRS.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const cr = exampleCr();
    c.mutate(cr);
    const result = validateSpec(cr.spec);
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors.some((e) => e.path === c.field && e.message.includes(c.message))).toBe(true);
  });
});

describe('metadata', () => {
  it.each([
    ['an empty name', { name: '', namespace: 'x' }, 'metadata.name', RULES.crName.message],
    ['an uppercase name', { name: 'Orders' }, 'metadata.name', RULES.crName.message],
    ['a path as name', { name: '../../etc' }, 'metadata.name', RULES.crName.message],
    ['a dotted name (a subdomain, not a label)', { name: 'orders.v2' }, 'metadata.name', RULES.crName.message],
    ['a 253-character name', { name: 'a'.repeat(253) }, 'metadata.name', RULES.crName.message],
    ['a 64-character name', { name: 'a'.repeat(64) }, 'metadata.name', RULES.crName.message],
    ['an uppercase namespace', { name: 'orders', namespace: 'Team' }, 'metadata.namespace', RULES.namespace.message],
    ['a path as namespace', { name: 'orders', namespace: '../../etc' }, 'metadata.namespace', RULES.namespace.message],
  ])('refuses %s', (_name, metadata, field, message) => {
    const errors = validateMetadata(metadata);
    expect(errors.some((e) => e.path === field && e.message.includes(message))).toBe(true);
  });

  it('accepts a 63-character label', () => {
    expect(validateMetadata({ name: 'a'.repeat(63), namespace: 'xapi-system' })).toEqual([]);
  });
});

describe('huge values', () => {
  it('a 30 MB value is cut in the message, which stays short', () => {
    const cr = exampleCr();
    cr.spec.project = 'x'.repeat(30 * 1024 * 1024);
    const result = validateSpec(cr.spec);
    expect(result.ok).toBe(false);
    const text = result.ok ? '' : formatErrors(result.errors);
    expect(text).toContain(RULES.project.message);
    expect(text).toContain(`(${30 * 1024 * 1024 + 2} characters)`);
    expect(text.length).toBeLessThan(400);
  });
});
