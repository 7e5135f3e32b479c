// Issue 14: restarting the operator (SIGTERM as a rollout does, SIGKILL as an OOM kill or a
// node loss does) must never touch a live API. The operator runs as its own process through the
// CLI; the test plays ACK. Every case: zero disruption, and an endpoint rotated while the
// operator was down lands in the RestAPI policy once it is back.
import { sleep, until } from '../helpers.js';
import { Fixture } from './fixture.js';
import { OperatorProcess, waitWorking } from './operator-process.js';
import { startPair, type Plane } from './planes.js';

const RUN = Date.now().toString(36).slice(-4);
let A: Plane;
let B: Plane;
const fixtures: Fixture[] = [];
const ops: OperatorProcess[] = [];

beforeAll(async () => {
  [A, B] = await startPair(`fault-restart-${RUN}`);
}, 300_000);

afterAll(async () => {
  for (const op of ops) await op?.kill('SIGKILL');
  for (const f of fixtures) await f.stop();
  await Promise.all([A?.plane.stop(), B?.plane.stop()]);
});

async function fixture(name: string, count: number): Promise<Fixture> {
  const f = await Fixture.create({ name: `${name}-${RUN}`, a: A.clients, b: B.clients, bKubeconfig: B.kubeconfig, count });
  fixtures.push(f);
  return f;
}

async function operatorFor(f: Fixture): Promise<OperatorProcess> {
  const op = await f.operator(A.plane.kubeconfigPath, { resyncSeconds: 20 });
  ops.push(op);
  return op;
}

/** Kill, rotate CR 0's endpoint while no operator runs, start again, wait until it has worked. */
async function restart(f: Fixture, op: OperatorProcess, signal: 'SIGTERM' | 'SIGKILL', count: number): Promise<void> {
  const exit = await op.kill(signal);
  if (signal === 'SIGTERM') expect(exit).toEqual({ code: 0, signal: null }); // graceful stop
  await f.rotate(0);
  await op.restart();
  await waitWorking(op, count);
}

const steady = new Map<number, { f: Fixture; op: OperatorProcess }>();

async function converged(count: number): Promise<{ f: Fixture; op: OperatorProcess }> {
  let s = steady.get(count);
  if (!s) {
    const f = await fixture(`rs${count}`, count);
    await f.createCrs();
    const op = await operatorFor(f);
    await f.waitAllReady();
    steady.set(count, (s = { f, op }));
  }
  return s;
}

describe.each([1, 50])('%i CR(s)', (count) => {
  const timeout = count === 1 ? 300_000 : 900_000;

  // The control: without a restart the checks see nothing but the rotation (no false alarms
  // from the player or the recorders).
  it(
    'control, no restart: a rotation lands and nothing else moves',
    async () => {
      const { f, op } = await converged(count);
      await sleep(2000);
      const before = await f.snapshot();
      f.changes!.mark();
      await f.rotate(count - 1);
      await f.waitRotationsLanded();
      await f.waitAllReady();
      await sleep(10_000);
      expect({ snapshot: f.compare(before, await f.snapshot()), watched: f.logged(true) }).toEqual({ snapshot: [], watched: [] });
      expect(op.exitStatus).toBeUndefined();
    },
    timeout,
  );

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(
      `${signal} at steady state: nothing deleted, recreated or changed; the rotation lands`,
      async () => {
        const { f, op } = await converged(count);
        await sleep(2000); // let status writes of the last Ready settle before the baseline
        const before = await f.snapshot();
        f.changes!.mark();
        await restart(f, op, signal, count);
        await f.waitRotationsLanded();
        await f.waitAllReady();
        await sleep(5000); // a window for late writes of the restarted process to show
        const after = await f.snapshot();
        expect({ snapshot: f.compare(before, after), watched: f.logged(true) }).toEqual({ snapshot: [], watched: [] });
        expect(await f.lostRotations()).toEqual([]);
      },
      timeout,
    );

    it(
      `${signal} in the middle of convergence: nothing deleted or reset; converges; the rotation lands`,
      async () => {
        const f = await fixture(`rm${count}-${signal === 'SIGTERM' ? 't' : 'k'}`, count);
        // ACK "has not created" the Methods yet: convergence stops with Integrations and the
        // Deployment not rendered, as a real API takes seconds to appear in AWS.
        f.player.hold('Method');
        await f.createCrs();
        const op = await operatorFor(f);
        const methods = count * 3;
        await until(
          'half the Methods created',
          async () => [...(await f.snapshot()).keys()].filter((k) => k.includes('/Method/')).length >= Math.ceil(methods / 2),
          300_000,
          200,
        );
        const atKill = await f.snapshot();
        await restart(f, op, signal, count);
        f.player.release();
        await f.waitAllReady();
        await f.waitRotationsLanded();
        await sleep(5000);
        const after = await f.snapshot();
        // Objects may gain fields as IDs arrive, but none that existed is deleted or replaced,
        // and no spec goes back to an earlier version (e.g. a policy reset to deny-all).
        const gone = [...atKill].filter(([k, o]) => after.get(k)?.uid !== o.uid && !(f.changedOwners().has(o.owner) && k.includes('/Deployment/'))).map(([k]) => k);
        expect({ gone, watched: f.logged(false) }).toEqual({ gone: [], watched: [] });
        expect(await f.lostRotations()).toEqual([]);
        await op.kill('SIGTERM');
      },
      timeout,
    );
  }
});
