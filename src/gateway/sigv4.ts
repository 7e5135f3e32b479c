// SigV4 verification for execute-api, following AWS's canonical request rules.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface CredentialEntry {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  arn: string;
}

export interface SigV4Request {
  method: string;
  /** Raw request target as received: path plus optional ?query, still percent-encoded. */
  target: string;
  /** Header names lowercase; repeated headers joined with ','. */
  headers: Record<string, string>;
  body: Buffer;
}

/** A SigV4 failure carries API Gateway's error type and message. */
export interface SigV4Failure {
  ok: false;
  errorType:
    | 'MissingAuthenticationTokenException'
    | 'IncompleteSignatureException'
    | 'InvalidSignatureException'
    | 'UnrecognizedClientException'
    | 'ExpiredTokenException';
  message: string;
}
export type SigV4Result = { ok: true; credential: CredentialEntry } | SigV4Failure;

const MAX_SKEW_MS = 5 * 60 * 1000;

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

export function canonicalQuery(rawQuery: string): string {
  if (!rawQuery) return '';
  const pairs = rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const i = p.indexOf('=');
      const k = i < 0 ? p : p.slice(0, i);
      const v = i < 0 ? '' : p.slice(i + 1);
      return [uriEncode(safeDecode(k)), uriEncode(safeDecode(v))] as const;
    })
    .filter(([k]) => k !== 'X-Amz-Signature');
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** Parse "AWS4-HMAC-SHA256 Credential=AK/date/region/service/aws4_request, SignedHeaders=a;b, Signature=hex". */
function parseAuthorization(value: string) {
  const m = /^AWS4-HMAC-SHA256\s+(.*)$/.exec(value.trim());
  if (!m) return undefined;
  const fields: Record<string, string> = {};
  for (const part of m[1]!.split(',')) {
    const i = part.indexOf('=');
    if (i > 0) fields[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return fields;
}

function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

export function verifySigV4(
  req: SigV4Request,
  opts: { region: string; credentials: CredentialEntry[]; now: Date },
): SigV4Result {
  const fail = (errorType: SigV4Failure['errorType'], message: string): SigV4Failure => ({ ok: false, errorType, message });
  const auth = req.headers['authorization'];
  if (!auth) return fail('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const fields = parseAuthorization(auth);
  const credential = fields?.['Credential'];
  const signedHeadersField = fields?.['SignedHeaders'];
  const signature = fields?.['Signature'];
  if (!fields || !credential || !signedHeadersField || !signature) {
    return fail(
      'IncompleteSignatureException',
      `Authorization header requires 'Credential', 'Signature', 'SignedHeaders' parameters. Authorization=${auth}`,
    );
  }
  const amzDate = req.headers['x-amz-date'];
  const date = amzDate ? parseAmzDate(amzDate) : undefined;
  if (!amzDate || !date) {
    return fail('IncompleteSignatureException', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  const [accessKeyId, scopeDate, scopeRegion, scopeService, terminator] = credential.split('/');
  const entry = opts.credentials.find((c) => c.accessKeyId === accessKeyId);
  if (!entry) return fail('UnrecognizedClientException', 'The security token included in the request is invalid.');
  if (terminator !== 'aws4_request' || scopeDate !== amzDate.slice(0, 8)) {
    return fail('InvalidSignatureException', `Credential should be scoped to a valid date and terminated with aws4_request: ${credential}`);
  }
  if (scopeRegion !== opts.region) {
    return fail('InvalidSignatureException', `Credential should be scoped to a valid region, not '${scopeRegion}'. `);
  }
  if (scopeService !== 'execute-api') {
    return fail('InvalidSignatureException', `Credential should be scoped to correct service: 'execute-api'. `);
  }
  const skew = Math.abs(opts.now.getTime() - date.getTime());
  if (skew > MAX_SKEW_MS) {
    return fail('InvalidSignatureException', `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(new Date(opts.now.getTime() - MAX_SKEW_MS))} (${formatAmzDate(opts.now)} - 5 min.)`);
  }
  const token = req.headers['x-amz-security-token'];
  if (entry.sessionToken !== undefined && token !== entry.sessionToken) {
    return fail('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  const signedHeaders = signedHeadersField.split(';');
  if (!signedHeaders.includes('host')) {
    return fail('InvalidSignatureException', "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const q = req.target.indexOf('?');
  const rawPath = q < 0 ? req.target : req.target.slice(0, q);
  const rawQuery = q < 0 ? '' : req.target.slice(q + 1);
  const canonicalHeaders = signedHeaders
    .map((h) => `${h}:${(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  // The payload hash is always computed from the body received, so a tampered body never verifies.
  const canonicalRequest = [
    req.method,
    canonicalUri(rawPath),
    canonicalQuery(rawQuery),
    canonicalHeaders,
    signedHeadersField,
    sha256Hex(req.body),
  ].join('\n');
  const scope = `${scopeDate}/${scopeRegion}/${scopeService}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${entry.secretAccessKey}`, scopeDate);
  key = hmac(key, scopeRegion);
  key = hmac(key, scopeService);
  key = hmac(key, 'aws4_request');
  const expected = Buffer.from(createHmac('sha256', key).update(stringToSign).digest('hex'));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return fail(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
  return { ok: true, credential: entry };
}

export function formatAmzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}
