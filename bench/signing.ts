// Signing time per request: our handler's signer (@smithy/signature-v4 on Node's crypto) versus
// aws4 in the same run; and the bundle's cold import time (a fresh Node process per sample, as a
// Lambda cold start loads it) versus aws4's, also in the same run. N (requests per signer, default
// 2000) and COLD (fresh processes, default 15) can be set; the mean counts every pause the machine
// imposes, so on a busy machine compare several runs (docs/lambda.md).
import { execFileSync } from 'node:child_process';
import { statSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import aws4 from 'aws4';
import { PrivateApiClient } from '../lambda/src/client.js';

const N = Number(process.env.N ?? 2000);
const COLD = Number(process.env.COLD ?? 15);
const creds = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'secret', sessionToken: 'token' };
const body = JSON.stringify({ item: 'abc', qty: 3 });

function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: at(0.5), p99: at(0.99) };
}

/**
 * Both signers timed in alternating blocks of 100 requests, so that load from elsewhere on the
 * machine falls on both alike; per-request samples in microseconds.
 */
async function timeBoth(a: () => unknown | Promise<unknown>, b: () => unknown | Promise<unknown>) {
  for (let i = 0; i < 200; i++) {
    await a();
    await b();
  } // warm-up
  const out: [number[], number[]] = [[], []];
  for (let done = 0; done < N; done += 100) {
    for (const [k, fn] of [[0, a], [1, b]] as const) {
      for (let i = 0; i < 100; i++) {
        const t = process.hrtime.bigint();
        await fn();
        out[k].push(Number(process.hrtime.bigint() - t) / 1e3);
      }
    }
  }
  return [stats(out[0]), stats(out[1])] as const;
}

const client = new PrivateApiClient(
  { apiUrl: 'https://abc123-vpce-0123456789abcdef0.execute-api.us-east-1.amazonaws.com/prod' },
  { fetch, now: () => new Date(), credentials: () => creds, sleep: async () => {}, random: Math.random },
);
const [ours, base] = await timeBoth(
  () => client.sign('POST', '/items/42', body, { q: 'x' }),
  () =>
    aws4.sign(
      { host: 'abc123-vpce-0123456789abcdef0.execute-api.us-east-1.amazonaws.com', path: '/prod/items/42?q=x', method: 'POST',
        body, service: 'execute-api', region: 'us-east-1', headers: { 'content-type': 'application/json' } },
      creds,
    ),
);
const f = (n: number) => n.toFixed(1).padStart(8);
const f2 = (n: number) => n.toFixed(2).padStart(8);
console.log(`signing, ${N} requests (µs)      mean      p50      p99`);
console.log(`handler (@smithy/signature-v4) ${f(ours.mean)} ${f(ours.p50)} ${f(ours.p99)}`);
console.log(`baseline (aws4)                ${f(base.mean)} ${f(base.p50)} ${f(base.p99)}`);
console.log(`ratio handler/aws4             ${f2(ours.mean / base.mean)} ${f2(ours.p50 / base.p50)} ${f2(ours.p99 / base.p99)}`);

const bundle = new URL('../../lambda/dist/handler.mjs', import.meta.url).pathname;
if (!existsSync(bundle)) {
  console.log('lambda bundle: not built (npm run build:lambda)');
} else {
  console.log(`lambda bundle: ${statSync(bundle).size} bytes`);
  // Milliseconds from before to after the dynamic import, measured inside a fresh process.
  const coldImport = (specifier: string): number => {
    const script = `const t=process.hrtime.bigint();await import(${JSON.stringify(specifier)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
    return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
  };
  const aws4Path = createRequire(import.meta.url).resolve('aws4');
  const ourCold: number[] = [];
  const baseCold: number[] = [];
  for (let i = 0; i < COLD; i++) {
    ourCold.push(coldImport(bundle));
    baseCold.push(coldImport(aws4Path));
  }
  const oc = stats(ourCold);
  const bc = stats(baseCold);
  console.log(`cold import, ${COLD} fresh processes (ms)  mean      p50      max`);
  console.log(`lambda bundle (handler.mjs)    ${f2(oc.mean)} ${f2(oc.p50)} ${f2(Math.max(...ourCold))}`);
  console.log(`baseline (aws4)                ${f2(bc.mean)} ${f2(bc.p50)} ${f2(Math.max(...baseCold))}`);
}
