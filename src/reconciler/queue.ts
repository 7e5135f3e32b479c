// A keyed work queue: adding a queued key again coalesces it; a key is never processed by two
// workers at once; a key added while it runs is processed again after it finishes; failures retry
// with capped exponential backoff, unless the key changed meanwhile (then at once); addAfter
// schedules timed work (grace expiry).

export interface QueueOptions {
  /** First retry delay after a failure, ms. */
  baseDelayMs?: number;
  /** Upper bound of the retry delay, ms. */
  maxDelayMs?: number;
}

export type Handler = (key: string) => Promise<void>;

export class WorkQueue {
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  /** Keys waiting, in arrival order (a Set keeps order and coalesces). */
  private readonly pending = new Set<string>();
  private readonly running = new Set<string>();
  /** Keys added while they were running: process again once done. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private waiters: Array<() => void> = [];
  private shuttingDown = false;

  constructor(options: QueueOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
  }

  /** Number of keys waiting (not counting running or delayed ones). */
  get depth(): number {
    return this.pending.size;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.pending.has(key)) return;
    this.pending.add(key);
    this.wake();
  }

  /** Add the key after `delayMs`; an earlier scheduled time for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref?.();
    this.timers.set(key, { at, timer });
  }

  /** Delay for the next retry of `key` given how many times it failed in a row. */
  backoffDelay(failuresInARow: number): number {
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.max(0, failuresInARow - 1));
  }

  /** Run `workers` loops calling `handler`; resolves when shutDown() is called and work drains. */
  async run(handler: Handler, workers = 1): Promise<void> {
    const loops = Array.from({ length: Math.max(1, workers) }, () => this.loop(handler));
    await Promise.all(loops);
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.pending.clear();
    this.wake(true);
  }

  private async loop(handler: Handler): Promise<void> {
    for (;;) {
      const key = await this.next();
      if (key === undefined) return;
      this.running.add(key);
      let failed = false;
      try {
        await handler(key);
      } catch {
        failed = true;
      }
      this.running.delete(key);
      if (failed) {
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        // Changed while it ran: the failure may be stale, so look again now, not after the backoff.
        if (this.dirty.delete(key)) this.add(key);
        else this.addAfter(key, this.backoffDelay(n));
      } else {
        this.failures.delete(key);
        if (this.dirty.delete(key)) this.add(key);
      }
    }
  }

  private next(): Promise<string | undefined> {
    for (const key of this.pending) {
      // A key whose earlier run is still in flight waits (dirty) instead of running twice.
      this.pending.delete(key);
      if (this.running.has(key)) {
        this.dirty.add(key);
        continue;
      }
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiters.push(() => resolve(this.next()));
    });
  }

  private wake(all = false): void {
    const waiters = all ? this.waiters.splice(0) : this.waiters.splice(0, this.pending.size);
    for (const w of waiters) w();
  }
}
