// `xapi dev up --aws --operator` as a user runs it (the built CLI), then README's two commands:
// kubectl apply of the example and kubectl wait for Ready; `xapi dev down` stops everything.
// Its own emulator and control plane, so it runs beside the other e2e files.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../../src/envtest/processes.js';
import { EXAMPLE_PATH } from './helpers.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const MIN = 60_000;

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: ROOT, timeout: timeoutMs, maxBuffer: 16 << 20, env: process.env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xapi-e2e-dev-'));
});
afterAll(async () => {
  if (existsSync(join(dir, 'state.json'))) await run(process.execPath, [join(ROOT, 'bin', 'xapi.js'), 'dev', 'down', '--dir', dir], 2 * MIN);
  rmSync(dir, { recursive: true, force: true });
});

test('dev up --aws --operator; kubectl apply the example; kubectl wait Ready; dev down stops everything', async () => {
  const up = await run(process.execPath, [join(ROOT, 'bin', 'xapi.js'), 'dev', 'up', '--clusters', '1', '--aws', '--operator', '--dir', dir], 10 * MIN);
  expect({ code: up.code, stderr: up.code === 0 ? '' : up.stderr }).toEqual({ code: 0, stderr: '' });
  expect(up.stdout).toContain('AWS emulator: http://127.0.0.1:');
  const endpoint = readFileSync(join(dir, 'aws-endpoint'), 'utf8').trim();
  expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(readFileSync(join(dir, 'aws-region'), 'utf8').trim()).toBe('us-east-1');
  const pids = (JSON.parse(readFileSync(join(dir, 'aws-state.json'), 'utf8')) as { processes: Array<{ what: string; pid: number }> }).processes;
  expect(pids.map((p) => p.what.replace(/ \(.*\)$/, '')).sort()).toEqual(['apigateway-controller', 'aws-emulator', 'ec2-controller', 'iam-controller', 'xapi operator']);

  const kubectl = process.env.XAPI_E2E_KUBECTL!;
  const kubeconfig = join(dir, 'kubeconfig-a');
  const apply = await run(kubectl, ['--kubeconfig', kubeconfig, 'apply', '-f', EXAMPLE_PATH], MIN);
  expect(apply.stderr).toBe('');
  const wait = await run(kubectl, ['--kubeconfig', kubeconfig, 'wait', '--for=condition=Ready', 'xapi/orders', '-n', 'xapi-system', '--timeout=5m'], 6 * MIN);
  expect({ code: wait.code, out: wait.stdout.trim(), err: wait.stderr }).toEqual({ code: 0, out: 'crossaccountapi.xapi.dev/orders condition met', err: '' });

  const down = await run(process.execPath, [join(ROOT, 'bin', 'xapi.js'), 'dev', 'down', '--dir', dir], 2 * MIN);
  expect(down.code).toBe(0);
  for (const p of pids) expect(`${p.what} ${isAlive(p.pid) ? 'alive' : 'gone'}`).toBe(`${p.what} gone`);
  for (const f of ['aws-endpoint', 'aws-region', 'aws-state.json', 'state.json', 'kubeconfig-a']) expect(existsSync(join(dir, f))).toBe(false);
}, 20 * MIN);
