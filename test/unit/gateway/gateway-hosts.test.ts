// Private DNS off: the caller Lambda signs for the host it actually calls — the endpoint-specific
// alias {api-id}-{vpce-id}.execute-api…, or the endpoint's DNS name with x-apigw-api-id — and the
// gateway routes by that host (the endpoint it names is aws:sourceVpce). The requests go to the
// gateway on 127.0.0.1 with the Host header the real name would carry.
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { parse } from 'yaml';
import type { CrossAccountApi } from '../../../src/api/types.js';
import { renderObjects } from '../../../src/charts/render.js';
import { configFromManifests, createGateway, routeHost } from '../../../src/gateway/server.js';
import { PrivateApiClient, regionFromUrl, type Credentials } from '../../../lambda/src/client.js';
import { failure } from './failure.js';

const ROLE = 'arn:aws:iam::111111111111:role/orders-caller';
const VPCE = 'vpce-0123456789abcdef0';
const API = 'a1b2c3d4e5';
const cr = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;
cr.spec.consumer.endpoint = { privateDns: false };
const r = renderObjects(cr, { callerSecurityGroupId: 'sg-0caller000000000001', endpointSecurityGroupId: 'sg-0endpoint0000000002', restApiId: API, rootResourceId: 'rootid0001', allowedEndpointIds: [VPCE] });
const cfg = configFromManifests([...r.consumer, ...r.provider]);
let server: Server;
let port: number;

beforeAll(async () => {
  server = createGateway(cfg, [{ accessKeyId: 'AKIDROLE', secretAccessKey: 's1', sessionToken: 't1', arn: ROLE }], { log: pino({ level: 'silent' }) });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((res) => server.close(() => res())));

/** fetch that sends to the local gateway but keeps the URL's host in the Host header (as DNS would). */
const toGateway: typeof fetch = (input, init) =>
  new Promise((resolve, reject) => {
    const url = new URL(String(input));
    const headers = { ...(init?.headers as Record<string, string>), host: url.host };
    const req = request({ host: '127.0.0.1', port, method: init?.method ?? 'GET', path: url.pathname + url.search, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: h }));
      });
    });
    req.on('error', reject);
    req.end(init?.body ?? undefined);
  });
const creds: Credentials = { accessKeyId: 'AKIDROLE', secretAccessKey: 's1', sessionToken: 't1' };
const client = (apiUrl: string, apiId?: string) =>
  new PrivateApiClient({ apiUrl, ...(apiId && { apiId }), maxAttempts: 1 }, { fetch: toGateway, now: () => new Date(), credentials: () => creds, sleep: async () => {}, random: () => 0 });

test('the rendered RestAPI associates the endpoint, and the gateway reads it', () => {
  expect(cfg.associatedEndpointIds).toEqual([VPCE]);
});

test('endpoint-specific hostname: signed for that host, routed through the endpoint it names → 200', async () => {
  const res = await client(`https://${API}-${VPCE}.execute-api.us-east-1.amazonaws.com/prod`).call('GET', '/items');
  expect(res.status).toBe(200);
});

test("endpoint DNS name with x-apigw-api-id (signed) → 200; the region comes from the vpce name", async () => {
  const url = `https://${VPCE}-abcd1234.execute-api.us-east-1.vpce.amazonaws.com/prod`;
  expect(regionFromUrl(new URL(url))).toBe('us-east-1');
  const signed = await client(url, API).sign('GET', '/prod/items');
  expect(signed.headers['authorization']).toMatch(/SignedHeaders=[^,]*x-apigw-api-id/);
  expect((await client(url, API).call('GET', '/items')).status).toBe(200);
});

test('endpoint DNS name without the header → 403 Forbidden before any signature check', async () => {
  const e = await failure(client(`https://${VPCE}-abcd1234.execute-api.us-east-1.vpce.amazonaws.com/prod`).call('GET', '/items'));
  expect([e.status, e.errorType]).toEqual([403, 'ForbiddenException']);
});

test('an endpoint the API is not associated with: refused (that alias would not exist)', async () => {
  const e = await failure(client(`https://${API}-vpce-0ffffffffffffffff.execute-api.us-east-1.amazonaws.com/prod`).call('GET', '/items'));
  expect([e.status, e.errorType]).toEqual([403, 'ForbiddenException']);
  expect(routeHost(cfg, `${API}-vpce-0ffffffffffffffff.execute-api.us-east-1.amazonaws.com`, undefined)).toEqual({ refused: expect.stringMatching(/not in the RestAPI's vpcEndpointIDs/) });
  expect(routeHost(cfg, '127.0.0.1:8443', undefined)).toEqual({});
});
