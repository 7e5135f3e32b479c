// A burst of rotations (an endpoint replaced under many APIs at once) is won or lost on the API
// servers: the callers stay refused until each API's policy names the new endpoint, and ACK's
// own status writes (the new IDs) and the operator's policy writes queue there with everything
// else. A CR's status and its Events restore no traffic, so a pass holds them back while urgent
// passes of the burst have not written their policies yet (BURST_HOLD_MS at most: a key that never
// runs, or a burst that never ends, delays status by no more than that).

/** The longest a status write waits for a burst's policy writes. */
export const BURST_HOLD_MS = 2_000;

export class BurstGate {
  /** Urgent keys queued or running whose policy writes are not out yet. */
  private readonly open = new Set<string>();
  private waiters: Array<() => void> = [];

  /** An urgent key was queued: its policy writes are still to come. */
  begin(key: string): void {
    this.open.add(key);
  }

  /** The key's pass has written what restores traffic, or ended without it. */
  end(key: string): void {
    if (!this.open.delete(key) || this.open.size > 0) return;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Urgent keys whose policy writes are still to come. */
  get pending(): number {
    return this.open.size;
  }

  /** Resolves when no urgent key's policy writes are still to come, or after the hold. */
  settled(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, BURST_HOLD_MS);
      timer.unref?.();
      this.waiters.push(done);
    });
  }
}
