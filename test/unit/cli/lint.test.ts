import { Command } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerLint } from '../../../src/cli/commands/lint.js';
import type { CliIo } from '../../../src/cli/io.js';
import { ALL_RULES, lint } from '../../../src/policy/lint.js';
import { BROKEN, brokenSet, rendered, writeManifests } from '../../fixtures/lint/fixtures.js';

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
  it('the example rendered with observed IDs passes: exit 0, no findings', async () => {
    const { out, code } = await run([writeManifests(tmp(), rendered()), '--output', 'json']);
    expect(code).toBe(0);
    expect(JSON.parse(out).findings).toEqual([]);
  });
  it('the fail-closed static render (no IDs) passes too', () => {
    expect(lint(asInputs(rendered({})))).toEqual([]);
  });
  it('has a broken fixture for every rule', () => {
    expect(Object.keys(BROKEN).sort()).toEqual(ALL_RULES.map((r) => r.id).sort());
  });
  it.each(Object.entries(BROKEN).map(([id, b]) => [id, b.what] as const))('%s: %s → exit 1 with exactly that rule', async (id) => {
    const { out, code } = await run([writeManifests(tmp(), brokenSet(id)), '--output', 'json']);
    expect(code).toBe(1);
    const ids = [...new Set((JSON.parse(out).findings as Array<{ ruleId: string }>).map((f) => f.ruleId))];
    expect(ids).toEqual([id]);
  });
  it('text output names the file, line, rule and object', async () => {
    const dir = writeManifests(tmp(), brokenSet('XAPI007'));
    const { out, code } = await run([dir]);
    expect(code).toBe(1);
    expect(out).toMatch(/account-a\/vpcendpoint-orders-vpce\.yaml:1: XAPI007 endpoint-private-dns: VPCEndpoint\/orders-vpce: privateDNSEnabled is false/);
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
    expect(runObj.results).toHaveLength(1);
    const result = runObj.results[0];
    expect(result.ruleId).toBe('XAPI004');
    expect(runObj.tool.driver.rules[result.ruleIndex].id).toBe('XAPI004');
    expect(result.locations[0].physicalLocation.artifactLocation.uri).toMatch(/account-a\/securitygroup-orders-endpoint-sg\.yaml$/);
    expect(result.locations[0].physicalLocation.region.startLine).toBe(1);
    expect(result.message.text).toMatch(/ipRanges/);
  });
  it('other ports and protocols are findings as well', () => {
    const s = rendered();
    const sg = s.consumer.find((o) => o.kind === 'SecurityGroup')!;
    sg.spec!.egressRules = [{ ipProtocol: '-1', fromPort: 0, toPort: 65535, userIDGroupPairs: [{ groupID: 'sg-1' }] }];
    expect(lint(asInputs(s)).map((f) => f.ruleId)).toEqual(['XAPI004']);
  });
  it('a Principal "*" Allow without condition in the resource policy is a wildcard grant', () => {
    const s = rendered();
    const api = s.provider.find((o) => o.kind === 'RestAPI')!;
    const d = JSON.parse(String(api.spec!.policy));
    d.Statement[1].Principal = '*';
    delete d.Statement[1].Condition;
    api.spec!.policy = JSON.stringify(d);
    const ids = lint(asInputs(s)).map((f) => f.ruleId).sort();
    expect(ids).toEqual(['XAPI001', 'XAPI002']);
  });
  it('rejects an unknown output format', async () => {
    await expect(run([writeManifests(tmp(), rendered()), '--output', 'xml'])).rejects.toThrow(/--output must be text, json or sarif/);
  });
});
