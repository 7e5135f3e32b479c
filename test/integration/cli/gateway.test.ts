// `xapi synth --observed` then `xapi gateway` as a user runs them (the built CLI): the gateway
// serves the complete render, answers a signed call, and logs one line per request with the layer
// that decided.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import aws4 from 'aws4';

const ROOT = new URL('../../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/xapi.js');
const VPCE = 'vpce-0aaaaaaaaaaaaaaaa';
const creds = { accessKeyId: 'ASIAROLE', secretAccessKey: 'role-secret', sessionToken: 'role-token' };

function xapi(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
  });
}

describe('xapi gateway', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xapi-gw-cli-'));
  let child: ChildProcess | undefined;
  let stdout = '';
  afterAll(() => {
    child?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a complete render from xapi synth --observed and logs the deciding layer', async () => {
    const ids = join(dir, 'ids.json');
    writeFileSync(ids, JSON.stringify({ 'xapi-system/orders': { callerSecurityGroupId: 'sg-0123456789abcdef0', endpointSecurityGroupId: 'sg-0fedcba9876543210', restApiId: 'a1b2c3d4e5', rootResourceId: 'r00t1d', allowedEndpointIds: [VPCE] } }));
    const synth = await xapi(['synth', '--input', join(ROOT, 'examples'), '--out', join(dir, 'manifests'), '--observed', ids]);
    expect(synth.stderr).toBe('');
    expect(synth.stdout).toMatch(/wrote \d+ objects/);
    const credsFile = join(dir, 'creds.json');
    writeFileSync(credsFile, JSON.stringify([{ ...creds, arn: 'arn:aws:iam::111111111111:role/orders-caller' }]));

    child = spawn(process.execPath, [CLI, 'gateway', '--manifests', join(dir, 'manifests', 'cluster-b'), '--credentials', credsFile, '--port', '0'], { cwd: ROOT });
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const banner = await new Promise<string>((resolve, reject) => {
      let err = '';
      child!.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('\n')) resolve(err);
      });
      child!.once('exit', (code) => reject(new Error(`gateway exited ${code}: ${err}`)));
    });
    const m = /http:\/\/127\.0\.0\.1:(\d+)\/\{stage\}\/… api a1b2c3d4e5 region us-east-1; routes: (.*)\n/.exec(banner);
    expect(m).not.toBeNull();
    expect(m![2]!.split(', ').sort()).toEqual(['GET /items', 'GET /items/{id}', 'POST /items']);
    const port = Number(m![1]);
    expect(port).toBeGreaterThan(0);

    // The endpoint header is added on the way (by the VPC endpoint in AWS), after signing.
    const signed = aws4.sign({ host: `127.0.0.1:${port}`, path: '/prod/items/7?verbose=1', method: 'GET', service: 'execute-api', region: 'us-east-1' }, creds);
    const ok = await fetch(`http://127.0.0.1:${port}${signed.path}`, { headers: { ...(signed.headers as Record<string, string>), 'x-amzn-vpce-id': VPCE } });
    expect(ok.status).toBe(200);
    const denied = await fetch(`http://127.0.0.1:${port}${signed.path}`, { headers: { ...(signed.headers as Record<string, string>), 'x-amzn-vpce-id': 'vpce-0bbbbbbbbbbbbbbbb' } });
    expect([denied.status, denied.headers.get('x-amzn-errortype')]).toEqual([403, 'AccessDeniedException']);

    const deadline = Date.now() + 5000;
    while (stdout.trim().split('\n').filter(Boolean).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: number; layer: string; url: string });
    expect(lines.map((l) => [l.status, l.layer])).toEqual([
      [200, 'integration'],
      [403, 'resource-policy'],
    ]);
  });

  it('refuses the fail-closed first pass and a malformed credentials file with clear errors', async () => {
    const credsFile = join(dir, 'bad-creds.json');
    writeFileSync(credsFile, JSON.stringify([{ accessKeyId: 'x' }]));
    const bad = await xapi(['gateway', '--manifests', join(ROOT, 'manifests'), '--credentials', credsFile, '--port', '0']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/names no API ID yet|expected a JSON list/);
    const good = join(dir, 'creds-ok.json');
    writeFileSync(good, JSON.stringify([{ ...creds, arn: 'arn:aws:iam::111111111111:role/orders-caller' }]));
    const first = await xapi(['gateway', '--manifests', join(ROOT, 'manifests'), '--credentials', good, '--port', '0']);
    expect(first.code).not.toBe(0);
    expect(first.stderr).toMatch(/names no API ID yet: these manifests are a fail-closed first pass/);
    const creds2 = await xapi(['gateway', '--manifests', join(dir, 'manifests', 'cluster-b'), '--credentials', credsFile, '--port', '0']);
    expect(creds2.code).not.toBe(0);
    expect(creds2.stderr).toMatch(/expected a JSON list of \{accessKeyId, secretAccessKey, sessionToken\?, arn\}/);
  });
});
