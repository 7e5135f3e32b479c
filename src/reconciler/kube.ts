// Connections to one API server: every request reuses keep-alive TLS connections (a new TLS
// handshake per request cost most of the operator's CPU) and carries a timeout (a request to a
// server that stopped answering must fail, not hold a worker forever).
//
// Requests go through undici, not client-node's node-fetch: node-fetch 2.7 reports a complete
// chunked answer on a reused keep-alive connection as "Premature close" on some Node versions
// (Debian's 20.19.2, which the operator image runs, for every such answer; 20.20.2 never), so
// reads, applies and status writes failed and their CRs waited out retry backoffs. Watches keep
// client-node's Watch with a connection of their own each (keep-alive brings a long stream nothing).
import { createSecureContext, type ConnectionOptions } from 'node:tls';
import {
  ApiException,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  RequestContext,
  ResponseContext,
  ServerConfiguration,
  createConfiguration,
  wrapHttpLibrary,
} from '@kubernetes/client-node';
import { Agent as Dispatcher, request } from 'undici';

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * How long an idle connection of the pool stays open. The API server closes a connection idle for
 * 90 s (its http.Server IdleTimeout); closing ours first means a request never goes out on a
 * connection the server is closing. At 30 s, a burst of rotations after a minute of quiet opened
 * the pool's connections again (TLS handshakes on both sides) while its writes waited for them.
 */
export const IDLE_CONNECTION_MS = 75_000;

/**
 * Connections open at once to one API server; more requests wait for a free one. Unbounded, a
 * burst (100 endpoints rotated at once) opened a TLS connection per request: 100 concurrent
 * patches took p50 166 ms and 163 ms of client CPU from a cold pool, against 64–98 ms and 76 ms
 * with 16 (a loopback API server on 2 busy cores); the server pays each handshake too.
 */
export const MAX_CONNECTIONS_PER_SERVER = 16;

/** Sends of one request whose answer was cut (the first included). */
export const CUT_ANSWER_ATTEMPTS = 3;

/**
 * Requests that may be sent again when their answer was cut: reads, and server-side apply (the
 * same apply twice is the same state). Other writes are not repeated: the first may have landed.
 */
function repeatable(context: RequestContext): boolean {
  const method = String(context.getHttpMethod());
  if (method === 'GET' || method === 'HEAD') return true;
  return method === 'PATCH' && (context.getHeaders()['Content-Type'] ?? '').startsWith('application/apply-patch');
}

/** The connection closed while the answer was on its way (a server restart, a proxy). */
function isCutAnswer(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'UND_ERR_CLOSED';
}

/** A write sent as JSON text, its answer read as JSON. */
export interface JsonWrite {
  method: 'PATCH' | 'POST';
  /** From the server's root, e.g. /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}. */
  path: string;
  query?: Record<string, string>;
  body: unknown;
  contentType: string;
}

/** The REST path of a namespaced resource, or of one object of it (and a subresource); group '' is the core group. */
export function resourcePath(r: { group: string; version: string; plural: string }, namespace: string, name?: string, subresource?: string): string {
  const root = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const parts = [root, 'namespaces', namespace, r.plural, name, name && subresource].filter((p): p is string => !!p);
  return parts.map((p, i) => (i === 0 ? p : encodeURIComponent(p))).join('/');
}

/** A KubeConfig whose API clients share one keep-alive connection pool and time out. */
export class ConnectedKubeConfig extends KubeConfig {
  private dispatcher: Dispatcher | undefined;

  constructor(
    readonly requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
    /** Writes (anything but GET) are refused while this says no: a replica that is not the leader writes nothing. */
    private readonly writeGate?: () => boolean,
  ) {
    super();
  }

  /** A copy of `kc` (its clusters, users, contexts and current context) with managed connections. */
  static from(kc: KubeConfig, requestTimeoutMs?: number, writeGate?: () => boolean): ConnectedKubeConfig {
    const c = new ConnectedKubeConfig(requestTimeoutMs, writeGate);
    c.loadFromString(kc.exportConfig());
    return c;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    if (this.writeGate && context.getHttpMethod() !== 'GET' && !this.writeGate()) {
      throw new NotLeaderError(`${context.getHttpMethod()} ${context.getUrl()} not sent: this replica does not hold the leader lease`);
    }
    await super.applySecurityAuthentication(context);
    context.setSignal(AbortSignal.timeout(this.requestTimeoutMs) as never);
  }

  /** API clients whose requests go through this config's pool (behind a proxy: client-node's own transport). */
  override makeApiClient<T>(apiClientType: new (config: ReturnType<typeof createConfiguration>) => T): T {
    const cluster = this.getCurrentCluster();
    if (!cluster) throw new Error('No active cluster!');
    const httpApi = cluster.proxyUrl ? undefined : wrapHttpLibrary({ send: (context) => this.send(context) });
    return new apiClientType(
      createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: this }, ...(httpApi && { httpApi }) }),
    );
  }

  /**
   * One write without client-node's typed request and answer handling: the body goes out through
   * JSON.stringify and the answer comes back through JSON.parse. That handling (a walk of every
   * object against its model, both ways) was about a tenth of the operator's CPU in a burst of
   * rotations. Auth, the write gate, the timeout and the pool are every other request's; a refusal
   * throws client-node's ApiException (status and body text), as its API clients do.
   */
  async write<T>(w: JsonWrite): Promise<T> {
    const cluster = this.getCurrentCluster();
    if (!cluster) throw new Error('No active cluster!');
    const url = new URL(cluster.server.replace(/\/+$/, '') + w.path);
    for (const [k, v] of Object.entries(w.query ?? {})) url.searchParams.set(k, v);
    const context = new RequestContext(url.toString(), w.method === 'PATCH' ? HttpMethod.PATCH : HttpMethod.POST);
    context.setHeaderParam('Content-Type', w.contentType);
    context.setHeaderParam('Accept', 'application/json');
    context.setBody(JSON.stringify(w.body));
    await this.applySecurityAuthentication(context);
    const response = cluster.proxyUrl ? await new IsomorphicFetchHttpLibrary().send(context).toPromise() : await this.send(context);
    const text = await response.body.text();
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) throw new ApiException(response.httpStatusCode, `HTTP ${response.httpStatusCode} from ${w.method} ${w.path}`, text, response.headers);
    return JSON.parse(text) as T;
  }

  /** The pool, made on first use with the TLS settings client-node put on the request's agent. */
  private pool(agent: unknown): Dispatcher {
    if (!this.dispatcher) {
      const o: ConnectionOptions = (agent as { options?: ConnectionOptions } | undefined)?.options ?? {};
      const defined = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));
      // One TLS context for every connection: made per connection, parsing the CA and key pair
      // took about a third of a handshake's CPU when a burst opened the pool's connections.
      const secureContext = createSecureContext(defined({ ca: o.ca, cert: o.cert, key: o.key, pfx: o.pfx, passphrase: o.passphrase }));
      const connect = { secureContext, ...defined({ servername: o.servername, rejectUnauthorized: o.rejectUnauthorized }) };
      this.dispatcher = new Dispatcher({ connect, keepAliveTimeout: IDLE_CONNECTION_MS, connections: MAX_CONNECTIONS_PER_SERVER });
    }
    (agent as { destroy?: () => void } | undefined)?.destroy?.();
    return this.dispatcher;
  }

  private async send(context: RequestContext): Promise<ResponseContext> {
    for (let attempt = 1; ; attempt++) {
      try {
        const body = context.getBody();
        const response = await request(context.getUrl(), {
          method: String(context.getHttpMethod()) as 'GET',
          headers: context.getHeaders(),
          ...(typeof body === 'string' && { body }),
          dispatcher: this.pool(context.getAgent()),
          signal: context.getSignal() as AbortSignal | undefined,
        });
        const data = Buffer.from(await response.body.arrayBuffer());
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        return new ResponseContext(response.statusCode, headers, { binary: async () => data, text: async () => data.toString('utf8') });
      } catch (err) {
        if (!isCutAnswer(err) || attempt >= CUT_ANSWER_ATTEMPTS || !repeatable(context)) throw err;
      }
    }
  }

  /** Close the connections (a cluster that is released, or the operator stopping). */
  close(): void {
    void this.dispatcher?.destroy().catch(() => undefined);
    this.dispatcher = undefined;
  }
}

/** A write a replica without the lease tried to send (it was not sent). */
export class NotLeaderError extends Error {}

/** The HTTP status of a client-node error, if the server answered. */
export function httpStatus(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

/** A short, readable text for an error from client-node or the network. */
export function errText(err: unknown): string {
  const e = err as { message?: string; code?: number; body?: unknown; cause?: { code?: string }; name?: string };
  if (typeof e?.code === 'number' && e.body !== undefined) {
    // client-node's ApiException: the Status message says more than its generic text.
    let detail = typeof e.body === 'string' ? e.body : JSON.stringify(e.body);
    try {
      detail = (JSON.parse(detail) as { message?: string }).message ?? detail;
    } catch {
      // not JSON
    }
    return `HTTP ${e.code}: ${detail}`.slice(0, 400);
  }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `request timed out or was aborted (${e.message ?? e.name})`.slice(0, 400);
  const cause = e?.cause?.code ? ` (${e.cause.code})` : '';
  return `${e?.message ?? String(err)}${cause}`.slice(0, 400);
}
