// Start-up cost of the local control planes (`xapi dev up`, the integration tests' global setup)
// with cached binaries: wall time to a ready API server with every CRD Established, for one plane
// and for two side by side, and the peak resident memory (VmHWM) of etcd + kube-apiserver.
// Baseline in the same run: one plane; the last lines give two planes as a ratio of it.
// Env: XAPI_BENCH_RUNS (default 3), KUBEBUILDER_ASSETS, XAPI_CRDS_DIR (npm run bench:control-plane sets them).
import { readFileSync } from 'node:fs';
import { crossAccountApiCrd } from '../src/api/crd.js';
import { startControlPlane, type ControlPlane } from '../src/envtest/index.js';

const RUNS = Number(process.env.XAPI_BENCH_RUNS ?? 3);
const crdDir = process.env.XAPI_CRDS_DIR;
if (!crdDir) throw new Error('XAPI_CRDS_DIR is not set (run `npm run bench:control-plane`)');

function hwmKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Number(line?.replace(/\D+/g, '') ?? 0);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function startN(n: number): Promise<{ ms: number; planes: ControlPlane[] }> {
  const t0 = performance.now();
  const planes = await Promise.all(Array.from({ length: n }, (_, i) => startControlPlane({ name: `bench-${i}`, crdDirs: [crdDir!], crds: [crossAccountApiCrd()] })));
  return { ms: performance.now() - t0, planes };
}

const results: Record<number, { ms: number[]; rssMiB: number[] }> = { 1: { ms: [], rssMiB: [] }, 2: { ms: [], rssMiB: [] } };
for (let run = 0; run < RUNS; run++) {
  for (const n of [1, 2]) {
    const { ms, planes } = await startN(n);
    const rss = planes.reduce((sum, p) => sum + hwmKiB(p.etcd.pid) + hwmKiB(p.apiserver.pid), 0) / 1024;
    await Promise.all(planes.map((p) => p.stop()));
    results[n]!.ms.push(ms);
    results[n]!.rssMiB.push(rss);
    console.log(`run ${run + 1}: ${n} plane(s) ready in ${(ms / 1000).toFixed(2)} s, peak RSS ${rss.toFixed(0)} MiB`);
  }
}
const one = results[1]!;
const two = results[2]!;
console.log(`ratio two/one start = ${(median(two.ms) / median(one.ms)).toFixed(2)}`);
console.log(
  `control-plane start1_p50=${(median(one.ms) / 1000).toFixed(2)}s start2_p50=${(median(two.ms) / 1000).toFixed(2)}s ` +
    `rss1_max=${Math.max(...one.rssMiB).toFixed(0)}MiB rss2_max=${Math.max(...two.rssMiB).toFixed(0)}MiB runs=${RUNS}`,
);
