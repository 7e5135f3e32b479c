import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import aws4 from 'aws4';
import { verifySigV4, type CredentialEntry } from '../../../src/gateway/sigv4.js';
import { PrivateApiClient, ApiCallError, type Credentials } from '../../../lambda/src/client.js';
import { failure } from './failure.js';

const REGION = 'us-east-1';
const creds: CredentialEntry[] = [
  { accessKeyId: 'AKIDTEMP', secretAccessKey: 'secret-temp', sessionToken: 'token-1', arn: 'arn:aws:sts::111111111111:assumed-role/orders-caller/fn' },
  { accessKeyId: 'AKIDLONG', secretAccessKey: 'secret-long', arn: 'arn:aws:iam::111111111111:user/dev' },
];

let server: Server;
let port: number;
let serverNow = () => new Date();

beforeAll(async () => {
  // A real HTTP server that answers like API Gateway's default gateway responses.
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
      const r = verifySigV4(
        { method: req.method ?? 'GET', target: req.url ?? '/', headers, body: Buffer.concat(chunks) },
        { region: REGION, credentials: creds, now: serverNow() },
      );
      if (!r.ok) {
        res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-ErrorType': r.errorType });
        res.end(JSON.stringify({ message: r.message }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, path: req.url }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
afterEach(() => (serverNow = () => new Date()));

function client(c: Credentials, now = () => new Date(), fetchImpl: typeof fetch = fetch) {
  return new PrivateApiClient(
    { apiUrl: `http://127.0.0.1:${port}/prod`, region: REGION, maxAttempts: 3, baseDelayMs: 1 },
    { fetch: fetchImpl, now, credentials: () => c, sleep: async () => {}, random: () => 0.5 },
  );
}
const temp = { accessKeyId: 'AKIDTEMP', secretAccessKey: 'secret-temp', sessionToken: 'token-1' };


test('handler signer → verifier → 200, with body, query and encoded path', async () => {
  const res = await client(temp).call('POST', '/items/a%20b', JSON.stringify({ n: 1 }), { q: 'x y', a: '1' });
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body).path).toBe('/prod/items/a%20b?q=x+y&a=1');
});

test('tampered body → InvalidSignatureException (SIGV4, not POLICY)', async () => {
  const tamper: typeof fetch = (url, init) => fetch(url, { ...init, body: '{"n":2}' });
  const e = await failure(client(temp, undefined, tamper).call('POST', '/items', '{"n":1}'));
  expect(e.status).toBe(403);
  expect(e.errorType).toBe('InvalidSignatureException');
  expect(e.kind).toBe('SIGV4');
  expect(e.message).toMatch(/signature we calculated does not match/);
  expect(e.attempts).toBe(1); // 403 is never retried
});

test('wrong secret → InvalidSignatureException', async () => {
  const e = await failure(client({ ...temp, secretAccessKey: 'wrong' }).call('GET', '/items/1'));
  expect([e.errorType, e.kind]).toEqual(['InvalidSignatureException', 'SIGV4']);
});

test('date 6 minutes old → Signature expired', async () => {
  const e = await failure(client(temp, () => new Date(Date.now() - 6 * 60 * 1000)).call('GET', '/items/1'));
  expect(e.errorType).toBe('InvalidSignatureException');
  expect(e.message).toMatch(/Signature expired/);
  expect(e.kind).toBe('SIGV4');
});

// AWS Knowledge Center, "How do I troubleshoot HTTP 403 errors from API Gateway?": keys that are not
// valid → x-amzn-errortype AccessDeniedException, "The security token included in the request is invalid."
test('missing session token for temporary credentials → AccessDeniedException, the security token is invalid', async () => {
  const e = await failure(client({ accessKeyId: 'AKIDTEMP', secretAccessKey: 'secret-temp' }).call('GET', '/items/1'));
  expect(e.errorType).toBe('AccessDeniedException');
  expect(e.message).toMatch(/security token included in the request is invalid/);
  expect(e.kind).toBe('SIGV4');
});

test('no Authorization → MissingAuthenticationTokenException', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/prod/items/1`);
  expect(res.status).toBe(403);
  expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
  expect(await res.json()).toEqual({ message: 'Missing Authentication Token' });
});

test('aws4 (independent SigV4 implementation) is accepted: query strings and encoded paths', async () => {
  for (const path of ['/prod/items/a%20b?z=1&a=x%2Fy&b=', '/prod/items/plain', '/prod/items/%C3%A9t%C3%A9?q=%E2%9C%93']) {
    const opts = aws4.sign(
      { host: `127.0.0.1:${port}`, path, method: 'POST', body: '{"k":"v"}', service: 'execute-api', region: REGION,
        headers: { 'content-type': 'application/json' } },
      { accessKeyId: 'AKIDLONG', secretAccessKey: 'secret-long' },
    );
    const res = await fetch(`http://127.0.0.1:${port}${opts.path}`, {
      method: 'POST', body: '{"k":"v"}', headers: opts.headers as Record<string, string>,
    });
    expect([path, res.status, await res.text()]).toEqual([path, 200, expect.any(String)]);
  }
});

test('5xx and 429 are retried with backoff; gives up after maxAttempts', async () => {
  let calls = 0;
  const flaky: typeof fetch = async () => {
    calls++;
    return calls < 3
      ? new Response('{"message":"Too Many Requests"}', { status: 429, headers: { 'x-amzn-ErrorType': 'TooManyRequestsException' } })
      : new Response('{}', { status: 200 });
  };
  const res = await client(temp, undefined, flaky).call('GET', '/items/1');
  expect([res.status, res.attempts]).toEqual([200, 3]);
  calls = -10;
  const e = await failure(client(temp, undefined, async () => { calls++; return new Response('{"message":"Internal server error"}', { status: 502 }); }).call('GET', '/x'));
  expect([e.kind, e.attempts]).toEqual(['SERVER', 3]);
});

test('the client signs with the credentials of the moment: a rotated key is used at once (signer not stale)', async () => {
  let current: Credentials = temp;
  const c = new PrivateApiClient(
    { apiUrl: `http://127.0.0.1:${port}/prod`, region: REGION, maxAttempts: 1 },
    { fetch, now: () => new Date(), credentials: () => current, sleep: async () => {}, random: () => 0 },
  );
  expect((await c.call('GET', '/items/1')).status).toBe(200);
  current = { accessKeyId: 'AKIDLONG', secretAccessKey: 'secret-long' };
  expect((await c.call('GET', '/items/1')).status).toBe(200);
  current = { ...temp, secretAccessKey: 'rotated-away' };
  const e = await failure(c.call('GET', '/items/1'));
  expect(e.errorType).toBe('InvalidSignatureException');
});
