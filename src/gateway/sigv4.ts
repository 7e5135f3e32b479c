// SigV4 verification for execute-api, answering as API Gateway does. Sources for the rules and the
// wording: AWS General Reference / IAM User Guide "Create a signed AWS API request" and
// "Troubleshoot signed requests for AWS APIs" (signature-v4-troubleshooting), "Handling dates in
// Signature Version 4" (sigv4-date-handling), "Authenticating Requests: Using Query Parameters"
// (sigv4-query-string-auth), and API Gateway's answers as users report them. The tests cite the page
// for each case.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface CredentialEntry {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** The ARN the caller signs as: an IAM role or user, or an assumed-role session. */
  arn: string;
}

export interface SigV4Request {
  method: string;
  /** Raw request target as received: path plus optional ?query, still percent-encoded. */
  target: string;
  /** Header names lowercase; a header sent twice has each value in the list (Node's `headersDistinct`). */
  headers: Record<string, string | readonly string[] | undefined>;
  body: Buffer;
}

export type SigV4ErrorType =
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'InvalidSignatureException'
  | 'AccessDeniedException'
  | 'ExpiredTokenException';

/** A SigV4 failure carries API Gateway's x-amzn-ErrorType and message. */
export interface SigV4Failure {
  ok: false;
  errorType: SigV4ErrorType;
  message: string;
}
export type SigV4Result = { ok: true; credential: CredentialEntry } | SigV4Failure;

/** What a request says about its signature, before anything is looked up. */
export interface SigV4Auth {
  ok: true;
  via: 'header' | 'query';
  credential: string;
  signedHeaders: string;
  signature: string;
  /** The date as sent (X-Amz-Date, or the Date header). */
  dateText: string;
  token?: string;
}

export const ALGORITHM = 'AWS4-HMAC-SHA256';
/** SigV4 accepts a request signed at most 5 minutes before or after the server's clock. */
export const MAX_SKEW_MS = 5 * 60 * 1000;
export const MISSING_TOKEN = 'Missing Authentication Token';
export const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
/** API Gateway's answer to an unknown access key or a session token that does not belong to it. */
export const INVALID_TOKEN = 'The security token included in the request is invalid.';

const fail = (errorType: SigV4ErrorType, message: string): SigV4Failure => ({ ok: false, errorType, message });

/** Every value of a header, in the order received. */
function values(headers: SigV4Request['headers'], name: string): string[] {
  const v = headers[name];
  return v === undefined ? [] : typeof v === 'string' ? [v] : [...v];
}

/** RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else %XX uppercase. */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** execute-api (not S3): each segment of the path as sent is URI-encoded once more. */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '' || rawPath === '/') return '/';
  return rawPath
    .split('/')
    .map((seg) => uriEncode(seg))
    .join('/');
}

function queryPairs(rawQuery: string): Array<[string, string]> {
  return rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const i = p.indexOf('=');
      return [safeDecode(i < 0 ? p : p.slice(0, i)), safeDecode(i < 0 ? '' : p.slice(i + 1))];
    });
}

/** Query pairs decoded, re-encoded and sorted; X-Amz-Signature (a presigned URL's) is not part of it. */
export function canonicalQuery(rawQuery: string): string {
  const pairs = queryPairs(rawQuery)
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const);
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/**
 * A header's canonical value: each value trimmed with inner runs of spaces made one, and a header
 * sent several times joined with "," (not ", " as Node joins them).
 */
export function canonicalHeaderValue(headerValues: readonly string[]): string {
  return headerValues.map((v) => v.trim().replace(/\s+/g, ' ')).join(',');
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** "20261125T210000Z" */
export function formatAmzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** X-Amz-Date's ISO 8601 basic format; a Date header may also be an HTTP date. */
function parseRequestDate(s: string, allowHttpDate: boolean): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (m) return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  if (!allowHttpDate) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/**
 * Reads the signature's parts from the Authorization header, or from the query string of a
 * presigned URL (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders,
 * X-Amz-Signature, X-Amz-Security-Token). API Gateway checks this much even for a route that does
 * not exist; what needs a key or a clock is in verifySigV4.
 */
export function parseSigV4(req: Pick<SigV4Request, 'target' | 'headers'>): SigV4Auth | SigV4Failure {
  const authValues = values(req.headers, 'authorization');
  if (authValues.length > 0) return parseAuthorizationHeader(authValues[0]!, req.headers);
  const q = req.target.indexOf('?');
  const params = new Map<string, string>();
  // The first value of a repeated parameter counts.
  for (const [k, v] of queryPairs(q < 0 ? '' : req.target.slice(q + 1))) if (!params.has(k)) params.set(k, v);
  if (!params.has('X-Amz-Algorithm') || params.get('X-Amz-Algorithm') !== ALGORITHM) return fail('MissingAuthenticationTokenException', MISSING_TOKEN);
  const missing = (['X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date'] as const).filter((k) => !params.has(k));
  if (missing.length > 0) {
    return fail('IncompleteSignatureException', `${missing.map((k) => `AWS query-string parameters must include '${k}'.`).join(' ')} Re-examine the query-string parameters.`);
  }
  const token = params.get('X-Amz-Security-Token');
  return {
    ok: true,
    via: 'query',
    credential: params.get('X-Amz-Credential')!,
    signedHeaders: params.get('X-Amz-SignedHeaders')!,
    signature: params.get('X-Amz-Signature')!,
    dateText: params.get('X-Amz-Date')!,
    ...(token !== undefined && { token }),
  };
}

/**
 * "AWS4-HMAC-SHA256 Credential=AK/date/region/service/aws4_request, SignedHeaders=a;b, Signature=hex":
 * the scheme up to the first space, then comma-separated key=value parameters.
 */
function parseAuthorizationHeader(raw: string, headers: SigV4Request['headers']): SigV4Auth | SigV4Failure {
  const header = raw.trim();
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  const params = new Map<string, string>();
  for (const part of (space < 0 ? '' : header.slice(space + 1)).split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq < 0) return fail('IncompleteSignatureException', `'${p}' not a valid key=value pair (missing equal-sign) in Authorization header: '${header}'.`);
    params.set(p.slice(0, eq), p.slice(eq + 1));
  }
  const dateText = values(headers, 'x-amz-date')[0] ?? values(headers, 'date')[0];
  const missing = [
    ...(['Credential', 'Signature', 'SignedHeaders'] as const).filter((k) => !params.has(k)).map((k) => `Authorization header requires '${k}' parameter.`),
    ...(dateText === undefined ? ["Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."] : []),
  ];
  if (missing.length > 0) return fail('IncompleteSignatureException', `${missing.join(' ')} Authorization=${header}`);
  if (algorithm !== ALGORITHM) return fail('IncompleteSignatureException', `Unsupported AWS 'algorithm': '${algorithm}'.`);
  const token = values(headers, 'x-amz-security-token')[0];
  return {
    ok: true,
    via: 'header',
    credential: params.get('Credential')!,
    signedHeaders: params.get('SignedHeaders')!,
    signature: params.get('Signature')!,
    dateText: dateText!,
    ...(token !== undefined && { token }),
  };
}

export interface VerifyOptions {
  region: string;
  credentials: readonly CredentialEntry[];
  now: Date;
  service?: string;
}

/**
 * Verifies a request's SigV4 signature in AWS's order: the parts are there, the date is within
 * 5 minutes, the credential scope is right, the key and its session token are known, the
 * signature matches. A presigned URL is held to the same 5 minutes: API Gateway does not extend a
 * signature's life by X-Amz-Expires (users see "Signature expired" after 5 minutes whatever it says).
 */
export function verifySigV4(req: SigV4Request, opts: VerifyOptions, parsed: SigV4Auth | SigV4Failure = parseSigV4(req)): SigV4Result {
  if (!parsed.ok) return parsed;
  const service = opts.service ?? 'execute-api';
  const date = parseRequestDate(parsed.dateText, parsed.via === 'header' && values(req.headers, 'x-amz-date').length === 0);
  if (!date) {
    return fail('IncompleteSignatureException', `Date must be in ISO-8601 'basic format'. Got '${parsed.dateText}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  }
  const amzDate = formatAmzDate(date);
  const now = opts.now;
  if (date.getTime() < now.getTime() - MAX_SKEW_MS) {
    return fail('InvalidSignatureException', `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(new Date(now.getTime() - MAX_SKEW_MS))} (${formatAmzDate(now)} - 5 min.)`);
  }
  if (date.getTime() > now.getTime() + MAX_SKEW_MS) {
    return fail('InvalidSignatureException', `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(new Date(now.getTime() + MAX_SKEW_MS))} (${formatAmzDate(now)} + 5 min.)`);
  }
  const parts = parsed.credential.split('/');
  if (parts.length !== 5) {
    return fail('IncompleteSignatureException', `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${parsed.credential}'`);
  }
  const [accessKeyId, scopeDate, scopeRegion, scopeService, terminator] = parts as [string, string, string, string, string];
  const scopeErrors = [
    ...(scopeRegion !== opts.region ? [`Credential should be scoped to a valid region, not '${scopeRegion}'.`] : []),
    ...(scopeService !== service ? [`Credential should be scoped to correct service: '${service}'.`] : []),
    ...(terminator !== 'aws4_request' ? [`Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'.`] : []),
    ...(scopeDate !== amzDate.slice(0, 8)
      ? [`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`]
      : []),
  ];
  if (scopeErrors.length > 0) return fail('InvalidSignatureException', scopeErrors.join(' '));
  const entry = opts.credentials.find((c) => c.accessKeyId === accessKeyId);
  // A session token that is not the key's own (or a token on a long-term key) is as unknown as the key.
  if (!entry || parsed.token !== entry.sessionToken) return fail('AccessDeniedException', INVALID_TOKEN);
  const signedHeaders = parsed.signedHeaders.split(';');
  if (!signedHeaders.includes('host')) {
    return fail('InvalidSignatureException', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const { canonicalRequest, stringToSign } = canonicalStrings(req, parsed, amzDate, `${scopeDate}/${scopeRegion}/${scopeService}/${terminator}`);
  let key = hmac(`AWS4${entry.secretAccessKey}`, scopeDate);
  key = hmac(key, scopeRegion);
  key = hmac(key, scopeService);
  key = hmac(key, terminator);
  const expected = Buffer.from(createHmac('sha256', key).update(stringToSign).digest('hex'));
  const given = Buffer.from(parsed.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    // AWS shows what it computed, so that a client can diff its own canonical request against it.
    return fail(
      'InvalidSignatureException',
      `${SIGNATURE_MISMATCH}\n\nThe Canonical String for this request should have been\n'${canonicalRequest}'\n\nThe String-to-Sign should have been\n'${stringToSign}'\n`,
    );
  }
  return { ok: true, credential: entry };
}

/** The canonical request and the string to sign, as the server computes them from what it received. */
export function canonicalStrings(req: SigV4Request, parsed: SigV4Auth, amzDate: string, scope: string): { canonicalRequest: string; stringToSign: string } {
  const q = req.target.indexOf('?');
  const rawPath = q < 0 ? req.target : req.target.slice(0, q);
  const rawQuery = q < 0 ? '' : req.target.slice(q + 1);
  const canonicalHeaders = parsed.signedHeaders
    .split(';')
    .map((h) => `${h}:${canonicalHeaderValue(values(req.headers, h))}\n`)
    .join('');
  // The payload hash is always computed from the body received, so a tampered body never verifies.
  const canonicalRequest = [
    req.method,
    canonicalUri(rawPath),
    canonicalQuery(rawQuery),
    canonicalHeaders,
    parsed.signedHeaders,
    sha256Hex(req.body),
  ].join('\n');
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  return { canonicalRequest, stringToSign };
}
