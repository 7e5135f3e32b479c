// Admission of invalid CrossAccountApi objects by the real API server: our CRD's CEL rules reject
// each case of the shared table (test/fixtures/bad-crs.ts) at the field, in the same words as the
// offline validator (synth, the operator); a few schema errors keep the API server's wording.
import { RULES, WILDCARD_PATH_MESSAGE } from '../../../src/api/rules.js';
import type { CrossAccountApi } from '../../../src/api/types.js';
import { BAD_CRS, exampleCr, type BadCr } from '../../fixtures/bad-crs.js';
import { clients, ensureNamespace, kubectl, runSuffix } from '../helpers.js';

const NS = `envtest-invalid-${runSuffix()}`;
const a = clients('A');
const CR = { group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis' };

interface Case {
  name: string;
  mutate: (cr: CrossAccountApi) => void;
  /** Field path and message the API server must report. */
  field: string;
  message: string;
}

const cases: Case[] = BAD_CRS.map((c: BadCr) => ({ name: c.name, mutate: c.mutate, field: c.api?.field ?? c.field, message: c.api?.message ?? c.message }));

function invalid(c: Case, i: number): CrossAccountApi {
  const cr = exampleCr();
  cr.metadata = { name: `invalid-${i}`, namespace: NS };
  c.mutate(cr);
  return cr;
}

function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  try {
    return (JSON.parse(String(body)) as { message: string }).message;
  } catch {
    return String((err as Error).message ?? err);
  }
}

beforeAll(async () => {
  await ensureNamespace(a.core, NS);
});
afterAll(async () => {
  await a.core.deleteNamespace({ name: NS }).catch(() => undefined);
});

describe('invalid CrossAccountApi objects are rejected at admission', () => {
  it('has at least 70 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(70);
  });

  it('accepts the unmodified example (the baseline each case differs from)', async () => {
    const cr = exampleCr();
    cr.metadata = { name: 'valid-baseline', namespace: NS };
    await a.custom.createNamespacedCustomObject({ ...CR, namespace: NS, body: cr, dryRun: 'All' });
  });

  it.each(cases.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    let message: string | undefined;
    try {
      await a.custom.createNamespacedCustomObject({ ...CR, namespace: NS, body: invalid(c, i) });
    } catch (err) {
      expect((err as { code?: number }).code).toBe(422);
      message = apiMessage(err);
    }
    expect(message).toBeDefined();
    expect(message).toContain(`CrossAccountApi.xapi.dev "invalid-${i}" is invalid`);
    expect(message).toContain(`${c.field}: `);
    expect(message).toContain(c.message);
    // nothing was stored
    await expect(a.custom.getNamespacedCustomObject({ ...CR, namespace: NS, name: `invalid-${i}` })).rejects.toMatchObject({ code: 404 });
  });

  it.each([
    ['a dotted name (a DNS subdomain, not a label)', 'orders.v2'],
    ['a 64-character name', 'n'.repeat(64)],
  ])('metadata.name: %s is refused with the rule synth applies', async (_what, name) => {
    const cr = exampleCr();
    cr.metadata = { name, namespace: NS };
    const err = await a.custom.createNamespacedCustomObject({ ...CR, namespace: NS, body: cr }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeDefined();
    expect((err as { code?: number }).code).toBe(422);
    expect(apiMessage(err)).toContain(RULES.crName.message);
  });

  it('kubectl apply reports the rule message to the user and exits non-zero', async () => {
    const c = cases.find((x) => x.name === 'wildcard in a route path')!;
    const r = await kubectl('A', ['apply', '-f', '-'], JSON.stringify(invalid(c, 999)));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.provider.routes[0].path');
    expect(r.stderr).toContain(WILDCARD_PATH_MESSAGE);
  });
});
