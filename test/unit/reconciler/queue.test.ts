import { jest } from "@jest/globals";
import { createHook } from 'node:async_hooks';
import { FRESH_TURN, URGENT_HOLD_MS, WorkQueue } from '../../../src/reconciler/queue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until `cond` holds (CI's machine is shared and busy: a pass may start late, so these tests
 * wait for what they expect instead of assuming it happened within some milliseconds).
 */
async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

describe('WorkQueue', () => {
  it('coalesces a key added many times before it runs', async () => {
    const q = new WorkQueue();
    const seen: string[] = [];
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.depth).toBe(2);
    const done = q.run(async (k) => {
      seen.push(k);
    });
    await until('two passes', () => seen.length >= 2);
    await sleep(20); // room for a third pass, which must not come
    q.shutDown();
    await done;
    expect(seen).toEqual(['a', 'b']);
  });

  it('never runs one key twice at once and re-runs a key changed while running', async () => {
    const q = new WorkQueue();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const done = q.run(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      runs++;
      await held;
      active--;
    }, 4);
    q.add('k');
    await until('the first pass', () => runs === 1);
    q.add('k'); // while running
    q.add('k');
    await sleep(20); // three idle workers could take it now, and must not
    release();
    await until('the second pass', () => runs === 2);
    await sleep(20);
    q.shutDown();
    await done;
    expect(maxActive).toBe(1);
    expect(runs).toBe(2);
  });

  it('runs different keys in parallel', async () => {
    const q = new WorkQueue();
    let active = 0;
    let maxActive = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const done = q.run(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await held; // no pass ends before all three ran at once
      active--;
    }, 3);
    q.add('a');
    q.add('b');
    q.add('c');
    await until('three passes at once', () => maxActive === 3);
    release();
    q.shutDown();
    await done;
    expect(maxActive).toBe(3);
  });

  it('retries failures with exponential backoff, capped', async () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 40 });
    expect([1, 2, 3, 4, 5].map((n) => q.backoffDelay(n))).toEqual([10, 20, 40, 40, 40]);
    const times: number[] = [];
    const done = q.run(async () => {
      times.push(Date.now());
      if (times.length < 4) throw new Error('boom');
    });
    q.add('x');
    await until('the third retry', () => times.length === 4);
    await sleep(60); // longer than the cap: a fifth pass would come now
    q.shutDown();
    await done;
    expect(times.length).toBe(4);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(8);
    expect(gaps[1]).toBeGreaterThanOrEqual(18);
    expect(gaps[2]).toBeGreaterThanOrEqual(38);
  });
});

describe('WorkQueue with fake timers', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs a key again at once when it changed while its reconcile failed, not after the backoff', async () => {
    const q = new WorkQueue({ baseDelayMs: 60_000, maxDelayMs: 60_000 });
    const runs: number[] = [];
    let release!: () => void;
    const done = q.run(async () => {
      runs.push(Date.now());
      if (runs.length === 1) {
        await new Promise<void>((r) => (release = r));
        throw new Error('stale read');
      }
    });
    q.add('k');
    await jest.advanceTimersByTimeAsync(1);
    expect(runs).toHaveLength(1);
    q.add('k'); // the CR changed while the failing reconcile ran
    release();
    await jest.advanceTimersByTimeAsync(1);
    expect(runs).toHaveLength(2);
    expect(runs[1]! - runs[0]!).toBeLessThan(60_000);
    q.shutDown();
    await done;
  });

  it('retries an unchanged failing key only after the backoff', async () => {
    // A pass starts on the event loop's next turn (setImmediate); a real one, so that the fake clock
    // stands still while it comes.
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const turn = () => new Promise<void>((r) => setImmediate(r));
    const q = new WorkQueue({ baseDelayMs: 1_000, maxDelayMs: 8_000 });
    const runs: number[] = [];
    const start = Date.now();
    const done = q.run(async () => {
      runs.push(Date.now() - start);
      throw new Error('down');
    });
    q.add('k');
    await turn();
    await jest.advanceTimersByTimeAsync(999);
    expect(runs).toEqual([0]);
    await jest.advanceTimersByTimeAsync(1);
    await turn();
    expect(runs).toEqual([0, 1000]);
    await jest.advanceTimersByTimeAsync(2000);
    await turn();
    expect(runs).toEqual([0, 1000, 3000]);
    q.shutDown();
    await done;
  });

  it('addAfter delivers the key later, the earliest schedule winning', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const turn = () => new Promise<void>((r) => setImmediate(r));
    const q = new WorkQueue();
    const seen: Array<[string, number]> = [];
    const start = Date.now();
    const done = q.run(async (k) => {
      seen.push([k, Date.now() - start]);
    });
    q.addAfter('t', 80);
    q.addAfter('t', 30);
    await jest.advanceTimersByTimeAsync(29);
    await turn();
    expect(seen).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    await turn();
    expect(seen).toEqual([['t', 30]]);
    await jest.advanceTimersByTimeAsync(100);
    await turn();
    expect(seen).toEqual([['t', 30]]); // the later schedule was dropped, not kept beside it
    q.shutDown();
    await done;
  });

});

describe('WorkQueue turns', () => {
  it('lets a running pass reach its request before the next pass starts', async () => {
    const q = new WorkQueue();
    const seen: string[] = [];
    let finished!: () => void;
    const all = new Promise<void>((r) => (finished = r));
    const done = q.run(async (key) => {
      seen.push(`start ${key}`);
      // Awaits that resolve at once (a cached read, a finalizer already there), then the request.
      for (let i = 0; i < 5; i++) await Promise.resolve();
      seen.push(`request ${key}`);
      if (seen.length === 6) finished();
    }, 3, 0);
    for (const k of ['a', 'b', 'c']) q.add(k);
    await all;
    expect(seen).toEqual(['start a', 'request a', 'start b', 'request b', 'start c', 'request c']);
    q.shutDown();
    await done;
  });
});

describe('WorkQueue urgent keys', () => {
  it('runs urgent keys before the backlog, on workers of their own', async () => {
    const q = new WorkQueue();
    const seen: string[] = [];
    for (const k of ['a', 'b', 'c', 'd']) q.add(k);
    q.add('c', true); // already queued: moves ahead
    q.add('u', true);
    expect(q.depth).toBe(5);
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    // One ordinary worker, held by its first key; one urgent-only worker.
    const done = q.run(
      async (k) => {
        seen.push(k);
        if (k === 'c') await blocked;
      },
      1,
      1,
    );
    await until('two passes', () => seen.length === 2);
    await sleep(20); // room for a third, which must not come
    // 'c' and 'u' went first; the ordinary worker is held by 'c', the urgent one took 'u' and then
    // waits for urgent keys only, so the backlog has not moved.
    expect(seen.slice(0, 2).sort()).toEqual(['c', 'u']);
    expect(seen).toHaveLength(2);
    q.add('v', true);
    await until('v', () => seen.includes('v'));
    expect(seen).not.toContain('a');
    release();
    await until('the backlog', () => seen.length === 6);
    q.shutDown();
    await done;
    expect(seen.slice(3)).toEqual(['a', 'b', 'd']);
  });
});

describe('WorkQueue urgent keys running', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /** A queue with `workers` ordinary and 2 urgent-only workers whose keys run until released. */
  function gated(workers = 2) {
    const q = new WorkQueue();
    const started: string[] = [];
    const gates = new Map<string, () => void>();
    const done = q.run(
      async (k) => {
        started.push(k);
        await new Promise<void>((r) => gates.set(k, r));
      },
      workers,
      2,
    );
    return { q, started, release: (k: string) => gates.get(k)!(), done };
  }

  it('keeps other keys waiting while urgent ones run, and starts them when the last ends', async () => {
    const { q, started, release, done } = gated();
    q.add('u1', true);
    q.add('u2', true);
    await jest.advanceTimersByTimeAsync(1);
    q.add('a');
    q.add('b');
    await jest.advanceTimersByTimeAsync(URGENT_HOLD_MS / 2);
    // Two ordinary workers are idle, yet the backlog waits for the urgent keys.
    expect(started.sort()).toEqual(['u1', 'u2']);
    release('u1');
    await jest.advanceTimersByTimeAsync(1);
    expect(started).toHaveLength(2);
    q.add('u3', true); // an urgent key still goes at once
    await jest.advanceTimersByTimeAsync(1);
    expect(started).toContain('u3');
    release('u2');
    release('u3');
    await jest.advanceTimersByTimeAsync(1);
    expect(started.slice(3).sort()).toEqual(['a', 'b']);
    release('a');
    release('b');
    q.shutDown();
    await jest.advanceTimersByTimeAsync(1);
    await done;
  });

  it('holds the backlog for URGENT_HOLD_MS at most, so endless urgent work cannot starve it', async () => {
    // Ordinary workers take urgent keys too: three, so that one is left for 'b' below.
    const { q, started, release, done } = gated(3);
    q.add('u1', true);
    await jest.advanceTimersByTimeAsync(1);
    q.add('a');
    await jest.advanceTimersByTimeAsync(URGENT_HOLD_MS - 10);
    expect(started).toEqual(['u1']);
    await jest.advanceTimersByTimeAsync(20);
    expect(started).toEqual(['u1', 'a']);
    // Within the same run of urgent work the hold is not taken again.
    q.add('b');
    await jest.advanceTimersByTimeAsync(1);
    expect(started).toEqual(['u1', 'a', 'b']);
    release('u1');
    release('a');
    release('b');
    q.shutDown();
    await jest.advanceTimersByTimeAsync(1);
    await done;
  });
});

describe('WorkQueue idle workers', () => {
  it('hold one pending promise each, however many keys pass by them', async () => {
    // Promises created while the queue runs that are not settled: an idle worker that chained a
    // promise per wake-up grew this by (keys × idle workers).
    const pending = new Set<number>();
    const hook = createHook({
      init: (id, type) => {
        if (type === 'PROMISE') pending.add(id);
      },
      promiseResolve: (id) => pending.delete(id),
      destroy: (id) => pending.delete(id),
    });
    const q = new WorkQueue();
    let handled = 0;
    hook.enable();
    const done = q.run(async () => {
      handled++;
    }, 1, 32);
    const rounds = async (n: number) => {
      for (let i = 0; i < n; i++) {
        q.add(`k${i}`);
        await sleep(0);
      }
    };
    await rounds(50);
    const after50 = pending.size;
    await rounds(500);
    const after550 = pending.size;
    hook.disable();
    q.shutDown();
    await done;
    expect(handled).toBe(550);
    // Bounded by the workers (a few per worker's loop), not by the keys that went by: the chained
    // version held 35,341 here.
    expect(after550).toBeLessThan(after50 + 20);
    expect(after550).toBeLessThan(33 * 10);
  });
});

describe('WorkQueue started keys', () => {
  it('runs keys that ran before ahead of new ones, with a turn for new ones', async () => {
    const q = new WorkQueue();
    const seen: string[] = [];
    // One worker; x and y run once, then 8 new keys arrive before x and y come back.
    let gate!: () => void;
    const held = new Promise<void>((r) => (gate = r));
    q.add('x');
    q.add('y');
    const done = q.run(async (k) => {
      seen.push(k);
      if (k === 'y') await held;
    });
    await until('x and y', () => seen.length === 2);
    expect(seen).toEqual(['x', 'y']);
    for (let i = 0; i < 8; i++) q.add(`new${i}`);
    q.add('x');
    gate();
    q.add('y'); // added while running: it runs again, as a started key
    await until('every key', () => seen.length === 12);
    await sleep(20);
    q.shutDown();
    await done;
    const after = seen.slice(2);
    // x and y (started) go before the new keys, except on every FRESH_TURN-th pick (the 4th).
    expect(FRESH_TURN).toBe(4);
    expect(after.slice(0, 3)).toEqual(['x', 'new0', 'y']);
    expect(after.filter((k) => k.startsWith('new'))).toEqual(Array.from({ length: 8 }, (_, i) => `new${i}`));
    expect(after.indexOf('y')).toBeLessThan(after.indexOf('new1'));
  });

  it('a forgotten key is new again', async () => {
    const q = new WorkQueue();
    const seen: string[] = [];
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    for (const k of ['gone', 'kept', 'z', 'block']) q.add(k);
    const done = q.run(async (k) => {
      seen.push(k);
      if (k === 'block') await hold;
    });
    await until('block', () => seen.includes('block'));
    // While 'block' runs (4 picks made): 'gone' is forgotten (its CR deleted and made again).
    q.forget('gone');
    q.add('gone');
    q.add('kept');
    release();
    await until('gone and kept again', () => seen.length === 6);
    await sleep(20);
    q.shutDown();
    await done;
    // Pick 5 is not a new key's turn: 'kept' (started) goes before 'gone' (new again).
    expect(seen).toEqual(['gone', 'kept', 'z', 'block', 'kept', 'gone']);
  });
});
