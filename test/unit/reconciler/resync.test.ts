import { jest } from '@jest/globals';
import { RESYNC_SLICES, SpreadResync, resyncSlice } from '../../../src/reconciler/resync.js';

const keys = Array.from({ length: 1000 }, (_, i) => `team-${i % 7}/api-${i}`);

describe('SpreadResync', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('enqueues every key exactly once per period, spread over the period', () => {
    const seen = new Map<string, number>();
    const perTick: number[] = [];
    let tickCount = 0;
    const r = new SpreadResync(300_000, () => keys, (k) => {
      seen.set(k, (seen.get(k) ?? 0) + 1);
      tickCount++;
    });
    r.start();
    for (let t = 0; t < RESYNC_SLICES; t++) {
      tickCount = 0;
      jest.advanceTimersByTime(10_000);
      perTick.push(tickCount);
    }
    expect(seen.size).toBe(keys.length);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    // never the whole set at once: no tick takes more than twice its even share
    expect(Math.max(...perTick)).toBeLessThanOrEqual((2 * keys.length) / RESYNC_SLICES);
    // the next period takes them all again
    jest.advanceTimersByTime(300_000);
    expect([...seen.values()].every((n) => n === 2)).toBe(true);
    r.stop();
    jest.advanceTimersByTime(300_000);
    expect([...seen.values()].every((n) => n === 2)).toBe(true);
  });

  it('reads the keys at every tick: a key added later comes up within one period', () => {
    const live = new Set<string>(['a/one']);
    const seen: string[] = [];
    const r = new SpreadResync(30_000, () => live, (k) => seen.push(k));
    r.start();
    jest.advanceTimersByTime(5_000);
    live.add('b/two');
    jest.advanceTimersByTime(30_000);
    expect(seen).toContain('b/two');
    r.stop();
  });

  it('gives a key the same slice every time', () => {
    expect(resyncSlice('ns/name')).toBe(resyncSlice('ns/name'));
    const used = new Set(keys.map((k) => resyncSlice(k)));
    expect(used.size).toBe(RESYNC_SLICES);
  });
});
