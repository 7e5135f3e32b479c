// Signing time per request: our handler's signer (@smithy/signature-v4) versus aws4 in the same run.
import { statSync, existsSync } from 'node:fs';
import aws4 from 'aws4';
import { PrivateApiClient } from '../lambda/src/client.js';

const N = Number(process.env.N ?? 2000);
const creds = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'secret', sessionToken: 'token' };
const body = JSON.stringify({ item: 'abc', qty: 3 });

function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: at(0.5), p99: at(0.99) };
}

async function time(fn: () => unknown | Promise<unknown>) {
  for (let i = 0; i < 200; i++) await fn(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e3);
  }
  return stats(out);
}

const client = new PrivateApiClient(
  { apiUrl: 'https://abc123-vpce-0123456789abcdef0.execute-api.us-east-1.amazonaws.com/prod' },
  { fetch, now: () => new Date(), credentials: () => creds, sleep: async () => {}, random: Math.random },
);
const ours = await time(() => client.sign('POST', '/items/42', body, { q: 'x' }));
const base = await time(() =>
  aws4.sign(
    { host: 'abc123-vpce-0123456789abcdef0.execute-api.us-east-1.amazonaws.com', path: '/prod/items/42?q=x', method: 'POST',
      body, service: 'execute-api', region: 'us-east-1', headers: { 'content-type': 'application/json' } },
    creds,
  ),
);
const f = (n: number) => n.toFixed(1).padStart(8);
console.log(`signing, ${N} requests (µs)      mean      p50      p99`);
console.log(`handler (@smithy/signature-v4) ${f(ours.mean)} ${f(ours.p50)} ${f(ours.p99)}`);
console.log(`baseline (aws4)                ${f(base.mean)} ${f(base.p50)} ${f(base.p99)}`);
console.log(`ratio handler/aws4             ${f(ours.mean / base.mean)} ${f(ours.p50 / base.p50)} ${f(ours.p99 / base.p99)}`);
const bundle = new URL('../../lambda/dist/handler.mjs', import.meta.url).pathname;
console.log(existsSync(bundle) ? `lambda bundle: ${statSync(bundle).size} bytes` : 'lambda bundle: not built (npm run build:lambda)');
