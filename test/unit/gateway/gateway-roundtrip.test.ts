import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { loadManifests } from '../../../src/cli/load-manifests.js';
import { configFromManifests, createGateway } from '../../../src/gateway/server.js';
import { PrivateApiClient, ApiCallError, type Credentials } from '../../../lambda/src/client.js';
import { failure } from './failure.js';

const ROLE = 'arn:aws:iam::111111111111:role/orders-caller';
const VPCE = 'vpce-0123456789abcdef0';
let server: Server;
let port: number;

beforeAll(async () => {
  const objects = (await loadManifests('test/fixtures/gateway')).map((l) => l.object);
  server = createGateway(configFromManifests(objects), [
    { accessKeyId: 'AKIDROLE', secretAccessKey: 's1', sessionToken: 't1', arn: ROLE },
    { accessKeyId: 'AKIDOTHER', secretAccessKey: 's2', arn: 'arn:aws:iam::111111111111:role/other' },
  ], { log: pino({ level: 'silent' }) });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function call(c: Credentials, path: string, vpce: string | undefined = VPCE) {
  const withVpce: typeof fetch = (url, init) =>
    fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...(vpce ? { 'x-amzn-vpce-id': vpce } : {}) } });
  return new PrivateApiClient(
    { apiUrl: `http://127.0.0.1:${port}/prod`, region: 'us-east-1', maxAttempts: 1 },
    { fetch: withVpce, now: () => new Date(), credentials: () => c, sleep: async () => {}, random: () => 0 },
  ).call('GET', path);
}
const role = { accessKeyId: 'AKIDROLE', secretAccessKey: 's1', sessionToken: 't1' };

test('handler → gateway (manifests, SigV4, resource policy) → 200 MOCK', async () => {
  const res = await call(role, '/items/42');
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body).route).toBe('GET /items/{id}');
});

test('wrong endpoint header → AccessDeniedException with explicit deny (POLICY)', async () => {
  const e = await failure(call(role, '/items/42', 'vpce-0ffffffffffffffff'));
  expect([e.status, e.errorType, e.kind]).toEqual([403, 'AccessDeniedException', 'POLICY']);
  expect(e.message).toMatch(/is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:\*{8}2222:abc123\/prod\/GET\/items\/42 with an explicit deny/);
});

test('role not in the policy → AccessDeniedException (implicit deny)', async () => {
  const e = await failure(call({ accessKeyId: 'AKIDOTHER', secretAccessKey: 's2' }, '/items/42'));
  expect([e.status, e.errorType, e.kind]).toEqual([403, 'AccessDeniedException', 'POLICY']);
  expect(e.message).not.toMatch(/explicit deny/);
});

test('route without a method → MissingAuthenticationTokenException', async () => {
  const e = await failure(call(role, '/orders/1'));
  expect([e.status, e.errorType]).toEqual([403, 'MissingAuthenticationTokenException']);
});

test('missing token for temporary credentials → SIGV4 failure, not a policy one', async () => {
  const e = await failure(call({ accessKeyId: 'AKIDROLE', secretAccessKey: 's1' }, '/items/42'));
  // AWS Knowledge Center, "How do I troubleshoot HTTP 403 errors from API Gateway?": invalid IAM keys
  // → AccessDeniedException "The security token included in the request is invalid."
  expect([e.errorType, e.kind, e.message]).toEqual(['AccessDeniedException', 'SIGV4', '403 AccessDeniedException: The security token included in the request is invalid.']);
});
