// Connections to one API server: every request reuses keep-alive TLS connections (a new TLS
// handshake per request cost most of the operator's CPU) and carries a timeout (a request to a
// server that stopped answering must fail, not hold a worker forever).
import { Agent as HttpsAgent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import type { RequestOptions } from 'node:https';
import {
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  ResponseContext,
  ServerConfiguration,
  createConfiguration,
  wrapHttpLibrary,
  type HttpLibrary,
  type RequestContext,
} from '@kubernetes/client-node';
import type { RequestInit } from 'node-fetch';

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Sends of one request after a premature close (the first included). */
export const PREMATURE_CLOSE_ATTEMPTS = 3;

/**
 * Requests that may be sent again when their answer was cut: reads, and server-side apply (the
 * same apply twice is the same state). Other writes are not repeated: the first may have landed.
 */
function repeatable(context: RequestContext): boolean {
  const method = String(context.getHttpMethod());
  if (method === 'GET' || method === 'HEAD') return true;
  return method === 'PATCH' && (context.getHeaders()['Content-Type'] ?? '').startsWith('application/apply-patch');
}

const isPrematureClose = (err: unknown) => (err as { code?: unknown })?.code === 'ERR_STREAM_PREMATURE_CLOSE';

/**
 * client-node's fetch library, with the body read before the answer is handed on, and a
 * repeatable request sent again when node-fetch reports its answer cut short
 * (ERR_STREAM_PREMATURE_CLOSE). node-fetch 2.7 reports that for complete chunked answers on a
 * reused keep-alive connection on some Node versions (Debian's 20.19.2, which the operator image
 * runs, for every such answer; 20.20.2 never): without this, discovery and list requests failed
 * and their CRs waited out retry backoffs (docs/image.md).
 */
export function bufferedHttpLibrary(inner: HttpLibrary = new IsomorphicFetchHttpLibrary(), attempts = PREMATURE_CLOSE_ATTEMPTS): HttpLibrary {
  return wrapHttpLibrary({
    async send(context) {
      for (let attempt = 1; ; attempt++) {
        try {
          const response = await inner.send(context).toPromise();
          const data = await response.body.binary();
          return new ResponseContext(response.httpStatusCode, response.headers, {
            binary: async () => data,
            text: async () => data.toString('utf8'),
          });
        } catch (err) {
          if (!isPrematureClose(err) || attempt >= attempts || !repeatable(context)) throw err;
        }
      }
    },
  });
}

/**
 * A KubeConfig whose requests share one keep-alive agent and time out. client-node builds a new
 * agent (so a new TLS connection) for every request; the first one's options are kept for a
 * shared keep-alive agent. One ConnectedKubeConfig talks to one cluster as one user, so one
 * agent serves it. Watches use the same agent; their deadline is the watch's own (watch.ts).
 */
export class ConnectedKubeConfig extends KubeConfig {
  private agent: HttpsAgent | HttpAgent | undefined;

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

  private shared(fresh: unknown): unknown {
    if (this.getCurrentCluster()?.proxyUrl) return fresh; // proxy agents keep their own behaviour
    if (!this.agent) {
      const options = { ...((fresh as { options?: object } | undefined)?.options ?? {}), keepAlive: true, keepAliveMsecs: 30_000, maxFreeSockets: 16 };
      this.agent = fresh instanceof HttpAgent && !(fresh instanceof HttpsAgent) ? new HttpAgent(options) : new HttpsAgent(options);
    }
    (fresh as { destroy?: () => void } | undefined)?.destroy?.();
    return this.agent;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    if (this.writeGate && context.getHttpMethod() !== 'GET' && !this.writeGate()) {
      throw new NotLeaderError(`${context.getHttpMethod()} ${context.getUrl()} not sent: this replica does not hold the leader lease`);
    }
    await super.applySecurityAuthentication(context);
    context.setAgent(this.shared(context.getAgent()) as HttpsAgent);
    context.setSignal(AbortSignal.timeout(this.requestTimeoutMs) as never);
  }

  override async applyToFetchOptions(opts: RequestOptions): Promise<RequestInit> {
    const init = await super.applyToFetchOptions(opts);
    return { ...init, agent: this.shared(init.agent) as HttpsAgent };
  }

  /** API clients whose requests read their answer whole and repeat a cut read (bufferedHttpLibrary). */
  override makeApiClient<T>(apiClientType: new (config: ReturnType<typeof createConfiguration>) => T): T {
    const cluster = this.getCurrentCluster();
    if (!cluster) throw new Error('No active cluster!');
    return new apiClientType(
      createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: this }, httpApi: bufferedHttpLibrary() }),
    );
  }

  /** Close the connections (a cluster that is released, or the operator stopping). */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
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
