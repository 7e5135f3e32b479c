// A minimal JSON client for the local API server. CRDs go through it rather than
// @kubernetes/client-node's typed API, whose model serializer drops keys it does not know in
// nested schemas (the literal `x-kubernetes-validations`, `x-kubernetes-preserve-unknown-fields`).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface Endpoint {
  server: string;
  ca: string;
  token: string;
}

export interface Response {
  status: number;
  body: string;
}

export function apiRequest(ep: Endpoint, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<Response> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL(path, ep.server),
      {
        method,
        ca: ep.ca,
        timeout: timeoutMs,
        headers: {
          authorization: `Bearer ${ep.token}`,
          accept: 'application/json',
          ...(payload !== undefined && { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export function httpGet(url: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { timeout: timeoutMs }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (c: string) => (body += c));
      r.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
