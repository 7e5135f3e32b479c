// Bad input to `xapi synth` through the built CLI (bin/xapi.js → dist/): every problem is named
// with its file, field and the rule's words, the exit code is 2, and nothing is written. The
// per-CR table is the one the admission test applies to a real API server (same words).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { RULES } from '../../../src/api/rules.js';
import { BAD_CRS, exampleCr } from '../../fixtures/bad-crs.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/xapi.js');

function xapi(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const e: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete e.CDK8S_OUTDIR;
    execFile(process.execPath, [CLI, ...args], { cwd: work, timeout: 120_000, env: e, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0, stdout, stderr });
    });
  });
}

let work: string;
let n = 0;
/** A fresh input folder holding the given documents, one file each. */
function input(docs: unknown[]): string {
  const dir = join(work, `in-${n++}`);
  mkdirSync(dir);
  docs.forEach((d, i) => writeFileSync(join(dir, `case-${i}.yaml`), typeof d === 'string' ? d : stringify(d)));
  return dir;
}
const out = () => join(work, 'out');

/** Runs synth on a folder expected to be refused; returns stderr. */
async function refused(dir: string, extra: string[] = []): Promise<string> {
  const r = await xapi(['synth', '--input', dir, '--out', out(), ...extra]);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/nothing written/);
  expect(existsSync(out())).toBe(false);
  return r.stderr;
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/src/cli/main.js'))) throw new Error('dist/ is missing: build it first (npx tsc -p tsconfig.json; scripts/test.sh does)');
  work = mkdtempSync(join(tmpdir(), 'xapi-synth-input-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('xapi synth names every bad CR of the shared table, in the rule words', () => {
  let stderr = '';
  beforeAll(async () => {
    const docs = BAD_CRS.map((c, i) => {
      const cr = exampleCr();
      cr.metadata = { name: `bad-${i}`, namespace: 'xapi-system' };
      c.mutate(cr);
      return cr;
    });
    stderr = await refused(input(docs));
  });
  it.each(BAD_CRS.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => {
    const line = stderr.split('\n').find((l) => l.includes(`case-${i}.yaml (document 1, "bad-${i}")`));
    expect(line).toBeDefined();
    expect(line).toContain(`${c.field}: `);
    expect(line).toContain(c.message);
  });
});

describe('what only synth can see', () => {
  const valid = (name: string, namespace: string, edit: (cr: ReturnType<typeof exampleCr>) => void = () => {}) => {
    const cr = exampleCr();
    cr.metadata = { name, namespace };
    edit(cr);
    return cr;
  };

  it.each([
    ['an empty name', '', 'metadata.name'],
    ['an uppercase name', 'Orders', 'metadata.name'],
    ['a path as name', '../../etc', 'metadata.name'],
    ['a 253-character name (valid in Kubernetes; derived file names would not fit)', 'a'.repeat(253), 'metadata.name'],
  ])('metadata: %s', async (_what, name, field) => {
    const stderr = await refused(input([valid(name, 'xapi-system')]));
    expect(stderr).toContain(`${field}: ${RULES.crName.message}`);
    expect(stderr).not.toMatch(/ENAMETOOLONG|construct/i);
  });

  it('metadata: a namespace that is not a DNS label', async () => {
    const stderr = await refused(input([valid('orders', '../../etc')]));
    expect(stderr).toContain(`metadata.namespace: ${RULES.namespace.message}`);
  });

  it('the same name in two namespaces (derived object names would collide)', async () => {
    const stderr = await refused(input([valid('orders', 'team-a'), valid('orders', 'team-b')]));
    expect(stderr).toMatch(/case-1\.yaml \(document 1, "orders"\): metadata\.name orders is also used in \S+case-0\.yaml .*names must be unique across namespaces/);
  });

  it('two CRs putting different accounts into one namespace (CARM: the wrong account)', async () => {
    const other = valid('billing', 'xapi-system', (cr) => {
      cr.spec.consumer.accountId = '333333333333';
      cr.spec.provider.namespace = 'billing-b';
    });
    const stderr = await refused(input([valid('orders', 'xapi-system'), other]));
    expect(stderr).toMatch(/spec\.consumer\.namespace account-a in cluster cluster-a is account 333333333333 \(us-east-1\), but .* puts account 111111111111 \(us-east-1\) there \(spec\.consumer\); ACK maps a namespace to one account and region \(CARM\)/);
  });

  it('two CRs putting different regions into one namespace', async () => {
    const other = valid('billing', 'xapi-system', (cr) => {
      cr.spec.region = 'eu-west-1';
    });
    const stderr = await refused(input([valid('orders', 'xapi-system'), other]));
    expect(stderr).toMatch(/account-a in cluster cluster-a is account 111111111111 \(eu-west-1\), but .* puts account 111111111111 \(us-east-1\) there/);
  });

  it.each([
    ['a near-miss kind', { kind: 'CrossAccountAPI' }, /kind "CrossAccountAPI" is not CrossAccountApi \(did you mean CrossAccountApi, apiVersion xapi\.dev\/v1alpha1\?\)/],
    ['the lowercase kind', { kind: 'crossaccountapi' }, /kind "crossaccountapi" is not CrossAccountApi/],
    ['another version of our group', { apiVersion: 'xapi.dev/v1beta1' }, /apiVersion must be xapi\.dev\/v1alpha1, got "xapi\.dev\/v1beta1"/],
    ['a plural kind', { kind: 'CrossAccountApis' }, /kind "CrossAccountApis" is not CrossAccountApi \(did you mean/],
    ['another kind in our group', { kind: 'ApiGrant' }, /kind "ApiGrant" is not a kind of xapi\.dev \(only CrossAccountApi\)/],
  ])('refuses %s instead of skipping it', async (_what, patch, message) => {
    const stderr = await refused(input([{ ...valid('orders', 'xapi-system'), ...patch }]));
    expect(stderr).toMatch(message);
  });

  it('a 30 MB value is cut in the message', async () => {
    const stderr = await refused(input([valid('orders', 'xapi-system', (cr) => void (cr.spec.project = 'x'.repeat(30 * 1024 * 1024)))]));
    expect(stderr).toContain(RULES.project.message);
    expect(stderr).toMatch(/… \(31457282 characters\)/);
    expect(stderr.length).toBeLessThan(2000);
  });
});

describe('--observed is checked: keys, ID formats, lists', () => {
  const examples = join(ROOT, 'examples');
  const observed = (value: unknown) => {
    const f = join(work, `observed-${n++}.yaml`);
    writeFileSync(f, typeof value === 'string' ? value : JSON.stringify(value));
    return f;
  };

  it('names every wrong key and ID', async () => {
    const f = observed({
      'xapi-system/orders': {
        vpcEndpointId: 'vpce-0123456789abcdef0',
        allowedEndpointIds: 'vpce-0123456789abcdef0',
        callerSecurityGroupId: '0.0.0.0/0',
        endpointSecurityGroupId: 'sg-0123456789abcdef0',
        restApiId: 'ABC',
      },
      'default/orders': {},
    });
    const stderr = await refused(examples, ['--observed', f]);
    expect(stderr).toContain('"xapi-system/orders".vpcEndpointId: unknown key (allowed: callerSecurityGroupId, endpointSecurityGroupId, restApiId, rootResourceId, allowedEndpointIds, endpointNetworkInterfaceIds)');
    expect(stderr).toContain('"xapi-system/orders".allowedEndpointIds: must be a list of VPC endpoint IDs such as vpce-0a1b2c3d (got "vpce-0123456789abcdef0")');
    expect(stderr).toContain('"xapi-system/orders".callerSecurityGroupId: must be a security group ID such as sg-0a1b2c3d (got "0.0.0.0/0")');
    expect(stderr).toContain('"xapi-system/orders".restApiId: must be a REST API ID');
    expect(stderr).not.toContain('endpointSecurityGroupId: must');
    expect(stderr).toContain('"default/orders": no CrossAccountApi "default/orders" in --input (keys are "namespace/name": xapi-system/orders)');
  });

  it.each([
    ['a missing file', () => join(work, 'nope.yaml'), /--observed \S+nope\.yaml: no such file; nothing written/],
    ['a folder', () => work, /--observed \S+: is a folder, not a file; nothing written/],
    ['a file that is not YAML', () => observed('{"a": [}'), /--observed \S+: not YAML or JSON \(.*\); nothing written/],
    ['a list', () => observed(['sg-0123456789abcdef0']), /--observed \S+: expected a map of "namespace\/name" to \{callerSecurityGroupId/],
  ])('%s', async (_what, file, message) => {
    const stderr = await refused(examples, ['--observed', file()]);
    expect(stderr).toMatch(message);
  });

  it('--help names the real keys', async () => {
    const r = await xapi(['synth', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('{callerSecurityGroupId, endpointSecurityGroupId, restApiId, rootResourceId, allowedEndpointIds, endpointNetworkInterfaceIds}');
    expect(r.stdout).not.toContain('vpcEndpointId');
  });
});
