// The operator's HTTP transport (kube.ts) against a loopback HTTP server that answers chunked, as
// the API server does, and can cut an answer short: answers arrive whole over reused
// connections; a cut read or server-side apply is sent again, any other write is not.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { ConnectedKubeConfig, CUT_ANSWER_ATTEMPTS, MAX_CONNECTIONS_PER_SERVER } from '../../../src/reconciler/kube.js';

let server: Server;
let cuts = 0;
/** Only answers to this method are cut (any when unset). */
let cutMethod: string | undefined;
/** How long the server waits before it answers. */
let delayMs = 0;
const seen: string[] = [];

/** Answers chunked; while `cuts` > 0 it sends half of the body and drops the connection. */
function answer(req: IncomingMessage, res: ServerResponse): void {
  seen.push(`${req.method} ${req.url}`);
  req.resume();
  req.on('end', () => setTimeout(() => {
    const padding = 'x'.repeat(20_000); // long enough to be sent in pieces
    const body =
      req.url === '/api/v1'
        ? JSON.stringify({ kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'namespaces', namespaced: false, kind: 'Namespace', verbs: ['get', 'patch'], singularName: 'namespace' }], padding })
        : JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', resourceVersion: '7' }, padding });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    if (cuts > 0 && (!cutMethod || cutMethod === req.method)) {
      cuts -= 1;
      res.write(body.slice(0, 10_000));
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    res.write(body.slice(0, 10_000));
    res.end(body.slice(10_000));
  }, delayMs));
}

function kubeConfig(): ConnectedKubeConfig {
  const base = new KubeConfig();
  const { port } = server.address() as AddressInfo;
  base.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return ConnectedKubeConfig.from(base, 10_000);
}

beforeAll(async () => {
  server = createServer(answer);
  server.on('connection', (socket) => {
    connections += 1;
    open += 1;
    mostOpen = Math.max(mostOpen, open);
    socket.on('close', () => (open -= 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  seen.length = 0;
  cuts = 0;
  cutMethod = undefined;
  delayMs = 0;
});

let connections = 0;
let open = 0;
let mostOpen = 0;

describe('whole answers', () => {
  it('20 chunked answers in a row arrive whole over reused connections', async () => {
    const kc = kubeConfig();
    const api = kc.makeApiClient(CoreV1Api);
    const before = connections;
    for (let i = 0; i < 20; i++) expect((await api.readNamespace({ name: 'team-a' })).metadata?.resourceVersion).toBe('7');
    expect(seen).toHaveLength(20);
    // undici opens a second connection once early on (it does so with a bare undici Agent too); then reuses it
    expect(connections - before).toBeLessThanOrEqual(2);
    kc.close();
  });
});

describe('a burst of requests', () => {
  it(`60 slow requests at once share at most ${MAX_CONNECTIONS_PER_SERVER} connections, and all are answered`, async () => {
    const kc = kubeConfig();
    const api = kc.makeApiClient(CoreV1Api);
    delayMs = 100;
    mostOpen = open;
    const answers = await Promise.all(Array.from({ length: 60 }, () => api.readNamespace({ name: 'team-a' })));
    expect(answers.every((ns) => ns.metadata?.resourceVersion === '7')).toBe(true);
    expect(seen).toHaveLength(60);
    // Without the bound, undici opens one connection per waiting request (60 here).
    expect(mostOpen).toBeGreaterThan(1);
    expect(mostOpen).toBeLessThanOrEqual(MAX_CONNECTIONS_PER_SERVER);
    kc.close();
  });
});

describe('a cut answer', () => {
  it('a read is sent again and returns the whole answer', async () => {
    const kc = kubeConfig();
    cuts = CUT_ANSWER_ATTEMPTS - 1;
    const ns = await kc.makeApiClient(CoreV1Api).readNamespace({ name: 'team-a' });
    expect(ns.metadata?.resourceVersion).toBe('7');
    expect(seen).toEqual(Array(CUT_ANSWER_ATTEMPTS).fill('GET /api/v1/namespaces/team-a'));
    kc.close();
  });

  it('a read cut every time fails after the last attempt, naming the cause', async () => {
    const kc = kubeConfig();
    cuts = CUT_ANSWER_ATTEMPTS;
    await expect(kc.makeApiClient(CoreV1Api).readNamespace({ name: 'team-a' })).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(seen).toHaveLength(CUT_ANSWER_ATTEMPTS);
    kc.close();
  });

  it('a server-side apply is sent again (the same apply twice is the same state)', async () => {
    const kc = kubeConfig();
    cuts = 1;
    cutMethod = 'PATCH';
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const applied = await objects.patch({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } }, undefined, undefined, 'xapi', true, PatchStrategy.ServerSideApply);
    expect(applied.metadata?.name).toBe('team-a');
    expect(seen).toEqual(['GET /api/v1', 'PATCH /api/v1/namespaces/team-a?fieldManager=xapi&force=true', 'PATCH /api/v1/namespaces/team-a?fieldManager=xapi&force=true']);
    kc.close();
  });

  it('any other write is not sent again: the first may have landed', async () => {
    const kc = kubeConfig();
    cuts = 1;
    await expect(kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'team-a' } } })).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(seen).toEqual(['POST /api/v1/namespaces']);
    kc.close();
  });
});
