// The periodic pass over every CR, spread over the period. Each key comes up once per period, in
// the slice its name hashes to, a few keys per tick. All at once, a thousand CRs entered the queue
// in the same instant every period, and a rotation arriving then waited behind their reconciles
// for the CPU (they are not urgent, but they share the one event loop).

/** Ticks per period: at the default 300 s, one every 10 s. */
export const RESYNC_SLICES = 30;

/** The slice of a key: FNV-1a of its text, so a key keeps its phase across periods and restarts. */
export function resyncSlice(key: string, slices = RESYNC_SLICES): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % slices;
}

export class SpreadResync {
  private timer: NodeJS.Timeout | undefined;
  private tick = 0;

  constructor(
    private readonly periodMs: number,
    /** The keys to pass over, read at every tick (a key added since comes up in its slice). */
    private readonly keys: () => Iterable<string>,
    private readonly enqueue: (key: string) => void,
    private readonly slices = RESYNC_SLICES,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.step(), Math.max(1, Math.floor(this.periodMs / this.slices)));
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One tick: the keys of the current slice. */
  private step(): void {
    const slice = this.tick;
    this.tick = (this.tick + 1) % this.slices;
    for (const key of this.keys()) if (resyncSlice(key, this.slices) === slice) this.enqueue(key);
  }
}
