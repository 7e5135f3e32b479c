// The gateway on what the charts really render for the shipped example (every ID known), called
// through HTTP by our Lambda client and by an independent SigV4 implementation (aws4): every
// SigV4 failure and every policy failure comes back as API Gateway words it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import aws4 from 'aws4';
import { pino } from 'pino';
import { parse, stringify } from 'yaml';
import { readFileSync } from 'node:fs';
import type { CrossAccountApi } from '../../../src/api/types.js';
import { renderObjects } from '../../../src/charts/render.js';
import { loadManifests } from '../../../src/cli/load-manifests.js';
import { configFromManifests, createGateway } from '../../../src/gateway/server.js';
import { ApiCallError, PrivateApiClient, type Credentials } from '../../../lambda/src/client.js';
import { failure } from './failure.js';

const example = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;
const ROLE = 'arn:aws:iam::111111111111:role/orders-caller';
const VPCE = 'vpce-0aaaaaaaaaaaaaaaa';
const ids = { callerSecurityGroupId: 'sg-1', endpointSecurityGroupId: 'sg-2', restApiId: 'a1b2c3d4e5', rootResourceId: 'r00t', allowedEndpointIds: [VPCE] };
const role: Credentials = { accessKeyId: 'ASIAROLE', secretAccessKey: 'role-secret', sessionToken: 'role-token' };

let dir: string;
let server: Server;
let port: number;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xapi-gw-'));
  const { provider } = renderObjects(example, ids);
  writeFileSync(join(dir, 'provider.yaml'), provider.map((o) => stringify(o)).join('---\n'));
  const cfg = configFromManifests((await loadManifests(dir)).map((l) => l.object));
  server = createGateway(cfg, [{ ...role, arn: ROLE }, { accessKeyId: 'AKIDOTHER', secretAccessKey: 'other', arn: 'arn:aws:iam::111111111111:role/someone-else' }], {
    log: pino({ level: 'silent' }),
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

interface CallOpts {
  creds?: Credentials;
  vpce?: string | undefined;
  now?: () => Date;
  tamper?: (body: string) => string;
}
function client(o: CallOpts = {}) {
  const vpce = 'vpce' in o ? o.vpce : VPCE;
  const wrapped: typeof fetch = (url, init) =>
    fetch(url, {
      ...init,
      ...(o.tamper && typeof init?.body === 'string' && { body: o.tamper(init.body) }),
      headers: { ...(init?.headers as Record<string, string>), ...(vpce ? { 'x-amzn-vpce-id': vpce } : {}) },
    });
  return new PrivateApiClient(
    { apiUrl: `http://127.0.0.1:${port}/prod`, region: 'us-east-1', maxAttempts: 1 },
    { fetch: wrapped, now: o.now ?? (() => new Date()), credentials: () => o.creds ?? role, sleep: async () => {}, random: () => 0 },
  );
}
/** The gateway's message, without the client's "403 Type: " prefix. */
const said = (e: ApiCallError) => {
  expect(e.message.startsWith(`${e.status} ${e.errorType}: `)).toBe(true);
  return e.message.slice(`${e.status} ${e.errorType}: `.length);
};

test('the rendered API serves every route of the example: 200 from the MOCK integration', async () => {
  for (const [method, path, route] of [
    ['GET', '/items', 'GET /items'],
    ['POST', '/items', 'POST /items'],
    ['GET', '/items/42', 'GET /items/{id}'],
  ] as const) {
    const res = await client().call(method, path, method === 'POST' ? '{"sku":"a"}' : undefined);
    expect([method, path, res.status, JSON.parse(res.body).route]).toEqual([method, path, 200, route]);
  }
});

test('tampered body → 403 InvalidSignatureException, a SigV4 failure', async () => {
  const e = await failure(client({ tamper: (b) => b.replace('"a"', '"b"') }).call('POST', '/items', '{"sku":"a"}'));
  expect([e.status, e.errorType, e.kind]).toEqual([403, 'InvalidSignatureException', 'SIGV4']);
  expect(said(e)).toMatch(/^The request signature we calculated does not match the signature you provided/);
});

test('wrong secret → 403 InvalidSignatureException', async () => {
  const e = await failure(client({ creds: { ...role, secretAccessKey: 'not-the-secret' } }).call('GET', '/items'));
  expect([e.status, e.errorType, e.kind]).toEqual([403, 'InvalidSignatureException', 'SIGV4']);
});

test('a clock 6 minutes behind → 403 Signature expired', async () => {
  const e = await failure(client({ now: () => new Date(Date.now() - 6 * 60_000) }).call('GET', '/items'));
  expect([e.status, e.errorType, e.kind]).toEqual([403, 'InvalidSignatureException', 'SIGV4']);
  expect(said(e)).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/);
});

test('temporary credentials without their session token → a SigV4 failure, not a policy one', async () => {
  const { sessionToken: _t, ...noToken } = role;
  const e = await failure(client({ creds: noToken }).call('GET', '/items'));
  expect(e.status).toBe(403);
  expect(e.kind).toBe('SIGV4');
});

test('through another endpoint → 403 AccessDeniedException with an explicit deny (the aws:sourceVpce statement)', async () => {
  const e = await failure(client({ vpce: 'vpce-0bbbbbbbbbbbbbbbb' }).call('GET', '/items'));
  expect([e.status, e.errorType, e.kind]).toEqual([403, 'AccessDeniedException', 'POLICY']);
  expect(said(e)).toBe(
    // Accounts masked to their last four digits, as API Gateway does.
    'User: arn:aws:iam::********1111:role/orders-caller is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********2222:a1b2c3d4e5/prod/GET/items with an explicit deny',
  );
});

test('no endpoint at all (not over PrivateLink) → explicit deny', async () => {
  const e = await failure(client({ vpce: undefined }).call('GET', '/items'));
  expect([e.status, e.errorType]).toEqual([403, 'AccessDeniedException']);
  expect(said(e)).toMatch(/with an explicit deny$/);
});

test('a role the policy does not name → 403 AccessDeniedException, implicit deny', async () => {
  const e = await failure(client({ creds: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'other' } }).call('GET', '/items'));
  expect([e.status, e.errorType, e.kind]).toEqual([403, 'AccessDeniedException', 'POLICY']);
  expect(said(e)).toBe('User: arn:aws:iam::********1111:role/someone-else is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********2222:a1b2c3d4e5/prod/GET/items');
});

test('a route without a method, or another stage → 403 Missing Authentication Token', async () => {
  for (const [c, path] of [
    [client(), '/orders'],
    [new PrivateApiClient({ apiUrl: `http://127.0.0.1:${port}/dev`, region: 'us-east-1', maxAttempts: 1 }, { fetch, now: () => new Date(), credentials: () => role, sleep: async () => {}, random: () => 0 }), '/items'],
  ] as const) {
    const e = await failure(c.call('DELETE', path));
    expect([e.status, e.errorType, said(e)]).toEqual([403, 'MissingAuthenticationTokenException', 'Missing Authentication Token']);
  }
});

describe('requests signed by an independent SigV4 implementation (aws4) through a real HTTP client', () => {
  const send = async (method: string, path: string, body: string | undefined, creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) => {
    const signed = aws4.sign(
      { host: `127.0.0.1:${port}`, path, method, service: 'execute-api', region: 'us-east-1', ...(body !== undefined && { body }), headers: { 'content-type': 'application/json', 'x-amzn-vpce-id': VPCE } },
      creds,
    );
    return fetch(`http://127.0.0.1:${port}${signed.path}`, { method, headers: signed.headers as Record<string, string>, ...(body !== undefined && { body }) });
  };

  it('accepts query strings (unsorted, repeated, encoded) and URL-encoded path parameters', async () => {
    for (const [method, path] of [
      ['GET', '/prod/items?z=1&a=2&a=1&q=a%2Fb%20c'],
      ['GET', '/prod/items/a%20b'],
      ['GET', '/prod/items/%C3%A9t%C3%A9?x=%E2%9C%93'],
      ['POST', '/prod/items?dry=true'],
    ] as const) {
      const res = await send(method, path, method === 'POST' ? '{"sku":"a"}' : undefined, role);
      expect([path, res.status]).toEqual([path, 200]);
    }
  });

  it('still refuses an aws4 request with the wrong secret or through no allowed endpoint', async () => {
    const bad = await send('GET', '/prod/items', undefined, { ...role, secretAccessKey: 'nope' });
    expect([bad.status, bad.headers.get('x-amzn-errortype')]).toEqual([403, 'InvalidSignatureException']);
    const other = await send('GET', '/prod/items', undefined, { accessKeyId: 'AKIDOTHER', secretAccessKey: 'other' });
    expect([other.status, other.headers.get('x-amzn-errortype')]).toEqual([403, 'AccessDeniedException']);
  });
});

test('the static first pass (no IDs) is refused with a clear reason', () => {
  const { provider } = renderObjects(example, {});
  expect(() => configFromManifests(provider)).toThrow(/names no API ID yet: these manifests are a fail-closed first pass/);
});
