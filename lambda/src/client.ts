// Core of the caller: signs with @smithy/signature-v4 and calls the private API.
// Everything with side effects (fetch, clock, credentials, sleep, random) is injectable for tests.
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
// Node's own crypto for SHA-256/HMAC, as the AWS SDK for JavaScript does in Node (its Hash class).
import { Hash } from '@smithy/core/serde';

const Sha256 = Hash.bind(null, 'sha256');

type DeriveKey = (credentials: Credentials, region: string, shortDate: string, service?: string) => Promise<Uint8Array>;

/**
 * Keeps the signing key a signer derived for a day, region and service. SignatureV4 has a key cache
 * of its own, but finds its entry through HMAC(secret, access key id) on every request: one HMAC in
 * four per signature. Our signer holds one set of credentials for its life (see signerFor), so the
 * day, region and service name the key. It wraps the signer's own derivation (a method TypeScript
 * marks private, hence the cast); if a later version renames it, signing is unchanged, only slower
 * (the signing unit test checks the key is reused).
 */
export function reuseSigningKey(signer: SignatureV4): SignatureV4 {
  const target = signer as unknown as { getSigningKey?: DeriveKey };
  const derive = target.getSigningKey;
  if (typeof derive !== 'function') return signer;
  let last: { credentials: Credentials; scope: string; key: Promise<Uint8Array> } | undefined;
  target.getSigningKey = (credentials, region, shortDate, service) => {
    const scope = `${shortDate}/${region}/${service}`;
    if (last?.credentials !== credentials || last.scope !== scope) {
      const key = derive.call(signer, credentials, region, shortDate, service);
      last = { credentials, scope, key };
      key.catch(() => { if (last?.key === key) last = undefined; }); // a failed derivation is not kept
    }
    return last.key;
  };
  return signer;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface ClientDeps {
  fetch: typeof fetch;
  now: () => Date;
  credentials: () => Promise<Credentials> | Credentials;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

export interface ClientConfig {
  apiUrl: string;
  region?: string;
  timeoutMs?: number;
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** Which layer refused: SigV4 (signature, clock, token) versus a policy (resource or endpoint). */
export type FailureKind = 'SIGV4' | 'POLICY' | 'THROTTLED' | 'SERVER' | 'TIMEOUT' | 'OTHER';

export class ApiCallError extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
    readonly status: number | undefined,
    readonly errorType: string | undefined,
    readonly attempts: number,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

const SIGV4_TYPES = [
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'ExpiredTokenException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
];

/** Classify by x-amzn-ErrorType and the message: API Gateway answers 403 for both SigV4 and policy failures. */
export function classify(status: number, errorType: string | undefined, message: string): FailureKind {
  const type = (errorType ?? '').split(':')[0]!.trim();
  if (status === 429 || /Throttl|TooManyRequests|LimitExceeded/i.test(type)) return 'THROTTLED';
  if (status >= 500) return 'SERVER';
  if (SIGV4_TYPES.includes(type)) return 'SIGV4';
  if (/signature|Signature expired|security token|Missing Authentication Token/i.test(message)) return 'SIGV4';
  if (type === 'AccessDeniedException' || /not authorized to access this resource|explicit deny/i.test(message))
    return 'POLICY';
  return 'OTHER';
}

/** Region from the URL host: {api}[-{vpce}].execute-api.{region}.amazonaws.com. */
export function regionFromUrl(url: URL): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname)?.[1];
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  attempts: number;
}

export class PrivateApiClient {
  private readonly base: URL;
  private readonly region: string;

  constructor(
    private readonly config: ClientConfig,
    private readonly deps: ClientDeps,
  ) {
    this.base = new URL(config.apiUrl);
    const region = config.region ?? regionFromUrl(this.base);
    if (!region) throw new Error(`no region: set AWS_REGION or use an execute-api URL (got ${config.apiUrl})`);
    this.region = region;
  }

  private signer?: { credentials: Credentials; signer: SignatureV4 };

  /** One signer per set of credentials: a Lambda's stay the same for the life of its container. */
  private signerFor(credentials: Credentials): SignatureV4 {
    const c = this.signer?.credentials;
    if (this.signer && c && c.accessKeyId === credentials.accessKeyId && c.secretAccessKey === credentials.secretAccessKey && c.sessionToken === credentials.sessionToken) {
      return this.signer.signer;
    }
    // execute-api needs no x-amz-content-sha256 header (an S3 convention); the payload hash is signed all the same.
    const signer = reuseSigningKey(new SignatureV4({ service: 'execute-api', region: this.region, credentials: { ...credentials }, sha256: Sha256, applyChecksum: false }));
    this.signer = { credentials: { ...credentials }, signer };
    return signer;
  }

  async sign(method: string, path: string, body?: string, query: Record<string, string> = {}): Promise<HttpRequest> {
    const basePath = this.base.pathname.replace(/\/$/, '');
    const headers: Record<string, string> = { host: this.base.host };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const request = new HttpRequest({
      method,
      protocol: this.base.protocol,
      hostname: this.base.hostname,
      port: this.base.port ? Number(this.base.port) : undefined,
      path: basePath + path,
      query,
      headers,
      body,
    });
    // Region and service given here spare the signer resolving its own providers on every request.
    const options = { signingDate: this.deps.now(), signingRegion: this.region, signingService: 'execute-api' };
    return (await this.signerFor(await this.deps.credentials()).sign(request, options)) as HttpRequest;
  }

  async call(method: string, path: string, body?: string, query: Record<string, string> = {}): Promise<ApiResponse> {
    const maxAttempts = this.config.maxAttempts ?? 3;
    const base = this.config.baseDelayMs ?? 100;
    const cap = this.config.maxDelayMs ?? 2000;
    for (let attempt = 1; ; attempt++) {
      // Re-sign each attempt so X-Amz-Date stays inside the ±5 min window.
      const signed = await this.sign(method, path, body, query);
      const qs = new URLSearchParams(query).toString();
      const url = `${this.base.protocol}//${this.base.host}${signed.path}${qs ? `?${qs}` : ''}`;
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), this.config.timeoutMs ?? 5000);
      let kind: FailureKind;
      let error: ApiCallError;
      try {
        const res = await this.deps.fetch(url, {
          method,
          headers: signed.headers,
          body: body ?? null,
          signal: controller.signal,
        });
        const text = await res.text();
        const headers: Record<string, string> = {};
        res.headers.forEach((v, k) => (headers[k] = v));
        if (res.ok) return { status: res.status, headers, body: text, attempts: attempt };
        let message = text;
        try {
          const parsed = JSON.parse(text) as { message?: string; Message?: string };
          message = parsed.message ?? parsed.Message ?? text;
        } catch {
          /* body not JSON: keep raw text */
        }
        const errorType = headers['x-amzn-errortype'];
        kind = classify(res.status, errorType, message);
        error = new ApiCallError(`${res.status} ${errorType ?? ''}: ${message}`, kind, res.status, errorType, attempt);
      } catch (e) {
        if (e instanceof ApiCallError) throw e;
        const aborted = controller.signal.aborted;
        kind = aborted ? 'TIMEOUT' : 'OTHER';
        error = new ApiCallError(aborted ? 'request timed out' : String(e), kind, undefined, undefined, attempt);
      } finally {
        clearTimeout(timer);
      }
      const retryable = kind === 'SERVER' || kind === 'THROTTLED';
      if (!retryable || attempt >= maxAttempts) throw error;
      // Full jitter: uniform in [0, min(cap, base * 2^attempt)).
      await this.deps.sleep(this.deps.random() * Math.min(cap, base * 2 ** attempt));
    }
  }
}

export function envCredentials(env: NodeJS.ProcessEnv = process.env): Credentials {
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = env;
  if (!AWS_ACCESS_KEY_ID || !AWS_SECRET_ACCESS_KEY) throw new Error('AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY not set');
  return { accessKeyId: AWS_ACCESS_KEY_ID, secretAccessKey: AWS_SECRET_ACCESS_KEY, sessionToken: AWS_SESSION_TOKEN };
}
