// The gateway answers SigV4 edge cases as API Gateway does. Each test names the AWS page (or the
// observed AWS answer) it follows. Requests are signed by aws4, an independent SigV4
// implementation, and sent over real HTTP to the gateway serving the charts' render.
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import aws4 from 'aws4';
import { pino } from 'pino';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { CrossAccountApi } from '../../../src/api/types.js';
import { renderObjects } from '../../../src/charts/render.js';
import { MAX_PAYLOAD_BYTES, configFromManifests, createGateway, resolveCredentials } from '../../../src/gateway/server.js';
import { verifySigV4, type CredentialEntry } from '../../../src/gateway/sigv4.js';

const example = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;
const VPCE = 'vpce-0aaaaaaaaaaaaaaaa';
const ids = { callerSecurityGroupId: 'sg-1', endpointSecurityGroupId: 'sg-2', restApiId: 'a1b2c3d4e5', rootResourceId: 'r00t', allowedEndpointIds: [VPCE] };
const NOW = new Date('2026-11-25T21:00:00Z');
const AMZ_NOW = '20261125T210000Z';
const role = { accessKeyId: 'ASIAROLE', secretAccessKey: 'role-secret', sessionToken: 'role-token' };
const CREDS: CredentialEntry[] = [
  // How a Lambda signs: an assumed-role session of the caller role.
  { ...role, arn: 'arn:aws:sts::111111111111:assumed-role/orders-caller/orders-fn' },
  { accessKeyId: 'AKIDOTHER', secretAccessKey: 'other', arn: 'arn:aws:iam::111111111111:role/someone-else' },
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Gw { server: Server; port: number }
async function gateway(spec = example, creds = CREDS): Promise<Gw> {
  const { provider } = renderObjects(spec, ids);
  const server = createGateway(configFromManifests(provider), creds, { now: () => NOW, log: pino({ level: 'silent' }) });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}
const close = (g: Gw) => new Promise<void>((r) => g.server.close(() => r()));

let gw: Gw;
beforeAll(async () => (gw = await gateway()));
afterAll(() => close(gw));

interface Sent { status: number; headers: Record<string, string | string[] | undefined>; body: string }
/** A raw HTTP request: headers may repeat (an array sends one line per value). */
function send(port: number, method: string, path: string, headers: Record<string, string | string[]>, body?: Buffer | string): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    for (const [k, v] of Object.entries(headers)) req.setHeader(k, v);
    req.end(body);
  });
}
const message = (r: Sent) => (JSON.parse(r.body) as { message?: string; Message?: string }).message ?? (JSON.parse(r.body) as { Message: string }).Message;

/** aws4-signed headers for a request at AMZ_NOW (or `date`). */
function signed(path: string, opts: { method?: string; headers?: Record<string, string>; body?: string; creds?: typeof role; date?: string; region?: string } = {}) {
  const signer = new aws4.RequestSigner(
    {
      host: `127.0.0.1:${gw.port}`,
      path,
      method: opts.method ?? 'GET',
      service: 'execute-api',
      region: opts.region ?? 'us-east-1',
      headers: { 'X-Amz-Date': opts.date ?? AMZ_NOW, ...opts.headers },
      ...(opts.body !== undefined && { body: opts.body }),
    },
    opts.creds ?? role,
  );
  const req = signer.sign();
  return { signer, headers: req.headers as Record<string, string>, path: req.path! };
}

// IAM User Guide, "Create a signed AWS API request" (canonical headers): values of a header sent
// several times are joined with commas, each trimmed.
test('a signed header sent twice is canonicalised as AWS does ("a,b"), so the valid request is accepted', async () => {
  const s = signed('/prod/items', { headers: { 'x-custom': 'a,b' } });
  const headers = { ...s.headers, 'x-custom': ['a', ' b '], 'x-amzn-vpce-id': VPCE };
  const r = await send(gw.port, 'GET', s.path, headers);
  expect([r.status, JSON.parse(r.body).route]).toEqual([200, 'GET /items']);
});

// Amazon S3 API Reference, "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)"
// (sigv4-query-string-auth) for the parameters; API Gateway holds a presigned URL to the same
// ±5 minutes as a header signature and does not extend it by X-Amz-Expires (users report
// "Signature expired ... - 5 min." after five minutes whatever X-Amz-Expires says).
describe('presigned URLs (query-string SigV4)', () => {
  const presign = (date: string) => {
    const signer = new aws4.RequestSigner(
      { host: `127.0.0.1:${gw.port}`, path: `/prod/items?X-Amz-Date=${date}&X-Amz-Expires=86400`, method: 'GET', service: 'execute-api', region: 'us-east-1', signQuery: true },
      role,
    );
    return signer.sign().path!;
  };
  it('are accepted: X-Amz-Algorithm, -Credential, -Date, -SignedHeaders, -Signature, -Security-Token, -Expires', async () => {
    const path = presign(AMZ_NOW);
    for (const p of ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token', 'X-Amz-Expires']) expect(path).toContain(`${p}=`);
    const r = await send(gw.port, 'GET', path, { 'x-amzn-vpce-id': VPCE });
    expect([r.status, JSON.parse(r.body).route]).toEqual([200, 'GET /items']);
  });
  it('expire after 5 minutes although X-Amz-Expires says a day', async () => {
    const r = await send(gw.port, 'GET', presign('20261125T205400Z'), { 'x-amzn-vpce-id': VPCE });
    expect([r.status, r.headers['x-amzn-errortype'], message(r)]).toEqual([
      403,
      'InvalidSignatureException',
      'Signature expired: 20261125T205400Z is now earlier than 20261125T205500Z (20261125T210000Z - 5 min.)',
    ]);
  });
  it('a tampered presigned URL does not verify', async () => {
    const r = await send(gw.port, 'GET', presign(AMZ_NOW).replace('/prod/items?', '/prod/items/9?'), { 'x-amzn-vpce-id': VPCE });
    expect([r.status, r.headers['x-amzn-errortype']]).toEqual([403, 'InvalidSignatureException']);
  });
  it('a presigned URL without its signature names what is missing', () => {
    const v = verifySigV4(
      { method: 'GET', target: `/prod/items?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAROLE%2F20261125%2Fus-east-1%2Fexecute-api%2Faws4_request&X-Amz-Date=${AMZ_NOW}&X-Amz-SignedHeaders=host`, headers: { host: 'h' }, body: Buffer.alloc(0) },
      { region: 'us-east-1', credentials: CREDS, now: NOW },
    );
    expect(v).toEqual({ ok: false, errorType: 'IncompleteSignatureException', message: "AWS query-string parameters must include 'X-Amz-Signature'. Re-examine the query-string parameters." });
  });
});

// IAM User Guide, "Troubleshoot signed requests for AWS APIs" (signature-v4-troubleshooting):
// "Signature not yet current: date is still later than date"; API Gateway's full form adds "(now + 5 min.)".
test('a request dated more than 5 minutes ahead: "Signature not yet current", not "Signature expired"', async () => {
  const s = signed('/prod/items', { date: '20261125T210600Z' });
  const r = await send(gw.port, 'GET', s.path, { ...s.headers, 'x-amzn-vpce-id': VPCE });
  expect([r.status, r.headers['x-amzn-errortype'], message(r)]).toEqual([
    403,
    'InvalidSignatureException',
    'Signature not yet current: 20261125T210600Z is still later than 20261125T210500Z (20261125T210000Z + 5 min.)',
  ]);
});

// IAM User Guide, "Troubleshoot signed requests for AWS APIs": "The error response includes the
// canonical request and the string to sign that the service calculated."
test('a signature mismatch carries the canonical request and the string to sign AWS expected', async () => {
  const s = signed('/prod/items?b=2&a=1', { method: 'POST', body: '{"sku":"a"}', headers: { 'content-type': 'application/json' }, creds: { ...role, secretAccessKey: 'wrong-secret' } });
  const r = await send(gw.port, 'POST', s.path, { ...s.headers, 'x-amzn-vpce-id': VPCE }, '{"sku":"a"}');
  expect([r.status, r.headers['x-amzn-errortype']]).toEqual([403, 'InvalidSignatureException']);
  // aws4 computed the same canonical request and string to sign: only the key differs.
  expect(message(r)).toBe(
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.' +
      `\n\nThe Canonical String for this request should have been\n'${s.signer.canonicalString()}'\n\nThe String-to-Sign should have been\n'${s.signer.stringToSign()}'\n`,
  );
});

// API Gateway's answers to a malformed Authorization header, as users report them (e.g.
// serverless/serverless#3205, aws/chalice#828): one sentence per missing part, the header echoed.
describe('malformed Authorization headers', () => {
  it('one "Authorization header requires" sentence per missing part', async () => {
    const r = await send(gw.port, 'GET', '/prod/items', { authorization: 'AWS4-HMAC-SHA256 Credential=ASIAROLE/20261125/us-east-1/execute-api/aws4_request' });
    expect([r.status, r.headers['x-amzn-errortype'], message(r)]).toEqual([
      403,
      'IncompleteSignatureException',
      "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential=ASIAROLE/20261125/us-east-1/execute-api/aws4_request",
    ]);
  });
  it('a bearer token: not a valid key=value pair (missing equal-sign)', async () => {
    const r = await send(gw.port, 'GET', '/prod/items', { authorization: 'Bearer sometoken' });
    expect([r.status, r.headers['x-amzn-errortype'], message(r)]).toEqual([
      403,
      'IncompleteSignatureException',
      "'sometoken' not a valid key=value pair (missing equal-sign) in Authorization header: 'Bearer sometoken'.",
    ]);
  });
  it('a JWT alone: every part is missing', async () => {
    const r = await send(gw.port, 'GET', '/prod/items', { authorization: 'eyJhbGciOiJIUzI1NiJ9.e30.sig' });
    expect(message(r)).toBe(
      "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=eyJhbGciOiJIUzI1NiJ9.e30.sig",
    );
  });
  it('is checked even when the route does not exist', async () => {
    const r = await send(gw.port, 'GET', '/prod/no-such-route', { authorization: 'Bearer sometoken' });
    expect([r.status, r.headers['x-amzn-errortype']]).toEqual([403, 'IncompleteSignatureException']);
    // Without an Authorization header, an unknown route still reads as a missing token.
    const plain = await send(gw.port, 'GET', '/prod/no-such-route', {});
    expect([plain.status, plain.headers['x-amzn-errortype'], message(plain)]).toEqual([403, 'MissingAuthenticationTokenException', 'Missing Authentication Token']);
  });
});

// IAM User Guide, "Troubleshoot signed requests for AWS APIs" (credential scope errors) and General
// Reference "Handling dates in Signature Version 4": the scope's date must be X-Amz-Date's day.
test('a credential-scope date that differs from X-Amz-Date: "Date in Credential scope does not match"', () => {
  const s = signed('/prod/items', { date: '20261125T000100Z' });
  // Re-date the request to the same instant's neighbour day while keeping the signed scope.
  const headers = { ...Object.fromEntries(Object.entries(s.headers).map(([k, v]) => [k.toLowerCase(), v])), 'x-amz-date': '20261124T235900Z' };
  const v = verifySigV4({ method: 'GET', target: s.path, headers, body: Buffer.alloc(0) }, { region: 'us-east-1', credentials: CREDS, now: new Date('2026-11-25T00:00:00Z') });
  expect(v).toEqual({
    ok: false,
    errorType: 'InvalidSignatureException',
    message: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261125' != '20261124', from '20261124T235900Z'.",
  });
});

// API Gateway sends x-amzn-RequestId (a UUID) with every response (seen in its 403 answers, e.g.
// amzn/selling-partner-api-models#113).
test('every response, success or error, carries x-amzn-RequestId, a fresh UUID', async () => {
  const s = signed('/prod/items');
  const responses = [
    await send(gw.port, 'GET', s.path, { ...s.headers, 'x-amzn-vpce-id': VPCE }),
    await send(gw.port, 'GET', s.path, { ...s.headers, 'x-amzn-vpce-id': 'vpce-0bbbbbbbbbbbbbbbb' }),
    await send(gw.port, 'GET', '/prod/nope', {}),
    await send(gw.port, 'GET', '/prod/items', { authorization: 'Bearer x' }),
  ];
  expect(responses.map((r) => r.status)).toEqual([200, 403, 403, 403]);
  const idsSeen = responses.map((r) => String(r.headers['x-amzn-requestid']));
  for (const id of idsSeen) expect(id).toMatch(UUID);
  expect(new Set(idsSeen).size).toBe(idsSeen.length);
});

// API Gateway masks the account in AccessDeniedException messages to its last four digits, e.g.
// "arn:aws:execute-api:us-west-2:********2543:vd2gh6uqw3/api/GET/" (ASFHyP3/hyp3#2283).
test('AccessDeniedException masks account IDs in the principal and the resource ARN', async () => {
  const s = signed('/prod/items');
  const r = await send(gw.port, 'GET', s.path, { ...s.headers, 'x-amzn-vpce-id': 'vpce-0bbbbbbbbbbbbbbbb' });
  expect([r.status, r.headers['x-amzn-errortype'], message(r)]).toEqual([
    403,
    'AccessDeniedException',
    'User: arn:aws:sts::********1111:assumed-role/orders-caller/orders-fn is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********2222:a1b2c3d4e5/prod/GET/items with an explicit deny',
  ]);
});

// AWS Knowledge Center, "How do I troubleshoot HTTP 403 errors from API Gateway?": IAM keys that are
// not valid → "The security token included in the request is invalid."
test('an unknown access key: "The security token included in the request is invalid."', async () => {
  const s = signed('/prod/items', { creds: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x', sessionToken: 'y' } });
  const r = await send(gw.port, 'GET', s.path, { ...s.headers, 'x-amzn-vpce-id': VPCE });
  expect([r.status, r.headers['x-amzn-errortype'], message(r)]).toEqual([403, 'AccessDeniedException', 'The security token included in the request is invalid.']);
});

// IAM User Guide, "AWS global condition context keys" (aws:PrincipalArn): for a role session the key
// is the role's ARN, path included.
describe('assumed-role sessions', () => {
  it('a session is allowed where the policy names its role (the role ARN, not the session ARN)', async () => {
    const s = signed('/prod/items');
    const r = await send(gw.port, 'GET', s.path, { ...s.headers, 'x-amzn-vpce-id': VPCE });
    expect(r.status).toBe(200);
  });
  it('with a role path: the path comes from the policy; an unknown path is warned about at start', async () => {
    const c = structuredClone(example);
    c.spec.consumer.roleArn = 'arn:aws:iam::111111111111:role/service/orders-caller';
    const g = await gateway(c);
    try {
      const signer = new aws4.RequestSigner({ host: `127.0.0.1:${g.port}`, path: '/prod/items', method: 'GET', service: 'execute-api', region: 'us-east-1', headers: { 'X-Amz-Date': AMZ_NOW } }, role);
      const req = signer.sign();
      const r = await send(g.port, 'GET', req.path!, { ...(req.headers as Record<string, string>), 'x-amzn-vpce-id': VPCE });
      expect(r.status).toBe(200);
    } finally {
      await close(g);
    }
    const { provider } = renderObjects(example, ids);
    const w = resolveCredentials(configFromManifests(provider), [{ ...role, arn: 'arn:aws:sts::111111111111:assumed-role/unnamed-role/s' }]).warnings;
    expect(w.join('\n')).toMatch(/ASIAROLE: .*session of role unnamed-role, whose path the manifests do not show/);
  });
});

test('partitions: a call in us-gov-west-1 is signed, authorized and answered in arn:aws-us-gov:', async () => {
  const c = structuredClone(example);
  c.spec.region = 'us-gov-west-1';
  const g = await gateway(c, [{ ...role, arn: 'arn:aws-us-gov:sts::111111111111:assumed-role/orders-caller/fn' }]);
  try {
    const sign = (vpce: string) => {
      const req = new aws4.RequestSigner({ host: `127.0.0.1:${g.port}`, path: '/prod/items', method: 'GET', service: 'execute-api', region: 'us-gov-west-1', headers: { 'X-Amz-Date': AMZ_NOW } }, role).sign();
      return send(g.port, 'GET', req.path!, { ...(req.headers as Record<string, string>), 'x-amzn-vpce-id': vpce });
    };
    expect((await sign(VPCE)).status).toBe(200);
    expect(message(await sign('vpce-0bbbbbbbbbbbbbbbb'))).toMatch(/on resource: arn:aws-us-gov:execute-api:us-gov-west-1:\*{8}2222:a1b2c3d4e5\/prod\/GET\/items with an explicit deny$/);
  } finally {
    await close(g);
  }
});

// API Gateway quotas: 10 MB request payload for REST APIs; past it API Gateway answers 413 with
// the text "HTTP content length exceeded 10485760 bytes." (REQUEST_TOO_LARGE).
test('a body over 10 MB: 413, before any signature check', async () => {
  const r = await send(gw.port, 'POST', '/prod/items', { 'content-type': 'application/json' }, Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20));
  expect([r.status, r.body, r.headers['content-type']]).toEqual([413, 'HTTP content length exceeded 10485760 bytes.', 'text/plain']);
  expect(String(r.headers['x-amzn-requestid'])).toMatch(UUID);
});

test('a malformed percent-encoding in the path: 400, not a routing or signature answer', async () => {
  for (const path of ['/prod/items/%ZZ', '/prod/items/%4']) {
    const r = await send(gw.port, 'GET', path, {});
    expect([path, r.status, message(r)]).toEqual([path, 400, `Illegal hex character in escape % pattern: ${path.slice(path.indexOf('%'))}`]);
  }
});

test('an empty credentials list is warned about', () => {
  const { provider } = renderObjects(example, ids);
  expect(resolveCredentials(configFromManifests(provider), []).warnings).toEqual([
    'the credentials list is empty: every signed request will be answered "The security token included in the request is invalid."',
  ]);
});
