// Issue 14: two replicas with leader election (the Deployment's default shape). Killing the
// leader hands over to the other replica without disruption, and never do two replicas write at
// once: each replica uses its own identity in cluster A, so the API server's audit log tells
// whose writes are whose.
import { CoordinationV1Api } from '@kubernetes/client-node';
import { sleep, until } from '../helpers.js';
import { Fixture } from './fixture.js';
import { OperatorProcess, waitWorking } from './operator-process.js';
import { auditEvents, issueIdentity, startPair, tempFile, WRITE_VERBS, type AuditEvent, type Plane } from './planes.js';

const RUN = Date.now().toString(36).slice(-4);
const COUNT = 20;
let A: Plane;
let B: Plane;
let f: Fixture;
const ops: OperatorProcess[] = [];
const users: string[] = [];

beforeAll(async () => {
  [A, B] = await startPair(`fault-leader-${RUN}`, { audit: true });
}, 300_000);

afterAll(async () => {
  // ops is indexed by replica number (1..3): skip the holes.
  for (const op of ops) await op?.kill('SIGKILL');
  await f?.stop();
  await Promise.all([A?.plane.stop(), B?.plane.stop()]);
});

async function holder(): Promise<string | undefined> {
  const lease = await A.clients.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: `${f.ns}-lease`, namespace: f.ns });
  return lease.spec?.holderIdentity ?? undefined;
}

async function replica(n: number): Promise<OperatorProcess> {
  const id = await issueIdentity(A, 'xapi-replicas', `replica-${n}`);
  users[n] = id.user;
  const op = await f.operator(tempFile(`replica-${n}.kubeconfig`, id.kubeconfig), { identity: `replica-${n}`, resyncSeconds: 20 });
  ops[n] = op;
  return op;
}

/** Writes by a replica's identity other than its Lease renewals. */
function workWrites(events: AuditEvent[], n: number): AuditEvent[] {
  return events.filter((e) => e.user.username === users[n] && WRITE_VERBS.has(e.verb) && e.objectRef?.resource !== 'leases');
}

/** When the replica's identity first wrote the Lease successfully (took or renewed it). */
function firstLeaseWrite(events: AuditEvent[], n: number, after = 0): number | undefined {
  const e = events.find((x) => x.user.username === users[n] && x.objectRef?.resource === 'leases' && WRITE_VERBS.has(x.verb) && (x.responseStatus?.code ?? 0) < 300 && Date.parse(x.requestReceivedTimestamp) > after);
  return e ? Date.parse(e.requestReceivedTimestamp) : undefined;
}

describe(`two replicas, ${COUNT} CRs`, () => {
  it('SIGKILL of the leader: the other takes over, no overlap, no disruption, every rotation lands', async () => {
    f = await Fixture.create({ name: `ld-${RUN}`, a: A.clients, b: B.clients, bKubeconfig: B.kubeconfig, count: COUNT });
    await f.createCrs();
    await replica(1);
    await until('replica-1 holds the Lease', async () => (await holder()) === 'replica-1', 120_000, 250);
    await replica(2);
    await f.waitAllReady();
    await sleep(3000);
    expect(await holder()).toBe('replica-1');
    const before = await f.snapshot();
    f.changes!.mark();

    const killedAt = Date.now();
    await ops[1]!.kill('SIGKILL');
    for (let i = 0; i < COUNT; i++) await f.rotate(i);
    await until('replica-2 holds the Lease', async () => (await holder()) === 'replica-2', 180_000, 100);
    const tookOver = Date.now();
    await waitWorking(ops[2]!, COUNT);
    await f.waitRotationsLanded();
    await f.waitAllReady();
    await sleep(5000);
    const after = await f.snapshot();
    const events = auditEvents(A);
    const acquired = firstLeaseWrite(events, 2, killedAt);
    const firstWrite = workWrites(events, 2).map((e) => Date.parse(e.requestReceivedTimestamp)).sort((x, y) => x - y)[0];
    console.log(`[faults] leader takeover: Lease holder changed ${tookOver - killedAt} ms after SIGKILL; replica-2 took the Lease at +${acquired ? acquired - killedAt : '?'} ms, first write at +${firstWrite ? firstWrite - killedAt : '?'} ms`);

    // Never two leaders writing: replica-2 wrote nothing but the Lease before it held it, and
    // replica-1 nothing after it was killed. One expectation, so a failure shows every part.
    const early = workWrites(events, 2).filter((e) => acquired === undefined || Date.parse(e.requestReceivedTimestamp) < acquired);
    const afterKill = workWrites(events, 1).filter((e) => Date.parse(e.requestReceivedTimestamp) > killedAt);
    expect({
      leaseTaken: acquired !== undefined,
      replica2WritesBeforeLease: early.map((e) => `${e.verb} ${e.requestURI}`),
      replica1WritesAfterKill: afterKill.map((e) => `${e.verb} ${e.requestURI}`),
      snapshot: f.compare(before, after),
      watched: f.logged(true),
      lost: await f.lostRotations(),
    }).toEqual({ leaseTaken: true, replica2WritesBeforeLease: [], replica1WritesAfterKill: [], snapshot: [], watched: [], lost: [] });
  }, 900_000);

  it('a leader paused past its lease (SIGSTOP) writes nothing once resumed, and exits', async () => {
    // replica-2 leads now; replica 3 joins as the follower.
    await replica(3);
    await sleep(3000);
    expect(await holder()).toBe('replica-2');
    const before = await f.snapshot();
    f.changes!.mark();
    process.kill(ops[2]!.pid, 'SIGSTOP');
    const pausedAt = Date.now();
    await f.rotate(0);
    await until('replica-3 holds the Lease', async () => (await holder()) === 'replica-3', 180_000, 100);
    const tookOver = Date.now();
    console.log(`[faults] leader pause: replica-3 took the Lease ${tookOver - pausedAt} ms after replica-2 was paused`);
    await f.waitRotationsLanded();
    process.kill(ops[2]!.pid, 'SIGCONT');
    // The paused replica finds it lost the lease: it must stop working at once and exit.
    const exit = await ops[2]!.waitExit(120_000);
    await f.rotate(1);
    await f.waitRotationsLanded();
    await f.waitAllReady();
    await sleep(5000);
    const events = auditEvents(A);
    // A stopped process sends nothing: what arrives later than a second after the pause came after SIGCONT.
    const late = workWrites(events, 2).filter((e) => Date.parse(e.requestReceivedTimestamp) >= pausedAt + 1000);
    expect({
      writesAfterResume: late.map((e) => `${e.verb} ${e.requestURI}`),
      exited: exit !== undefined,
      snapshot: f.compare(before, await f.snapshot()),
      watched: f.logged(true),
      lost: await f.lostRotations(),
    }).toEqual({ writesAfterResume: [], exited: true, snapshot: [], watched: [], lost: [] });
  }, 900_000);
});
