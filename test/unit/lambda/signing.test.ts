// The caller's signer keeps the signing key it derived (reuseSigningKey in lambda/src/client.ts).
// Its signatures must still verify against the gateway's verifier and equal a fresh SignatureV4's,
// across a change of day; and the key must really be reused, so that a later @smithy/signature-v4
// that renames its key derivation fails here instead of silently signing slower.
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Hash } from '@smithy/core/serde';
import { verifySigV4 } from '../../../src/gateway/sigv4.js';
import { PrivateApiClient, reuseSigningKey } from '../../../lambda/src/client.js';

const REGION = 'eu-west-1';
const HOST = 'abc123-vpce-0123456789abcdef0.execute-api.eu-west-1.amazonaws.com';
const creds = { accessKeyId: 'ASIASIGNING', secretAccessKey: 'signing-secret', sessionToken: 'signing-token' };
const body = JSON.stringify({ item: 'abc', qty: 3 });
// One second before and after midnight UTC: the signing key (derived from the date) changes between them.
const DATES = [new Date('2026-03-01T23:59:59Z'), new Date('2026-03-02T00:00:01Z'), new Date('2026-03-02T00:00:02Z')];

/** SHA-256 from Node's crypto, counting the HMACs it is asked for (a secret given). */
let hmacs = 0;
class CountingSha256 extends Hash {
  constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
    super('sha256', secret);
    if (secret !== undefined) hmacs++;
  }
}

const signer = () =>
  new SignatureV4({ service: 'execute-api', region: REGION, credentials: { ...creds }, sha256: CountingSha256, applyChecksum: false });
const request = () =>
  new HttpRequest({ method: 'POST', protocol: 'https:', hostname: HOST, path: '/prod/items/42', query: { q: 'x' }, headers: { host: HOST, 'content-type': 'application/json' }, body });

/** HMACs one signature takes, and its Authorization header. */
async function sign(s: SignatureV4, signingDate: Date): Promise<{ hmacs: number; authorization: string }> {
  const before = hmacs;
  const signed = (await s.sign(request(), { signingDate })) as HttpRequest;
  return { hmacs: hmacs - before, authorization: signed.headers.authorization! };
}

test('the key is derived once per day and reused: one HMAC per signature after the first of the day', async () => {
  const plain = signer();
  const reusing = reuseSigningKey(signer());
  const [day1, day2, day2later] = DATES as [Date, Date, Date];
  // The first signature of a day derives the key (HMAC(secret, key id) to look in SignatureV4's
  // own cache, 4 to derive) and signs (1) ...
  expect((await sign(reusing, day1)).hmacs).toBe(6);
  // ... the next ones of that day only sign.
  expect((await sign(reusing, day1)).hmacs).toBe(1);
  expect((await sign(reusing, day1)).hmacs).toBe(1);
  // SignatureV4 alone, its cache holding the key: the look-up HMAC, then the signature, every time.
  expect((await sign(plain, day1)).hmacs).toBe(2);
  expect((await sign(plain, day1)).hmacs).toBe(2);
  // A new day: a new key.
  expect((await sign(reusing, day2)).hmacs).toBe(6);
  expect((await sign(reusing, day2later)).hmacs).toBe(1);
});

test('signatures with the reused key equal a fresh SignatureV4\'s, on either side of midnight', async () => {
  const reusing = reuseSigningKey(signer());
  for (const date of [...DATES, DATES[0]!]) {
    const ours = await sign(reusing, date);
    const fresh = await sign(signer(), date);
    expect(ours.authorization).toBe(fresh.authorization);
    expect(ours.authorization).toContain(`/${date.toISOString().slice(0, 10).replace(/-/g, '')}/${REGION}/execute-api/aws4_request`);
  }
});

test('the client\'s signatures verify against the gateway\'s SigV4 verifier across a change of day', async () => {
  let now = DATES[0]!;
  const client = new PrivateApiClient(
    { apiUrl: `https://${HOST}/prod` },
    { fetch, now: () => now, credentials: () => creds, sleep: async () => {}, random: () => 0 },
  );
  const entry = [{ ...creds, arn: 'arn:aws:sts::111111111111:assumed-role/caller/fn' }];
  for (const date of [...DATES, DATES[0]!]) {
    now = date;
    const signed = await client.sign('POST', '/items/42', body, { q: 'x' });
    const result = verifySigV4(
      { method: signed.method, target: `${signed.path}?q=x`, headers: signed.headers, body: Buffer.from(body) },
      { region: REGION, credentials: entry, now: date },
    );
    expect([date.toISOString(), result]).toEqual([date.toISOString(), expect.objectContaining({ ok: true })]);
    // and a signature from the day before does not pass for the next (the key is the day's)
    const stale = { ...signed.headers, authorization: signed.headers.authorization!.replace(/\d{8}\//, '20260228/') };
    expect(verifySigV4({ method: 'POST', target: `${signed.path}?q=x`, headers: stale, body: Buffer.from(body) }, { region: REGION, credentials: entry, now: date }).ok).toBe(false);
  }
});
