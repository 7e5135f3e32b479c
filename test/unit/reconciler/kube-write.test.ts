// ConnectedKubeConfig.write, the operator's JSON write path, against a loopback HTTP server that
// records what it got: the path, query, headers and body sent; the answer parsed; a refusal
// thrown with its status and the server's message; nothing sent by a replica without the lease.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { ConnectedKubeConfig, NotLeaderError, errText, httpStatus, resourcePath } from '../../../src/reconciler/kube.js';

interface Got {
  method?: string;
  url?: string;
  contentType?: string;
  authorization?: string;
  body: string;
}

let server: Server;
const got: Got[] = [];
/** The status and body the server answers with next. */
let reply: { status: number; body: string } = { status: 200, body: '{}' };

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      got.push({ method: req.method, url: req.url, contentType: req.headers['content-type'], authorization: req.headers.authorization, body });
      res.writeHead(reply.status, { 'Content-Type': 'application/json' });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  got.length = 0;
  reply = { status: 200, body: '{}' };
});

function kubeConfig(writeGate?: () => boolean, prefix = ''): ConnectedKubeConfig {
  const base = new KubeConfig();
  const { port } = server.address() as AddressInfo;
  base.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}${prefix}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return ConnectedKubeConfig.from(base, 10_000, writeGate);
}

describe('resourcePath', () => {
  it('names core and group resources, an object and its subresource', () => {
    expect(resourcePath({ group: '', version: 'v1', plural: 'events' }, 'team-a')).toBe('/api/v1/namespaces/team-a/events');
    const crs = { group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis' };
    expect(resourcePath(crs, 'team-a', 'orders')).toBe('/apis/xapi.dev/v1alpha1/namespaces/team-a/crossaccountapis/orders');
    expect(resourcePath(crs, 'team-a', 'orders', 'status')).toBe('/apis/xapi.dev/v1alpha1/namespaces/team-a/crossaccountapis/orders/status');
  });
});

describe('ConnectedKubeConfig.write', () => {
  it('sends the body as JSON with its content type, query and credentials, and parses the answer', async () => {
    reply = { status: 200, body: JSON.stringify({ kind: 'RestAPI', metadata: { name: 'orders', resourceVersion: '42' } }) };
    const kc = kubeConfig();
    const body = { apiVersion: 'apigateway.services.k8s.aws/v1alpha1', kind: 'RestAPI', metadata: { name: 'orders' }, spec: { policy: '{"Version":"2012-10-17"}' } };
    const res = await kc.write<{ metadata: { resourceVersion: string } }>({
      method: 'PATCH',
      path: '/apis/apigateway.services.k8s.aws/v1alpha1/namespaces/b/restapis/orders',
      query: { fieldManager: 'xapi', force: 'true' },
      body,
      contentType: 'application/apply-patch+yaml',
    });
    expect(res.metadata.resourceVersion).toBe('42');
    expect(got).toHaveLength(1);
    expect(got[0]).toEqual({
      method: 'PATCH',
      url: '/apis/apigateway.services.k8s.aws/v1alpha1/namespaces/b/restapis/orders?fieldManager=xapi&force=true',
      contentType: 'application/apply-patch+yaml',
      authorization: 'Bearer secret-token',
      body: JSON.stringify(body),
    });
    kc.close();
  });

  it('keeps a path prefix of the server URL (an API server behind a proxy path)', async () => {
    const kc = kubeConfig(undefined, '/k8s/clusters/c-1/');
    await kc.write({ method: 'POST', path: '/api/v1/namespaces/a/events', body: { kind: 'Event' }, contentType: 'application/json' });
    expect(got[0]?.url).toBe('/k8s/clusters/c-1/api/v1/namespaces/a/events');
    kc.close();
  });

  it("throws the server's refusal with its status and message, as client-node's clients do", async () => {
    reply = { status: 409, body: JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Conflict', message: 'the object has been modified', code: 409 }) };
    const kc = kubeConfig();
    const err = await kc.write({ method: 'PATCH', path: '/apis/g/v1/namespaces/a/things/x', body: [], contentType: 'application/json-patch+json' }).catch((e: unknown) => e);
    expect(httpStatus(err)).toBe(409);
    expect(errText(err)).toBe('HTTP 409: the object has been modified');
    kc.close();
  });

  it('sends nothing while the write gate says no (a replica without the lease)', async () => {
    const kc = kubeConfig(() => false);
    await expect(kc.write({ method: 'POST', path: '/api/v1/namespaces/a/events', body: {}, contentType: 'application/json' })).rejects.toBeInstanceOf(NotLeaderError);
    expect(got).toHaveLength(0);
    kc.close();
  });
});
