// Scale of the operator (issue 14): per N CRs, on two fresh real API servers, with the operator
// as its own process (`xapi operator`, leader election on) and the test's ACK player writing
// status as ACK would. Prints per N: time from the first create to every CR Ready, the
// operator's peak RSS (VmHWM), its requests and writes (from the API servers' audit logs, by the
// operator's own identities; the writes broken down by resource and verb on stderr), writes
// during 60 s idle, and rotation p50/p99.
//
// Rotation is compared like with like: at each N, after the idle window, the API server's own
// write→watch latency is measured first (100 ConfigMap creates fired at once on cluster A, each
// timed from its send to its watch event), then 100 rotations are fired at once (each timed from
// the send of the VPCEndpoint status write on A to a watch on B seeing the new ID in the RestAPI
// policy). Both use 100 concurrent writes from this process at the same moment of the run, so the
// ratio rotation_p99/baseline_p99 is the operator's cost on top of the API server's own latency
// (a rotation is two write→watch hops plus the operator's reconcile; the target is < 3×). A
// second baseline times the write a rotation starts with: 100 merge patches of VPCEndpoint
// statuses (copies of the fixture's endpoints that no CR reads), on a kept-alive connection as
// the ACK stand-in sends them. The ConfigMap creates go through client-node's own transport (a
// TLS handshake per request), which made that baseline slower, not faster: at 100 CRs its p99
// was 554–605 ms against 419–464 ms for the status patches. Both ratios are printed; the second
// is the like-for-like one. The
// operator's own xapi_rotation_latency_seconds (from its watch seeing the new ID to the end of
// the pass's writes: policy, Deployment, Stage) is printed beside it.
// Ready time is compared with a floor measured in the same run: every writer's writes during the
// convergence (the operator's, the ACK stand-in's), divided by the rate at which the two API
// servers take server-side applies of the same ACK objects when nothing else runs. On 2 shared
// cores the API servers, not the operator, set the pace: ready_s/floor_s near 1 is the best any
// controller could do with that many writes.
// Last line: `scale crs=<N> ready_s=<s> rss_mb=<MB> idle_writes=<n> rotation_p99_ms=<ms>` for
// the last N. Figures that miss a target are printed as measured, never adjusted.
//
// Usage: npm run bench:scale -- --crs 100,300,1000   (default 100; needs KUBEBUILDER_ASSETS and
// XAPI_CRDS_DIR, which the npm script sets). XAPI_BENCH_IDLE_SECONDS overrides the 60 s idle;
// XAPI_BENCH_CPU_PROF=<dir> writes the operator's CPU profile (node --cpu-prof) there;
// XAPI_BENCH_OPERATOR_NODE_OPTIONS replaces the NODE_OPTIONS the operator's Deployment sets
// (MALLOC_ARENA_MAX stays as the Deployment sets it); XAPI_BENCH_OPERATOR_NODE_ARGS adds options
// to node's command line (V8 flags that NODE_OPTIONS refuses, e.g. --heap-growing-percent);
// XAPI_BENCH_UNBUNDLED=1 runs dist/ instead of the image's bundle;
// XAPI_BENCH_ROTATION_ROUNDS=<r> repeats the baseline and the 100 rotations r times per N, each
// after the idle window again (the summary line stays the first round's; each round's ratio is
// printed too: one burst's p99 moves a lot between runs on a shared machine).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CustomObjectsApi, KubernetesObjectApi, PatchStrategy, Watch, makeInformer, setHeaderOptions, type KubernetesObject } from '@kubernetes/client-node';
import { ACK } from '../src/api/ack.js';
import { withDefaults } from '../src/api/defaults.js';
import { GROUP, PLURAL, VERSION, type CrossAccountApi } from '../src/api/types.js';
import { validateSpec } from '../src/api/validate.js';
import { objectNames } from '../src/charts/names.js';
import { OPERATOR_MEMORY_ENV } from '../src/charts/operator.js';
import { renderMember } from '../src/charts/render.js';
import { ensureNamespace, repoRoot } from '../test/integration/helpers.js';
import { Fixture } from '../test/integration/faults/fixture.js';
import { NAMESPACE_SETTLE_MS } from '../src/reconciler/cluster.js';
import { ConnectedKubeConfig } from '../src/reconciler/kube.js';
import { OperatorProcess, metricSum } from '../test/integration/faults/operator-process.js';
import { auditEvents, issueIdentity, startPlane, tempFile, WRITE_VERBS, type AuditEvent, type Plane } from '../test/integration/faults/planes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const IDLE_SECONDS = Number(process.env.XAPI_BENCH_IDLE_SECONDS ?? 60);
const ROTATIONS = 100;
/** Rounds of rotations per N (XAPI_BENCH_ROTATION_ROUNDS; the summary line is the first's). */
const ROUNDS = Math.max(1, Number(process.env.XAPI_BENCH_ROTATION_ROUNDS ?? 1));
// The ACK stand-in writes ~15 statuses per CR; with 8 writers on a busy 2-core machine it, not the
// operator, set the pace at 1,000 CRs (~9 writes/s each side, as many as the operator's requests).
const PLAYER_CONCURRENCY = 32;

/**
 * The operator as the image runs it: the one-file bundle scripts/image-bundle.mjs makes of dist/
 * and the dependencies, behind a copy of bin/xapi.js (the image's /app layout). Loading the
 * unbundled dist/ and node_modules costs the process about 60 MB more before it does anything.
 * Returns the launcher's path; XAPI_BENCH_UNBUNDLED=1 runs this checkout's dist/ instead.
 */
function operatorLauncher(): string | undefined {
  if (process.env.XAPI_BENCH_UNBUNDLED === '1') return undefined;
  const root = repoRoot();
  const out = mkdtempSync(join(tmpdir(), 'xapi-bench-bundle-'));
  execFileSync(process.execPath, [join(root, 'scripts', 'image-bundle.mjs'), root, out], { stdio: ['ignore', 'ignore', 'inherit'] });
  mkdirSync(join(out, 'bin'));
  copyFileSync(join(root, 'bin', 'xapi.js'), join(out, 'bin', 'xapi.js'));
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module' }));
  return join(out, 'bin', 'xapi.js');
}

function parseCounts(argv: string[]): number[] {
  const i = argv.indexOf('--crs');
  const raw = i >= 0 ? argv[i + 1] : (argv.find((a) => a.startsWith('--crs='))?.slice(6) ?? '100');
  const counts = (raw ?? '').split(',').map((s) => Number(s.trim()));
  if (counts.length === 0 || counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--crs wants a comma-separated list of positive integers, got "${raw}"`);
  return counts;
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The API server's own write→watch latency: `n` ConfigMap writes fired at once, each timed to its watch event. */
async function writeToWatch(p: Plane, namespace: string, n: number, round: number): Promise<number[]> {
  const sent = new Map<string, number>();
  const got: number[] = [];
  let all!: () => void;
  const done = new Promise<void>((r) => (all = r));
  const abort = await new Watch(p.clients.kc).watch(
    `/api/v1/namespaces/${namespace}/configmaps`,
    {},
    (phase, obj: { metadata: { name: string } }) => {
      const t0 = sent.get(obj.metadata.name);
      if (phase === 'ADDED' && t0 !== undefined) {
        got.push(Date.now() - t0);
        if (got.length === n) all();
      }
    },
    () => undefined,
  );
  await sleep(500);
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const name = `probe-${round}-${i}`;
      sent.set(name, Date.now());
      await p.clients.core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { i: String(i) } } });
    }),
  );
  await Promise.race([done, sleep(120_000)]);
  abort.abort();
  return got;
}

/**
 * The same write as a rotation's first hop, on objects no CR reads: `n` VPCEndpoints in a
 * namespace of their own on `p`, copies of the fixture's (same spec and size, in a VPC no CR
 * names, without xapi's labels, so the operator caches them and wakes nothing). Made once per N;
 * returns their namespace and names.
 */
async function probeEndpoints(p: Plane, f: Fixture, n: number): Promise<{ namespace: string; names: string[] }> {
  const r = ACK.VPCEndpoint;
  const custom = ConnectedKubeConfig.from(p.clients.kc).makeApiClient(CustomObjectsApi);
  const namespace = `${f.ns}-probe`;
  await ensureNamespace(p.clients.core, namespace);
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const live = (await custom.getNamespacedCustomObject({ group: r.group, version: r.version, plural: r.plural, namespace: f.aNs, name: objectNames(f.cr(i)).vpcEndpoint })) as KubernetesObject & { spec: Record<string, unknown>; status?: Record<string, unknown> };
    const name = `probe-${i}`;
    await custom.createNamespacedCustomObject({ group: r.group, version: r.version, plural: r.plural, namespace, body: { apiVersion: live.apiVersion, kind: live.kind, metadata: { name, namespace, annotations: live.metadata?.annotations ?? {} }, spec: { ...live.spec, vpcID: 'vpc-xapi-bench-probe' } } });
    if (live.status) await custom.patchNamespacedCustomObjectStatus({ group: r.group, version: r.version, plural: r.plural, namespace, name, body: { status: live.status }, fieldManager: 'ack-player' }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    names.push(name);
  }
  return { namespace, names };
}

/**
 * The API server's write→watch latency for the very write a rotation starts with: a merge patch
 * of a VPCEndpoint's status with a new endpoint ID (as the ACK stand-in sends it, on a kept-alive
 * connection), fired for every probe at once, each timed from its send to its watch event.
 */
async function statusWriteToWatch(p: Plane, probes: { namespace: string; names: string[] }): Promise<number[]> {
  const r = ACK.VPCEndpoint;
  const custom = ConnectedKubeConfig.from(p.clients.kc).makeApiClient(CustomObjectsApi);
  const want = new Map<string, { id: string; sentAt: number }>();
  const got: number[] = [];
  let all!: () => void;
  const done = new Promise<void>((res) => (all = res));
  const abort = await new Watch(p.clients.kc).watch(
    `/apis/${r.group}/${r.version}/namespaces/${probes.namespace}/${r.plural}`,
    {},
    (_phase, obj: { metadata: { name: string }; status?: { vpcEndpointID?: string } }) => {
      const w = want.get(obj.metadata.name);
      if (w && obj.status?.vpcEndpointID === w.id) {
        got.push(Date.now() - w.sentAt);
        want.delete(obj.metadata.name);
        if (got.length === probes.names.length) all();
      }
    },
    () => undefined,
  );
  await sleep(500);
  await Promise.all(
    probes.names.map(async (name) => {
      const id = `vpce-${randomBytes(8).toString('hex')}`;
      want.set(name, { id, sentAt: Date.now() });
      const status = { vpcEndpointID: id, state: 'available', dnsEntries: [{ dnsName: `${id}.vpce.example` }] };
      await custom.patchNamespacedCustomObjectStatus({ group: r.group, version: r.version, plural: r.plural, namespace: probes.namespace, name, body: { status }, fieldManager: 'ack-player' }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    }),
  );
  await Promise.race([done, sleep(120_000)]);
  abort.abort();
  return got;
}

/** Writes by resource[/subresource] and verb, e.g. `restapis:patch=100`. */
function breakdown(events: AuditEvent[], users: Set<string>, from: number): string {
  const by = new Map<string, number>();
  for (const e of events) {
    if (!users.has(e.user.username) || !WRITE_VERBS.has(e.verb) || e.objectRef?.resource === 'leases') continue;
    if (Date.parse(e.requestReceivedTimestamp) < from) continue;
    const k = `${e.objectRef?.resource ?? '?'}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}:${e.verb}`;
    by.set(k, (by.get(k) ?? 0) + 1);
  }
  return [...by].sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k}=${v}`).join(' ');
}

/** Sum and count of the operator's xapi_rotation_latency_seconds histogram. */
async function rotationMetric(op: OperatorProcess): Promise<{ sum: number; count: number }> {
  const text = await op.metricsText();
  return { sum: metricSum(text, 'xapi_rotation_latency_seconds_sum'), count: metricSum(text, 'xapi_rotation_latency_seconds_count') };
}

/** The operator's CPU time, event-loop lag, reconciles and endpoint-group passes so far (its /metrics). */
async function runtimeFigures(op: OperatorProcess): Promise<string> {
  const t = await op.metricsText();
  const v = (name: string) => metricSum(t, name);
  return `cpu_s=${v('process_cpu_seconds_total').toFixed(1)} eventloop_lag_max_ms=${(1000 * v('nodejs_eventloop_lag_max_seconds')).toFixed(0)} eventloop_lag_p99_ms=${(1000 * v('nodejs_eventloop_lag_p99_seconds')).toFixed(0)} reconciles=${v('xapi_reconcile_total')} group_passes=${v('xapi_endpoint_group_reconcile_total')} errors=${v('xapi_reconcile_errors_total')} rss_now_mb=${(v('process_resident_memory_bytes') / 2 ** 20).toFixed(0)} heap_used_mb=${(v('nodejs_heap_size_used_bytes') / 2 ** 20).toFixed(0)} heap_total_mb=${(v('nodejs_heap_size_total_bytes') / 2 ** 20).toFixed(0)} external_mb=${(v('nodejs_external_memory_bytes') / 2 ** 20).toFixed(0)}`;
}

/** Gaps between the operator's Lease updates longer than 3 s (the renew deadline is 10 s). */
function leaseGaps(events: AuditEvent[], users: Set<string>, from: number): string {
  const times = events
    .filter((e) => users.has(e.user.username) && e.objectRef?.resource === 'leases' && e.verb === 'update')
    .map((e) => Date.parse(e.requestReceivedTimestamp))
    .filter((t) => t >= from)
    .sort((a, b) => a - b);
  const gaps: string[] = [];
  for (let i = 1; i < times.length; i++) if (times[i]! - times[i - 1]! > 3000) gaps.push(`${((times[i]! - times[i - 1]!) / 1000).toFixed(1)}s@+${((times[i - 1]! - from) / 1000).toFixed(0)}s`);
  return gaps.length ? gaps.join(' ') : 'none';
}

/**
 * The API servers' own pace for writes like the operator's: server-side applies of one CR's
 * rendered ACK objects (copies, unlabelled, in a namespace nobody watches), `total` of them
 * spread over both planes at `concurrency` at once. Writes per second.
 */
async function applyRate(planes: Plane[], cr: CrossAccountApi, total: number, concurrency: number): Promise<number> {
  const valid = validateSpec(cr.spec);
  if (!valid.ok) throw new Error('the fixture CR does not validate');
  const rendered = renderMember({ ...cr, spec: withDefaults(valid.spec) }, {});
  const templates = [...rendered.consumer, ...rendered.provider];
  const ns = 'scale-floor';
  await Promise.all(planes.map((p) => ensureNamespace(p.clients.core, ns)));
  const apis = planes.map((p) => KubernetesObjectApi.makeApiClient(p.clients.kc));
  let next = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t = templates[i % templates.length]!;
        const body = { ...t, metadata: { name: `floor-${i}`, namespace: ns } } as KubernetesObject;
        await apis[i % apis.length]!.patch(body, undefined, undefined, 'xapi-bench', true, PatchStrategy.ServerSideApply);
      }
    }),
  );
  return total / ((Date.now() - t0) / 1000);
}

/** When the operator logged each replaced endpoint (`endpoint replaced`), by "namespace/name", from `from` on. */
function replacedSeen(logPath: string, from: number): Map<string, number> {
  const seen = new Map<string, number>();
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    if (!line.includes('"endpoint replaced"')) continue;
    const e = JSON.parse(line) as { time: number; endpoint: string };
    if (e.time >= from && !seen.has(e.endpoint)) seen.set(e.endpoint, e.time);
  }
  return seen;
}

/**
 * Where a rotation's time goes, from the audit logs and the operator's log (p50/p99 of each): the
 * ACK stand-in's status write from its send to done on A (the first hop's write, with no operator
 * code on its way) → the operator's watch event for it (its log line) →
 * the operator's RestAPI write received on B (its reconcile, the request's way to B), that
 * write's own time, and its end → this process's watch seeing it. Then the burst as a whole:
 * when the first, the median and the last of each stage happened, from the first send (B
 * receiving the last RestAPI write long after the operator heard the last event is time spent in
 * the operator's passes and on the requests' way to B).
 */
function rotationSegments(A: Plane, B: Plane, users: Set<string>, from: number, f: Fixture, k: number, sentAt: Map<string, number>, seenAt: Map<string, number>, operatorLog: string): string {
  const done = (e: AuditEvent) => Date.parse(e.stageTimestamp);
  const eventsA = auditEvents(A).filter((e) => Date.parse(e.requestReceivedTimestamp) >= from && e.objectRef?.resource === 'vpcendpoints' && e.objectRef.subresource === 'status' && !users.has(e.user.username));
  const eventsB = auditEvents(B).filter((e) => Date.parse(e.requestReceivedTimestamp) >= from && e.objectRef?.resource === 'restapis' && e.verb === 'patch' && users.has(e.user.username));
  const replaced = replacedSeen(operatorLog, from);
  const statusWrite: number[] = [];
  const toEvent: number[] = [];
  const eventToWrite: number[] = [];
  const write: number[] = [];
  const toWatch: number[] = [];
  // The burst as a whole: when each stage happened, from the first status write's send.
  const t0 = Math.min(...sentAt.values());
  const at = { sent: [] as number[], written: [] as number[], heard: [] as number[], received: [] as number[], seen: [] as number[] };
  for (let i = 0; i < k; i++) {
    const names = objectNames(f.cr(i));
    const status = eventsA.find((e) => e.objectRef?.name === names.vpcEndpoint);
    const patch = eventsB.find((e) => e.objectRef?.name === names.restApi);
    const seen = seenAt.get(names.restApi);
    if (!status || !patch) continue;
    const sent = sentAt.get(names.restApi);
    if (sent !== undefined) statusWrite.push(done(status) - sent);
    const heard = replaced.get(`${status.objectRef?.namespace}/${names.vpcEndpoint}`);
    if (heard !== undefined) {
      toEvent.push(heard - done(status));
      eventToWrite.push(Date.parse(patch.requestReceivedTimestamp) - heard);
    }
    write.push(done(patch) - Date.parse(patch.requestReceivedTimestamp));
    if (seen !== undefined) toWatch.push(seen - done(patch));
    if (sent !== undefined) at.sent.push(sent - t0);
    at.written.push(done(status) - t0);
    if (heard !== undefined) at.heard.push(heard - t0);
    at.received.push(Date.parse(patch.requestReceivedTimestamp) - t0);
    if (seen !== undefined) at.seen.push(seen - t0);
  }
  const when = Object.entries(at).map(([name, v]) => `${name} ${pct(v, 0).toFixed(0)}/${pct(v, 50).toFixed(0)}/${pct(v, 100).toFixed(0)}`);
  const fig = (name: string, v: number[]) => `${name} p50_ms=${pct(v, 50).toFixed(0)} p99_ms=${pct(v, 99).toFixed(0)}`;
  return [
    fig('status_sent→written', statusWrite),
    fig('status_written→operator_event', toEvent),
    fig('operator_event→write_received', eventToWrite),
    fig('operator_write', write),
    fig('write_done→watch_seen', toWatch),
    `(n=${write.length}, with the operator's event ${toEvent.length})`,
    `timeline ms from the first send, first/median/last: ${when.join(', ')}`,
  ].join('  ');
}

interface RotationRound {
  /** Each rotation's time from the status write's send to the bench's watch seeing the policy. */
  latency: number[];
  /** The API server's own write→watch times measured right before: ConfigMap creates. */
  base: number[];
  /** The same, for the write a rotation starts with (a VPCEndpoint status patch). */
  same: number[];
  /** Mean of the operator's xapi_rotation_latency_seconds over this round, and its count. */
  metricMs: number;
  metricN: number;
}

const ratio = (r: RotationRound) => pct(r.latency, 99) / Math.max(1, pct(r.base, 99));
const ratioSame = (r: RotationRound) => pct(r.latency, 99) / Math.max(1, pct(r.same, 99));

/** One round: the baseline, then k rotations fired at once; prints where their time went. */
async function rotationRound(c: { round: number; n: number; k: number; A: Plane; B: Plane; f: Fixture; op: OperatorProcess; users: Set<string>; probes: { namespace: string; names: string[] } }): Promise<RotationRound> {
  const { n, k, A, B, f, op, users } = c;
  // The API server's own write→watch latency, now, with as many writes at once as rotations.
  const base = await writeToWatch(A, f.ns, k, c.round);
  const same = await statusWriteToWatch(A, c.probes);
  const metricBefore = await rotationMetric(op);
  const rotFrom = Date.now();

  // Rotations, fired at once; each timed to the watch event of its RestAPI showing the new ID.
  const r = ACK.RestAPI;
  const customB = B.clients.kc.makeApiClient(CustomObjectsApi);
  const apis = makeInformer<KubernetesObject & { spec?: { policy?: string } }>(B.clients.kc, `/apis/${r.group}/${r.version}/namespaces/${f.bNs}/${r.plural}`, () => customB.listNamespacedCustomObject({ group: r.group, version: r.version, plural: r.plural, namespace: f.bNs }) as never);
  const want = new Map<string, { id: string; sentAt: number }>();
  const sentAt = new Map<string, number>();
  const latency: number[] = [];
  const seenAt = new Map<string, number>();
  let landed!: () => void;
  const landedP = new Promise<void>((res) => (landed = res));
  const check = (o: KubernetesObject & { spec?: { policy?: string } }) => {
    const w = want.get(o.metadata!.name!);
    if (w && String(o.spec?.policy).includes(w.id)) {
      latency.push(Date.now() - w.sentAt);
      seenAt.set(o.metadata!.name!, Date.now());
      want.delete(o.metadata!.name!);
      if (latency.length === k) landed();
    }
  };
  apis.on('add', check);
  apis.on('update', check);
  apis.on('error', () => setTimeout(() => void apis.start(), 1000));
  await apis.start();
  await Promise.all(
    Array.from({ length: k }, async (_, i) => {
      const name = objectNames(f.cr(i)).restApi;
      const done = await f.rotate(i);
      want.set(name, { id: done.id, sentAt: done.sentAt });
      sentAt.set(name, done.sentAt);
      // The operator may have been faster than this line: look at the cached object too.
      check((apis.get(name) ?? { metadata: { name } }) as KubernetesObject & { spec?: { policy?: string } });
    }),
  );
  await Promise.race([landedP, sleep(600_000)]);
  process.stderr.write(`[scale] N=${n} rotation segments: ${rotationSegments(A, B, users, rotFrom, f, k, sentAt, seenAt, op.logPath)}\n`);
  // The operator's passes go on after the policy is seen (the Deployment, the Stage, status):
  // its metric and the write breakdown are read once every rotation's pass has finished.
  let metricAfter = await rotationMetric(op);
  for (const until = Date.now() + 120_000; metricAfter.count - metricBefore.count < k && Date.now() < until; metricAfter = await rotationMetric(op)) await sleep(500);
  process.stderr.write(`[scale] N=${n} rotation writes by resource: ${breakdown([...auditEvents(A), ...auditEvents(B)], users, rotFrom)}\n`);
  await apis.stop();
  return { latency, base, same, metricMs: (1000 * (metricAfter.sum - metricBefore.sum)) / Math.max(1, metricAfter.count - metricBefore.count), metricN: metricAfter.count - metricBefore.count };
}

interface Counts {
  requests: number;
  writes: number;
}

function countBy(events: AuditEvent[], users: Set<string>, from: number, to = Infinity): Counts {
  let requests = 0;
  let writes = 0;
  for (const e of events) {
    if (!users.has(e.user.username)) continue;
    const t = Date.parse(e.requestReceivedTimestamp);
    if (t < from || t > to) continue;
    requests++;
    // Lease renewals are the leader's heartbeat, not writes to anyone's objects.
    if (WRITE_VERBS.has(e.verb) && e.objectRef?.resource !== 'leases') writes++;
  }
  return { requests, writes };
}

/** What a run must stop if the bench itself is stopped (SIGINT, SIGTERM): no API server is left behind. */
let cleanup: (() => Promise<void>) | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`bench:scale: ${sig}, stopping the operator and the API servers`);
    void (cleanup?.() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

async function runOnce(n: number, bin: string | undefined): Promise<string> {
  const run = `${n}-${Date.now().toString(36).slice(-4)}`;
  const [A, B] = await Promise.all([startPlane(`scale-a-${run}`, { audit: true }), startPlane(`scale-b-${run}`, { audit: true })]);
  let op: OperatorProcess | undefined;
  let f: Fixture | undefined;
  cleanup = async () => {
    await op?.kill('SIGKILL');
    await Promise.all([A.plane.stop(), B.plane.stop()]);
  };
  try {
    const idA = await issueIdentity(A, 'xapi-operator', 'operator');
    const idB = await issueIdentity(B, 'xapi-operator', 'operator');
    const users = new Set([idA.user, idB.user]);
    f = await Fixture.create({ name: `sc${n}`, a: A.clients, b: B.clients, bKubeconfig: idB.kubeconfig, count: n, graceSeconds: 30, changeLog: false, playerConcurrency: PLAYER_CONCURRENCY });
    // The namespaces are old enough for ACK before the CRs come (NAMESPACE_SETTLE_MS): the figures
    // are of the convergence, not of the hold on a namespace created in the same second.
    await new Promise((r) => setTimeout(r, NAMESPACE_SETTLE_MS));

    const prof = process.env.XAPI_BENCH_CPU_PROF;
    op = await OperatorProcess.start({
      kubeconfig: tempFile('operator.kubeconfig', idA.kubeconfig),
      namespace: f.ns,
      leaseName: 'xapi-scale',
      identity: 'scale-operator',
      ...(bin && { bin }),
      nodeArgs: [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), ...(process.env.XAPI_BENCH_OPERATOR_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [])],
      // The operator's Deployment sets NODE_OPTIONS (heap sizes) and MALLOC_ARENA_MAX; the same
      // here, NODE_OPTIONS overridable.
      env: { ...OPERATOR_MEMORY_ENV, ...(process.env.XAPI_BENCH_OPERATOR_NODE_OPTIONS && { NODE_OPTIONS: process.env.XAPI_BENCH_OPERATOR_NODE_OPTIONS }) },
    });
    // Every CR's Ready, from a watch on the CRs.
    const custom = A.clients.kc.makeApiClient(CustomObjectsApi);
    const crs = makeInformer<KubernetesObject>(A.clients.kc, `/apis/${GROUP}/${VERSION}/namespaces/${f.ns}/${PLURAL}`, () => custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: f!.ns }) as never);
    const ready = new Set<string>();
    let allReady!: () => void;
    const allReadyP = new Promise<void>((r) => (allReady = r));
    const firstReady = new Map<string, number>();
    const seen = (o: KubernetesObject) => {
      if (Fixture.isReady(o as CrossAccountApi) && !firstReady.has(o.metadata!.name!)) firstReady.set(o.metadata!.name!, Date.now());
      if (Fixture.isReady(o as CrossAccountApi)) ready.add(o.metadata!.name!);
      else ready.delete(o.metadata!.name!);
      if (ready.size === n) allReady();
    };
    crs.on('add', seen);
    crs.on('update', seen);
    crs.on('error', () => setTimeout(() => void crs.start(), 1000));
    await crs.start();

    const t0 = Date.now();
    await f.createCrs(8);
    const deadline = Math.max(1800, n * 4);
    const progress = setInterval(() => process.stderr.write(`[scale] N=${n}: ${ready.size} Ready after ${((Date.now() - t0) / 1000).toFixed(0)} s\n`), 30_000);
    await Promise.race([allReadyP, sleep(deadline * 1000).then(() => Promise.reject(new Error(`N=${n}: only ${ready.size} of ${n} CRs Ready after ${deadline} s`)))]).finally(() => clearInterval(progress));
    const readyS = (Date.now() - t0) / 1000;
    // When CRs become Ready along the way: the median and 90th percentile CR, from the first create.
    const readyTimes = [...firstReady.values()].map((t) => (t - t0) / 1000);
    const converge = (() => {
      const a = countBy(auditEvents(A), users, t0);
      const b = countBy(auditEvents(B), users, t0);
      return { requests: a.requests + b.requests, writes: a.writes + b.writes };
    })();
    // Every writer's writes while converging (the operator's, the ACK stand-in's, the CR creates).
    const tReady = Date.now();
    const allWrites = [...auditEvents(A), ...auditEvents(B)].filter((e) => {
      const t = Date.parse(e.requestReceivedTimestamp);
      return t >= t0 && t <= tReady && WRITE_VERBS.has(e.verb) && e.objectRef?.resource !== 'leases';
    }).length;
    process.stderr.write(`[scale] N=${n} convergence writes by resource: ${breakdown([...auditEvents(A), ...auditEvents(B)], users, t0)}\n`);
    process.stderr.write(`[scale] N=${n} after convergence: ${await runtimeFigures(op)}\n`);

    // Idle: everything Ready, nothing changes; the operator should write nothing.
    await sleep(5000);
    const idleFrom = Date.now();
    await sleep(IDLE_SECONDS * 1000);
    const idleTo = Date.now();
    const idle = countBy([...auditEvents(A), ...auditEvents(B)], users, idleFrom, idleTo);

    // Rotation rounds: the first right after the idle window, each further one after as long again.
    const k = Math.min(ROTATIONS, n);
    const rounds: RotationRound[] = [];
    const probes = await probeEndpoints(A, f, k);
    await sleep(5000);
    for (let r = 1; r <= ROUNDS; r++) {
      if (r > 1) await sleep(IDLE_SECONDS * 1000);
      const round = await rotationRound({ round: r, n, k, A, B, f, op, users, probes });
      rounds.push(round);
      if (ROUNDS > 1) process.stderr.write(`[scale] N=${n} round ${r}/${ROUNDS}: rotation p99_ms=${pct(round.latency, 99).toFixed(0)} baseline p99_ms=${pct(round.base, 99).toFixed(0)} ratio=${ratio(round).toFixed(1)} status_baseline p99_ms=${pct(round.same, 99).toFixed(0)} ratio=${ratioSame(round).toFixed(1)}\n`);
    }
    process.stderr.write(`[scale] N=${n} after rotations: ${await runtimeFigures(op)}; lease renewal gaps > 3 s: ${leaseGaps(auditEvents(A), users, t0)}\n`);
    const { latency, base, same, metricMs, metricN } = rounds[0]!;
    await crs.stop();
    const rss = peakRssMb(op.pid);
    // The floor: how long the API servers alone take for as many writes as the convergence made,
    // measured with the operator stopped (as many writers at once as the operator and the ACK
    // stand-in together; at most 4,000 writes, the rate is steady well before).
    await op.kill('SIGTERM');
    const rate = await applyRate([A, B], f.cr(0), Math.min(allWrites, 4000), PLAYER_CONCURRENCY + 8);
    const floorS = allWrites / rate;

    const line = [
      `N=${n}`,
      `ready_s=${readyS.toFixed(1)} (half Ready at ${pct(readyTimes, 50).toFixed(1)} s, 90% at ${pct(readyTimes, 90).toFixed(1)} s)`,
      `apiserver_floor_s=${floorS.toFixed(1)} (${allWrites} writes by everyone at ${rate.toFixed(0)}/s)`,
      `ready_s/floor_s=${(readyS / floorS).toFixed(1)}`,
      `rss_mb=${rss.toFixed(0)}`,
      `requests=${converge.requests} (${(converge.requests / n).toFixed(1)}/CR)`,
      `writes=${converge.writes} (${(converge.writes / n).toFixed(1)}/CR)`,
      `idle_writes=${idle.writes} in ${IDLE_SECONDS} s (idle requests ${idle.requests})`,
      `rotations=${latency.length}/${k} p50_ms=${pct(latency, 50).toFixed(0)} p99_ms=${pct(latency, 99).toFixed(0)}`,
      `apiserver_write_to_watch p50_ms=${pct(base, 50).toFixed(0)} p99_ms=${pct(base, 99).toFixed(0)} (n=${base.length})`,
      `rotation_p99/baseline_p99=${ratio(rounds[0]!).toFixed(1)}`,
      `apiserver_status_write_to_watch p50_ms=${pct(same, 50).toFixed(0)} p99_ms=${pct(same, 99).toFixed(0)} (n=${same.length})`,
      `rotation_p99/status_baseline_p99=${ratioSame(rounds[0]!).toFixed(1)}`,
      `operator_rotation_metric mean_ms=${metricMs.toFixed(0)} (n=${metricN})`,
      ...(ROUNDS > 1 ? [`ratio by round ${rounds.map((x) => ratio(x).toFixed(1)).join(' ')} (against the status write: ${rounds.map((x) => ratioSame(x).toFixed(1)).join(' ')})`] : []),
    ].join('  ');
    console.log(line);
    return `scale crs=${n} ready_s=${readyS.toFixed(1)} rss_mb=${rss.toFixed(0)} idle_writes=${idle.writes} rotation_p99_ms=${latency.length === k ? pct(latency, 99).toFixed(0) : 'lost'}`;
  } finally {
    await op?.kill('SIGTERM');
    await f?.stop();
    await Promise.all([A.plane.stop(), B.plane.stop()]);
    cleanup = undefined;
  }
}

async function main(): Promise<void> {
  const counts = parseCounts(process.argv.slice(2));
  const bin = operatorLauncher();
  console.error(`[scale] operator: ${bin ?? 'dist/ of this checkout (XAPI_BENCH_UNBUNDLED=1)'}`);
  let last = '';
  try {
    for (const n of counts) last = await runOnce(n, bin);
  } finally {
    if (bin) rmSync(dirname(dirname(bin)), { recursive: true, force: true });
  }
  console.log(last);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench:scale failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
