import { Command } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDuration, registerExplain } from '../../../src/cli/commands/explain.js';
import type { CliIo } from '../../../src/cli/io.js';
import { ROLE, VPCE, rendered, writeManifests } from '../../fixtures/lint/fixtures.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'xapi-explain-'));
  dirs.push(d);
  return d;
}
let observedDir: string;
let staticDir: string;
beforeAll(() => {
  observedDir = writeManifests(tmp(), rendered());
  staticDir = writeManifests(tmp(), rendered({}));
});

async function explain(args: string[], dir = observedDir): Promise<{ out: string; code: number | undefined }> {
  let out = '';
  let code: number | undefined;
  const io: CliIo = { out: (t) => void (out += t), err: () => {}, exitCode: (c) => void (code = c) };
  const program = new Command('xapi').exitOverride();
  registerExplain(program, io);
  await program.parseAsync(['node', 'xapi', 'explain', '--manifests', dir, ...args]);
  return { out, code };
}
const json = async (args: string[], dir?: string) => {
  const r = await explain([...args, '--output', 'json'], dir);
  return { ...JSON.parse(r.out), code: r.code };
};
const base = ['--role', ROLE, '--method', 'GET', '--path', '/items'];

describe('xapi explain on the example rendered with observed IDs', () => {
  it('the right caller through the right endpoint: 200, exit 0, four allowed layers', async () => {
    const v = await json([...base, '--vpce', VPCE]);
    expect([v.status, v.responseType, v.allowed, v.code]).toEqual([200, null, true, 0]);
    expect(v.layers.map((l: { layer: number; allowed: boolean }) => [l.layer, l.allowed])).toEqual([[1, true], [2, true], [3, true], [4, true]]);
    for (const l of v.layers) expect(Object.keys(l)).toEqual(expect.arrayContaining(['layer', 'name', 'allowed', 'reason']));
  });
  it('without --vpce it uses the first endpoint the resource policy allows', async () => {
    const v = await json(base);
    expect([v.vpceId, v.status]).toEqual([VPCE, 200]);
  });
  it('another endpoint: ACCESS_DENIED, decided by the resource policy deny statement', async () => {
    const v = await json([...base, '--vpce', 'vpce-0ffffffffffffffff']);
    expect([v.status, v.responseType, v.allowed, v.decidedBy, v.code]).toEqual([403, 'ACCESS_DENIED', false, 3, 1]);
    expect(v.statement.sid).toBe('DenyUnlessFromAllowedEndpoints');
    expect(v.layers[2]).toMatchObject({ layer: 3, allowed: false });
  });
  it('a role the policies do not name: ACCESS_DENIED', async () => {
    const v = await json(['--role', 'arn:aws:iam::111111111111:role/someone-else', '--method', 'GET', '--path', '/items']);
    expect([v.status, v.responseType]).toEqual([403, 'ACCESS_DENIED']);
    expect(v.message).toMatch(/^User: arn:aws:iam::\*{8}1111:role\/someone-else is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:\*{8}2222:a1b2c3d4e5\/prod\/GET\/items/);
  });
  it('bad signature: INVALID_SIGNATURE', async () => {
    const v = await json([...base, '--signature', 'invalid']);
    expect([v.status, v.responseType, v.errorType, v.decidedBy]).toEqual([403, 'INVALID_SIGNATURE', 'InvalidSignatureException', 4]);
  });
  it('6m skew: the signature-expired answer', async () => {
    const v = await json([...base, '--skew', '6m']);
    expect([v.status, v.responseType]).toEqual([403, 'INVALID_SIGNATURE']);
    expect(v.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/);
  });
  it('expired session token: EXPIRED_TOKEN', async () => {
    expect((await json([...base, '--signature', 'expired-token'])).responseType).toBe('EXPIRED_TOKEN');
  });
  it('the table says which statement decided', async () => {
    const { out, code } = await explain([...base, '--vpce', 'vpce-0ffffffffffffffff']);
    expect(code).toBe(1);
    expect(out).toMatch(/^3\s+API resource policy\s+DENY\s+Deny #0 DenyUnlessFromAllowedEndpoints/m);
    expect(out).toMatch(/=> 403 ACCESS_DENIED \(AccessDeniedException\), decided by layer 3 \(API resource policy\); statement #0 DenyUnlessFromAllowedEndpoints of resource policy of RestAPI orders-api/);
  });
  it('the allowed table names the granting statement', async () => {
    const { out } = await explain(base);
    expect(out).toMatch(/=> 200 OK \(granted by resource policy of RestAPI orders-api, statement #1 AllowCallerRoleFromAllowedEndpoints\)/);
    expect(out).toMatch(/^4\s+SigV4 \/ AWS_IAM\s+allow\s+Allow #0 InvokeDeclaredRoutes/m);
  });
  it('--no-caller-sg: no response, connection timeout', async () => {
    const v = await json([...base, '--no-caller-sg']);
    expect([v.status, v.outcome, v.decidedBy, v.code]).toEqual([null, 'timeout', 1, 1]);
  });
  it('unknown route: MISSING_AUTHENTICATION_TOKEN', async () => {
    expect((await json(['--role', ROLE, '--method', 'DELETE', '--path', '/items'])).responseType).toBe('MISSING_AUTHENTICATION_TOKEN');
  });
  it('rejects bad input', async () => {
    await expect(explain([...base, '--signature', 'maybe'])).rejects.toThrow(/--signature must be one of/);
    await expect(explain(['--role', 'orders-caller', '--method', 'GET', '--path', '/items'])).rejects.toThrow(/--role must be an IAM role ARN/);
  });
});

describe('xapi explain on the fail-closed static render', () => {
  it('denies, and says no endpoint is allowed yet', async () => {
    const v = await json(base, staticDir);
    expect(v.allowed).toBe(false);
    expect(v.code).toBe(1);
    expect(v.vpceId).toBeNull();
    expect(v.notes.join(' ')).toMatch(/no endpoint allowed yet/);
    expect(v.layers[2].reason).toMatch(/^no endpoint allowed yet/);
    expect(v.layers[1].statement.sid).toBe('DenyAllUntilApiIsKnown');
  });
});

describe('parseDuration', () => {
  it.each([['6m', 360], ['90s', 90], ['-6m', -360], ['1h', 3600], ['300', 300]] as const)('%s → %d s', (t, s) => expect(parseDuration(t)).toBe(s));
  it('rejects garbage', () => expect(() => parseDuration('six minutes')).toThrow(/not a duration/));
});

describe('xapi explain reads --path and --method as a user types them', () => {
  it.each([
    ['items', /--path items read as \/items/],
    ['//items', /--path \/\/items read as \/items/],
    ['/items/', /--path \/items\/ read as \/items/],
    ['/items?x=1', /the query string \?x=1 is dropped/],
  ])('--path %s is the route /items (200), and the notes say how it was read', async (path, note) => {
    const v = await json(['--role', ROLE, '--method', 'GET', '--path', path]);
    expect([v.status, v.responseType, v.resourceArn]).toEqual([200, null, 'arn:aws:execute-api:us-east-1:222222222222:a1b2c3d4e5/prod/GET/items']);
    expect(v.notes.join('\n')).toMatch(note);
  });
  it('--method get is GET', async () => {
    const v = await json(['--role', ROLE, '--method', 'get', '--path', '/items']);
    expect([v.status, v.resourceArn]).toEqual([200, 'arn:aws:execute-api:us-east-1:222222222222:a1b2c3d4e5/prod/GET/items']);
  });
  it('refuses what is no path or method at all, instead of calling it a missing route', async () => {
    await expect(explain(['--role', ROLE, '--method', 'FETCH', '--path', '/items'])).rejects.toThrow(/--method must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS \(any case\), got FETCH/);
    await expect(explain(['--role', ROLE, '--method', 'GET', '--path', '/items/%ZZ'])).rejects.toThrow(/--path \/items\/%ZZ: malformed percent-encoding %ZZ/);
    await expect(explain(['--role', ROLE, '--method', 'GET', '--path', ' '])).rejects.toThrow(/--path: empty/);
  });
});
