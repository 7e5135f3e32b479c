import { jest } from '@jest/globals';
import { BURST_HOLD_MS, BurstGate } from '../../../src/reconciler/burst.js';

describe('BurstGate', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /** Whether the promise has settled after the microtasks run. */
  const settledYet = async (p: Promise<void>) => {
    let done = false;
    void p.then(() => (done = true));
    await Promise.resolve();
    await Promise.resolve();
    return done;
  };

  it('lets a status write go at once when no burst is under way', async () => {
    const gate = new BurstGate();
    expect(await settledYet(gate.settled())).toBe(true);
  });

  it('holds status writes until every urgent key has written its policy', async () => {
    const gate = new BurstGate();
    gate.begin('ns/a');
    gate.begin('ns/b');
    gate.end('ns/a');
    const waiting = gate.settled();
    expect(await settledYet(waiting)).toBe(false);
    expect(gate.pending).toBe(1);
    gate.end('ns/b');
    expect(await settledYet(waiting)).toBe(true);
    expect(gate.pending).toBe(0);
  });

  it('counts a key queued twice once, and ignores an end for a key never begun', async () => {
    const gate = new BurstGate();
    gate.begin('ns/a');
    gate.begin('ns/a');
    gate.end('ns/other');
    const waiting = gate.settled();
    expect(await settledYet(waiting)).toBe(false);
    gate.end('ns/a');
    expect(await settledYet(waiting)).toBe(true);
  });

  it('holds no longer than BURST_HOLD_MS when a burst does not end', async () => {
    const gate = new BurstGate();
    gate.begin('ns/never-runs');
    const waiting = gate.settled();
    jest.advanceTimersByTime(BURST_HOLD_MS - 1);
    expect(await settledYet(waiting)).toBe(false);
    jest.advanceTimersByTime(1);
    expect(await settledYet(waiting)).toBe(true);
    // A waiter that timed out is not kept: ending the burst later wakes nobody twice.
    gate.end('ns/never-runs');
    expect(jest.getTimerCount()).toBe(0);
  });
});
