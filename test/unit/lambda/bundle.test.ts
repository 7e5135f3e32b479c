// The shipped artefact, not its sources: lambda/build.mjs bundles the handler and packs it as
// index.mjs (the chart's default handler `index.handler`); the bundle's handler, run with a
// Lambda-like environment, calls the local gateway through a stand-in VPC endpoint that adds the
// x-amzn-vpce-id header, as PrivateLink does.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { parse, stringify } from 'yaml';
import { DEFAULT_FUNCTION_HANDLER } from '../../../src/api/defaults.js';
import type { CrossAccountApi } from '../../../src/api/types.js';
import { renderObjects } from '../../../src/charts/render.js';
import { loadManifests } from '../../../src/cli/load-manifests.js';
import { configFromManifests, createGateway } from '../../../src/gateway/server.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const VPCE = 'vpce-0aaaaaaaaaaaaaaaa';
const ROLE = 'arn:aws:iam::111111111111:role/orders-caller';
const creds = { accessKeyId: 'ASIABUNDLE', secretAccessKey: 'bundle-secret', sessionToken: 'bundle-token' };
type Event = { method?: string; path?: string; body?: unknown };

let build: { stdout: string };
const BUNDLE = join(ROOT, 'lambda/dist/handler.mjs');
const servers: Server[] = [];
let work: string;

/** Listens on a free loopback port and returns it. */
async function listen(s: Server): Promise<number> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
}
/** A stand-in VPC endpoint: forwards to the gateway, adding the endpoint ID header. */
function endpoint(gatewayPort: number, vpce: string): Server {
  return createServer((req, res) => {
    const up = request({ host: '127.0.0.1', port: gatewayPort, method: req.method, path: req.url, headers: { ...req.headers, 'x-amzn-vpce-id': vpce } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
}

let gatewayPort: number;
beforeAll(async () => {
  build = await promisify(execFile)(process.execPath, [join(ROOT, 'lambda/build.mjs')], { cwd: ROOT });
  work = mkdtempSync(join(tmpdir(), 'xapi-bundle-'));
  const example = parse(readFileSync(join(ROOT, 'examples/orders.yaml'), 'utf8')) as CrossAccountApi;
  const { provider } = renderObjects(example, { callerSecurityGroupId: 'sg-1', endpointSecurityGroupId: 'sg-2', restApiId: 'a1b2c3d4e5', rootResourceId: 'r00t', allowedEndpointIds: [VPCE] });
  writeFileSync(join(work, 'b.yaml'), provider.map((o) => stringify(o)).join('---\n'));
  const cfg = configFromManifests((await loadManifests(work)).map((l) => l.object));
  gatewayPort = await listen(createGateway(cfg, [{ ...creds, arn: ROLE }], { log: pino({ level: 'silent' }) }));
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(work, { recursive: true, force: true });
});

/** Runs the bundle's handler in a plain Node process with a Lambda-like environment, as the runtime would. */
async function invoke(vpce: string, env: Record<string, string>, event: Event): Promise<{ statusCode: number; body: string }> {
  const port = await listen(endpoint(gatewayPort, vpce));
  const script = `const { handler } = await import(${JSON.stringify(pathToFileURL(BUNDLE).href)}); process.stdout.write(JSON.stringify(await handler(JSON.parse(process.argv[1]))));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(event)], {
    env: {
      PATH: process.env.PATH,
      XAPI_API_URL: `http://127.0.0.1:${port}/prod`,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      AWS_SESSION_TOKEN: creds.sessionToken,
      ...env,
    },
  });
  return JSON.parse(stdout) as { statusCode: number; body: string };
}

test('the build prints the bundle and package sizes; the package holds index.mjs for the default handler', () => {
  const bundle = /lambda bundle: \S+ (\d+) bytes/.exec(build.stdout);
  const pkg = /lambda package: (\S+) (\d+) bytes, CodeSha256 (\S+)/.exec(build.stdout);
  expect(Number(bundle![1])).toBeGreaterThan(10_000);
  expect(Number(pkg![2])).toBeLessThan(Number(bundle![1])); // compressed
  expect(DEFAULT_FUNCTION_HANDLER).toBe('index.handler');
  const zip = readFileSync(pkg![1]!);
  expect(zip.readUInt32LE(0)).toBe(0x04034b50); // a zip local file header
  expect(zip.subarray(30, 30 + zip.readUInt16LE(26)).toString()).toBe('index.mjs');
});

test('the bundled handler, with the execution role\'s credentials, gets 200 through the allowed endpoint', async () => {
  const res = await invoke(VPCE, {}, { method: 'GET', path: '/items/7' });
  expect(res.statusCode).toBe(200);
  expect(JSON.parse(res.body).route).toBe('GET /items/{id}');
  const post = await invoke(VPCE, {}, { method: 'POST', path: '/items', body: { sku: 'a' } });
  expect(post.statusCode).toBe(200);
});

test('the bundled handler reports a policy denial and a SigV4 failure as different kinds', async () => {
  const other = await invoke('vpce-0bbbbbbbbbbbbbbbb', {}, { method: 'GET', path: '/items' });
  expect(other.statusCode).toBe(403);
  expect(JSON.parse(other.body)).toMatchObject({ kind: 'POLICY', errorType: 'AccessDeniedException' });
  const badKey = await invoke(VPCE, { AWS_SECRET_ACCESS_KEY: 'wrong' }, { method: 'GET', path: '/items' });
  expect(badKey.statusCode).toBe(403);
  expect(JSON.parse(badKey.body)).toMatchObject({ kind: 'SIGV4', errorType: 'InvalidSignatureException' });
});
