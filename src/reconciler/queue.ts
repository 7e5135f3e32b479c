// A keyed work queue: adding a queued key again coalesces it; a key is never processed by two
// workers at once; a key added while it runs is processed again after it finishes; failures retry
// with capped exponential backoff, unless the key changed meanwhile (then at once); addAfter
// schedules timed work (grace expiry). Urgent keys (a change that blocks traffic until handled,
// such as a new endpoint ID) run before the others, and extra workers take only them, so they
// never wait behind a backlog. Among the rest, keys that have run before go ahead of keys never
// run: a CR that started converging finishes before a thousand new ones each take a first step
// (with first-in-first-out, none was Ready until nearly all were). Every FRESH_TURN-th pick takes
// a new key when one waits, so new keys never starve. While urgent keys run, the others wait
// (URGENT_HOLD_MS at most): they share the one event loop and the API servers with the urgent
// writes, and a profile of 100 rotations at 1,000 CRs found the passes the burst set off (the
// endpoint groups' re-renders, the Deployments of the first rotations) taking CPU among them.

export interface QueueOptions {
  /** First retry delay after a failure, ms. */
  baseDelayMs?: number;
  /** Upper bound of the retry delay, ms. */
  maxDelayMs?: number;
}

export type Handler = (key: string) => Promise<void>;

/** One pick in this many takes a never-run key ahead of keys that ran before. */
export const FRESH_TURN = 4;

/** The longest non-urgent keys wait while urgent ones run (then they run beside them). */
export const URGENT_HOLD_MS = 2_000;

export class WorkQueue {
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  /** Keys waiting, in arrival order (a Set keeps order and coalesces). */
  private readonly pending = new Set<string>();
  /** Keys waiting that go first (a subset of nothing else: a key is in one of the two sets). */
  private readonly urgent = new Set<string>();
  /** Keys waiting that have never run (a subset of nothing else either). */
  private readonly fresh = new Set<string>();
  /** Keys that have run at least once (forget() drops a deleted one). */
  private readonly started = new Set<string>();
  private picks = 0;
  private readonly running = new Set<string>();
  /** Running keys that were taken as urgent. */
  private readonly runningUrgent = new Set<string>();
  /** When non-urgent keys began to wait for the urgent ones running (undefined: none running). */
  private heldSince: number | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  /** Keys added while they were running: process again once done. */
  private readonly dirty = new Set<string>();
  private readonly dirtyUrgent = new Set<string>();
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
    return this.pending.size + this.urgent.size + this.fresh.size;
  }

  /** Queue the key; `urgent` puts it ahead of every non-urgent key. */
  add(key: string, urgent = false): void {
    if (this.shuttingDown) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      if (urgent) this.dirtyUrgent.add(key);
      return;
    }
    if (this.urgent.has(key)) return;
    if (urgent) {
      this.pending.delete(key);
      this.fresh.delete(key);
      this.urgent.add(key);
    } else if (this.pending.has(key) || this.fresh.has(key)) return;
    else (this.started.has(key) ? this.pending : this.fresh).add(key);
    this.wake();
  }

  /** The key's object is gone: a key of that name later is new again. */
  forget(key: string): void {
    this.started.delete(key);
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

  /**
   * Run `workers` loops calling `handler`, plus `urgentWorkers` loops that take urgent keys only;
   * resolves when shutDown() is called and work drains.
   */
  async run(handler: Handler, workers = 1, urgentWorkers = 0): Promise<void> {
    const loops = [...Array.from({ length: Math.max(1, workers) }, () => this.loop(handler, false)), ...Array.from({ length: urgentWorkers }, () => this.loop(handler, true))];
    await Promise.all(loops);
  }

  shutDown(): void {
    this.shuttingDown = true;
    clearTimeout(this.holdTimer);
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.pending.clear();
    this.urgent.clear();
    this.fresh.clear();
    this.wake();
  }

  private async loop(handler: Handler, urgentOnly: boolean): Promise<void> {
    for (;;) {
      const taken = await this.next(urgentOnly);
      if (taken === undefined) return;
      const { key, urgent } = taken;
      this.running.add(key);
      if (urgent) this.runningUrgent.add(key);
      this.started.add(key);
      let failed = false;
      // Each pass starts in a setImmediate callback of its own. Node runs what a callback leaves in
      // the microtask queue (its awaits on what has already settled) before the next callback, so a
      // pass gets as far as its request before the next pass renders: in a burst each write leaves
      // right after its own render, not after every queued pass has rendered, and the API server
      // works while later passes render.
      await new Promise<void>((resolve) => setImmediate(resolve));
      try {
        await handler(key);
      } catch {
        failed = true;
      }
      this.running.delete(key);
      if (urgent) this.urgentDone(key);
      if (failed) {
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        // Changed while it ran: the failure may be stale, so look again now, not after the backoff.
        if (this.dirty.delete(key)) this.add(key, this.dirtyUrgent.delete(key));
        else this.addAfter(key, this.backoffDelay(n));
      } else {
        this.failures.delete(key);
        if (this.dirty.delete(key)) this.add(key, this.dirtyUrgent.delete(key));
      }
    }
  }

  /** The next key for a worker, waiting while there is none; undefined once shut down. */
  private async next(urgentOnly: boolean): Promise<{ key: string; urgent: boolean } | undefined> {
    // A loop, not a promise resolved with the next call's promise: that chained one promise per
    // wake-up for as long as a worker found nothing (the urgent workers, for hours).
    for (;;) {
      const key = this.take(urgentOnly);
      if (key !== undefined) return key;
      if (this.shuttingDown) return undefined;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private take(urgentOnly: boolean): { key: string; urgent: boolean } | undefined {
    if (!urgentOnly && this.urgent.size === 0 && this.runningUrgent.size > 0 && this.holding()) return undefined;
    const freshTurn = !urgentOnly && this.urgent.size === 0 && ++this.picks % FRESH_TURN === 0;
    const order = urgentOnly ? [this.urgent] : freshTurn ? [this.fresh, this.pending] : [this.urgent, this.pending, this.fresh];
    for (const set of order) {
      for (const key of set) {
        // A key whose earlier run is still in flight waits (dirty) instead of running twice.
        set.delete(key);
        if (this.running.has(key)) {
          this.dirty.add(key);
          if (set === this.urgent) this.dirtyUrgent.add(key);
          continue;
        }
        return { key, urgent: set === this.urgent };
      }
    }
    return undefined;
  }

  /** Whether non-urgent keys still wait for the urgent ones running (the first ask starts the clock). */
  private holding(): boolean {
    const now = Date.now();
    if (this.heldSince === undefined) {
      this.heldSince = now;
      this.holdTimer = setTimeout(() => this.wake(), URGENT_HOLD_MS);
      this.holdTimer.unref?.();
    }
    return now - this.heldSince < URGENT_HOLD_MS;
  }

  private urgentDone(key: string): void {
    this.runningUrgent.delete(key);
    if (this.runningUrgent.size > 0) return;
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    if (this.heldSince === undefined) return;
    this.heldSince = undefined;
    this.wake();
  }

  /** Every idle worker looks again (few workers; one that finds nothing for it waits again). */
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
