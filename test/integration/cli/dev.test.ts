// `xapi dev up` / `xapi dev down` as a user runs them (the built CLI, in its own processes): the
// control planes keep running after `up` returns, answer kubectl with the CRDs installed, and
// `down` stops every process and removes what `up` created.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../../../src/envtest/processes.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/xapi.js');

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: ROOT, timeout: 400_000, env: process.env }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
  });
}
const xapi = (...args: string[]) => run(process.execPath, [CLI, ...args]);
// zombie-aware: a stopped process whose parent (gone) cannot reap it still answers kill(0)
const alive = isAlive;

describe('xapi dev', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'xapi-dev-test-')), 'playground');
  let pids: number[] = [];
  afterAll(async () => {
    await xapi('dev', 'down', '--dir', dir);
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('up --clusters 2 starts two API servers in the background with the CRDs installed', async () => {
    if (!existsSync(join(ROOT, 'dist/src/cli/main.js'))) throw new Error('dist/ is missing: scripts/test.sh builds it (npx tsc -p tsconfig.json)');
    const up = await xapi('dev', 'up', '--clusters', '2', '--dir', dir);
    expect(up.stderr).not.toMatch(/error/i);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/2 local control planes are running/);
    expect(up.stdout).toContain(`KUBECONFIG=${join(dir, 'kubeconfig-a')}`);
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { kubectl: string; clusters: { etcd: { pid: number }; apiserver: { pid: number } }[] };
    pids = state.clusters.flatMap((c) => [c.etcd.pid, c.apiserver.pid]);
    expect(pids).toHaveLength(4);
    for (const pid of pids) expect(alive(pid)).toBe(true);

    for (const l of ['a', 'b']) {
      const kc = join(dir, `kubeconfig-${l}`);
      const crd = await run(state.kubectl, ['--kubeconfig', kc, 'get', 'crd', 'crossaccountapis.xapi.dev', 'vpcendpoints.ec2.services.k8s.aws', 'restapis.apigateway.services.k8s.aws', '-o', 'name']);
      expect(crd.stderr).toBe('');
      expect(crd.stdout.trim().split('\n')).toHaveLength(3);
    }
    // separate clusters: a namespace made in A does not exist in B
    const kcA = join(dir, 'kubeconfig-a');
    const kcB = join(dir, 'kubeconfig-b');
    expect((await run(state.kubectl, ['--kubeconfig', kcA, 'create', 'namespace', 'only-in-a'])).code).toBe(0);
    expect((await run(state.kubectl, ['--kubeconfig', kcB, 'get', 'namespace', 'only-in-a'])).code).not.toBe(0);
    // dev up made the cluster Secrets examples/orders.yaml names, each holding that cluster's kubeconfig
    expect(up.stdout).toMatch(/Cluster Secrets for examples\/orders\.yaml[\s\S]*xapi-system\/cluster-a: kubeconfig of \S*kubeconfig-a\n\s+xapi-system\/cluster-b: kubeconfig of \S*kubeconfig-b/);
    for (const [secret, kc] of [['cluster-a', kcA], ['cluster-b', kcB]] as const) {
      const got = await run(state.kubectl, ['--kubeconfig', kcA, 'get', 'secret', '-n', 'xapi-system', secret, '-o', 'jsonpath={.data.kubeconfig}']);
      expect(got.stderr).toBe('');
      expect(Buffer.from(got.stdout, 'base64').toString('utf8')).toBe(readFileSync(kc, 'utf8'));
    }
    // the example CR goes in as README says
    const applied = await run(state.kubectl, ['--kubeconfig', kcA, 'apply', '-f', join(ROOT, 'examples/orders.yaml')]);
    expect(applied.stdout).toMatch(/crossaccountapi.xapi.dev\/orders created/);
  }, 420_000); // two control planes on a busy 2-core box

  it('up again reports the running planes instead of starting more', async () => {
    const again = await xapi('dev', 'up', '--dir', dir);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already running/);
  });

  it('up --clusters 1 while two run reports the mismatch and changes nothing', async () => {
    const before = readFileSync(join(dir, 'state.json'), 'utf8');
    const r = await xapi('dev', 'up', '--clusters', '1', '--dir', dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/2 control plane\(s\) already running in \S+, not 1: run `xapi dev down --dir \S+`, then `xapi dev up --clusters 1`/);
    expect(readFileSync(join(dir, 'state.json'), 'utf8')).toBe(before);
    for (const pid of pids) expect(alive(pid)).toBe(true);
  });

  it('down stops every process and removes its data, keeping other files', async () => {
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const down = await xapi('dev', 'down', '--dir', dir);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/stopped xapi-dev-a, xapi-dev-b/);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    for (const f of ['a', 'b', 'kubeconfig-a', 'kubeconfig-b', 'state.json']) expect(existsSync(join(dir, f))).toBe(false);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('rejects a bad --clusters value without starting anything', async () => {
    const bad = await xapi('dev', 'up', '--clusters', '3', '--dir', join(dir, 'never'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--clusters must be 1 or 2, got 3/);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });
});
