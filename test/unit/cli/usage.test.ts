// Exit codes, --version, environment variables and missing kubeconfigs through the built CLI
// (bin/xapi.js → dist/): usage errors exit 2 (1 means findings / denied / not ready), only
// `operator` reads its XAPI_* variables, and bad values and missing kubeconfigs are named.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/xapi.js');
let home: string;

function xapi(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // no kubeconfig anywhere unless a case gives one: an empty HOME, no KUBECONFIG, not in a cluster
    const base: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home };
    const e = { ...base, ...env };
    for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, timeout: 60_000, env: e }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0, stdout, stderr });
    });
  });
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/src/cli/main.js'))) throw new Error('dist/ is missing: build it first (npx tsc -p tsconfig.json; scripts/test.sh does)');
  home = mkdtempSync(join(tmpdir(), 'xapi-usage-home-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('xapi usage', () => {
  it('--version prints package.json version and exits 0', async () => {
    const r = await xapi(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it.each([
    ['an unknown command', ['nope'], /unknown command 'nope'/],
    ['an unknown flag', ['synth', '--bogus'], /unknown option '--bogus'/],
    ['a flag without its value', ['synth', '--out'], /option '--out <dir>' argument missing/],
    ['a bad --metrics-port', ['operator', '--metrics-port', 'abc'], /option '--metrics-port <port>' argument 'abc' is invalid\. not a port: abc \(a port 1-65535, or 0 \(or -1\) to turn the server off\)/],
    ['a port out of range', ['operator', '--health-port', '70000'], /not a port: 70000/],
    ['a bad --concurrency', ['operator', '--concurrency', '0'], /not a positive integer: 0/],
  ])('%s exits 2 with the reason', async (_what, args, message) => {
    const r = await xapi(args);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });

  it.each([['synth', '--help'], ['lint', '--help'], ['status', '--help'], ['explain', '--help']])('XAPI_METRICS_PORT=abc does not break `xapi %s %s`', async (...args) => {
    const r = await xapi(args, { XAPI_METRICS_PORT: 'abc', XAPI_CONCURRENCY: 'many' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: xapi /);
  });

  it.each([
    ['XAPI_METRICS_PORT', 'abc', /^xapi: XAPI_METRICS_PORT=abc: not a port: abc/],
    ['XAPI_HEALTH_PORT', '1e3', /^xapi: XAPI_HEALTH_PORT=1e3: not a port/],
    ['XAPI_CONCURRENCY', 'many', /^xapi: XAPI_CONCURRENCY=many: not a positive integer/],
    ['XAPI_URGENT_CONCURRENCY', '0', /^xapi: XAPI_URGENT_CONCURRENCY=0: not a positive integer/],
    ['XAPI_LEADER_ELECT', 'yes', /^xapi: XAPI_LEADER_ELECT=yes: must be true or false/],
  ])('operator names a bad %s and exits 2', async (name, value, message) => {
    const r = await xapi(['operator'], { [name]: value });
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });

  it.each([
    ['status', ['status']],
    ['operator', ['operator']],
  ])('%s without any kubeconfig says so and exits 2 (no localhost:8080, no retrying)', async (_name, args) => {
    const r = await xapi(args);
    expect(r.stderr).toBe('xapi: no kubeconfig: set --kubeconfig or KUBECONFIG\n');
    expect(r.code).toBe(2);
  });

  it.each([
    ['status --kubeconfig', ['status', '--kubeconfig', '/nonexistent/kc'], {}, /^xapi: --kubeconfig \/nonexistent\/kc: no such file\n$/],
    ['operator with XAPI_KUBECONFIG', ['operator'], { XAPI_KUBECONFIG: '/nonexistent/kc' }, /^xapi: XAPI_KUBECONFIG \/nonexistent\/kc: no such file\n$/],
    ['status with KUBECONFIG', ['status'], { KUBECONFIG: '/nonexistent/kc' }, /^xapi: KUBECONFIG=\/nonexistent\/kc: no such file; set --kubeconfig or KUBECONFIG/],
  ])('%s naming a missing file says which', async (_name, args, env, message) => {
    const r = await xapi(args, env);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });
});
