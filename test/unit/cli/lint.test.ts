import { Command } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerLint } from '../../../src/cli/commands/lint.js';
import type { CliIo } from '../../../src/cli/io.js';
import { ALL_RULES, lint } from '../../../src/policy/lint.js';
import { objectNames } from '../../../src/charts/names.js';
import { renderObjects } from '../../../src/charts/render.js';
import { BROKEN, FULL_IDS, brokenSet, exampleCr, rendered, writeManifests } from '../../fixtures/lint/fixtures.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'xapi-lint-'));
  dirs.push(d);
  return d;
}

async function run(args: string[]): Promise<{ out: string; code: number | undefined }> {
  let out = '';
  let code: number | undefined;
  const io: CliIo = { out: (t) => void (out += t), err: () => {}, exitCode: (c) => void (code = c) };
  const program = new Command('xapi').exitOverride();
  registerLint(program, io);
  await program.parseAsync(['node', 'xapi', 'lint', ...args]);
  return { out, code };
}

const asInputs = (s: ReturnType<typeof rendered>) => [...s.consumer, ...s.provider].map((object, index) => ({ object, file: 'x.yaml', index }));

describe('xapi lint', () => {
  it('the example rendered with observed IDs passes: exit 0, no errors; one note on the Project tag condition', async () => {
    const { out, code } = await run([writeManifests(tmp(), rendered()), '--output', 'json']);
    expect(code).toBe(0);
    const findings = JSON.parse(out).findings as Array<{ ruleId: string; level: string; object: string; message: string }>;
    expect(findings.map((f) => [f.ruleId, f.level, f.object])).toEqual([['XAPI010', 'note', `VPCEndpoint/${objectNames(exampleCr()).vpcEndpoint}`]]);
    expect(findings[0]!.message).toMatch(/requires aws:resourceTag\/Project: this assumes API Gateway puts the API's tags into execute-api:Invoke's request context/);
  });
  it('the note is in the text output too, and does not fail', async () => {
    const { out, code } = await run([writeManifests(tmp(), rendered())]);
    expect(code).toBe(0);
    expect(out).toContain(`XAPI010 (note) endpoint-tag-condition-unverified: VPCEndpoint/${objectNames(exampleCr()).vpcEndpoint}: `);
    expect(out).toMatch(/xapi lint: 0 error\(s\), 1 note\(s\) in \d+ objects/);
  });
  it('spec.projectTagCondition: false: no note, and XAPI006 accepts the Allow without the tag (the endpoint says it is deliberate)', () => {
    const cr = exampleCr();
    cr.spec.projectTagCondition = false;
    const s = renderObjects(cr, FULL_IDS);
    expect(lint(asInputs(s))).toEqual([]);
    // Without the annotation the same policy is an XAPI006 error.
    const v = s.consumer.find((o) => o.kind === 'VPCEndpoint')!;
    delete v.metadata.annotations!['xapi.dev/project-tag-condition'];
    expect(lint(asInputs(s)).map((f) => f.ruleId)).toEqual(['XAPI006']);
  });
  it('SARIF carries each rule\'s level', async () => {
    const { out } = await run([writeManifests(tmp(), rendered()), '--output', 'sarif']);
    const runObj = JSON.parse(out).runs[0];
    const level = (id: string) => runObj.tool.driver.rules.find((r: { id: string }) => r.id === id).defaultConfiguration.level;
    expect([level('XAPI001'), level('XAPI010')]).toEqual(['error', 'note']);
    expect(runObj.results.map((r: { ruleId: string; level: string }) => [r.ruleId, r.level])).toEqual([['XAPI010', 'note']]);
  });
  it('the fail-closed static render (no IDs) passes too (its endpoint policy is a Deny only: no note either)', () => {
    expect(lint(asInputs(rendered({})))).toEqual([]);
  });
  it('has a broken fixture for every rule', () => {
    expect(Object.keys(BROKEN).sort()).toEqual(ALL_RULES.map((r) => r.id).sort());
  });
  it.each(Object.entries(BROKEN).map(([id, b]) => [id, b.what] as const))('%s: %s → that rule (an error exits 1, a note 0)', async (id) => {
    const { out, code } = await run([writeManifests(tmp(), brokenSet(id)), '--output', 'json']);
    const level = ALL_RULES.find((r) => r.id === id)!.level;
    expect(code).toBe(level === 'error' ? 1 : 0);
    const found = (JSON.parse(out).findings as Array<{ ruleId: string; level: string }>).filter((f) => f.level === level);
    expect([...new Set(found.map((f) => f.ruleId))]).toEqual([id]);
  });
  it('text output names the file, line, rule and object', async () => {
    const dir = writeManifests(tmp(), brokenSet('XAPI007'));
    const { out, code } = await run([dir]);
    expect(code).toBe(1);
    const vpce = objectNames(exampleCr()).vpcEndpoint;
    expect(out).toContain(`account-a/vpcendpoint-${vpce}.yaml:1: XAPI007 endpoint-private-dns: VPCEndpoint/${vpce}: privateDNSEnabled is false`);
  });
  it('SARIF 2.1.0: rules with ids and descriptions, results with file locations', async () => {
    const dir = writeManifests(tmp(), brokenSet('XAPI004'));
    const { out, code } = await run([dir, '--output', 'sarif']);
    expect(code).toBe(1);
    const sarif = JSON.parse(out);
    expect(sarif.version).toBe('2.1.0');
    const runObj = sarif.runs[0];
    expect(runObj.tool.driver.rules.map((r: { id: string }) => r.id)).toEqual(ALL_RULES.map((r) => r.id));
    expect(runObj.tool.driver.rules[0].shortDescription.text).toMatch(/execute-api:Invoke/);
    const errors = runObj.results.filter((r: { level: string }) => r.level === 'error');
    expect(errors).toHaveLength(1);
    const result = errors[0];
    expect(result.ruleId).toBe('XAPI004');
    expect(runObj.tool.driver.rules[result.ruleIndex].id).toBe('XAPI004');
    expect(result.locations[0].physicalLocation.artifactLocation.uri).toMatch(new RegExp(`account-a/securitygroup-${objectNames(exampleCr()).endpointSecurityGroup}\\.yaml$`));
    expect(result.locations[0].physicalLocation.region.startLine).toBe(1);
    expect(result.message.text).toMatch(/ipRanges/);
  });
  it('other ports and protocols are findings as well', () => {
    const s = rendered();
    const sg = s.consumer.find((o) => o.kind === 'SecurityGroup')!;
    sg.spec!.egressRules = [{ ipProtocol: '-1', fromPort: 0, toPort: 65535, userIDGroupPairs: [{ groupID: 'sg-1' }] }];
    expect(lint(asInputs(s)).filter((f) => f.level === 'error').map((f) => f.ruleId)).toEqual(['XAPI004']);
  });
  it('a Principal "*" Allow without condition in the resource policy is a wildcard grant', () => {
    const s = rendered();
    const api = s.provider.find((o) => o.kind === 'RestAPI')!;
    const d = JSON.parse(String(api.spec!.policy));
    d.Statement[1].Principal = '*';
    delete d.Statement[1].Condition;
    api.spec!.policy = JSON.stringify(d);
    const ids = lint(asInputs(s)).filter((f) => f.level === 'error').map((f) => f.ruleId).sort();
    expect(ids).toEqual(['XAPI001', 'XAPI002']);
  });
  it('rejects an unknown output format', async () => {
    await expect(run([writeManifests(tmp(), rendered()), '--output', 'xml'])).rejects.toThrow(/--output must be text, json or sarif/);
  });
});
