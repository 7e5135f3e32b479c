import { jest } from '@jest/globals';
import type { V1Lease } from '@kubernetes/client-node';
import { LeaderElector, type LeaseApi } from '../../../src/reconciler/leader.js';

/** An in-memory Lease with the API server's optimistic concurrency (409 on a stale resourceVersion). */
class FakeLeases implements LeaseApi {
  lease: V1Lease | undefined;
  private rv = 0;
  failing = false;
  writes = 0;
  async read(): Promise<V1Lease | undefined> {
    if (this.failing) throw new Error('connect ECONNREFUSED');
    return this.lease && structuredClone(this.lease);
  }
  async create(lease: V1Lease): Promise<V1Lease> {
    if (this.failing) throw new Error('connect ECONNREFUSED');
    if (this.lease) throw Object.assign(new Error('exists'), { code: 409 });
    this.writes++;
    this.lease = { ...lease, metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } };
    return this.lease;
  }
  async replace(lease: V1Lease): Promise<V1Lease> {
    if (this.failing) throw new Error('connect ECONNREFUSED');
    if (lease.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) throw Object.assign(new Error('conflict'), { code: 409 });
    this.writes++;
    this.lease = { ...lease, metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } };
    return this.lease;
  }
  /** Another replica renews, stamping its own (possibly skewed) clock. */
  renewAs(holder: string, renewTime: Date): void {
    this.lease = {
      metadata: { name: 'l', namespace: 'ns', resourceVersion: String(++this.rv) },
      spec: { holderIdentity: holder, leaseDurationSeconds: 15, renewTime: renewTime as never, acquireTime: renewTime as never },
    };
  }
}

function elector(api: LeaseApi, identity: string, events: string[]) {
  return new LeaderElector({
    api,
    namespace: 'ns',
    name: 'l',
    identity,
    onStartedLeading: () => events.push(`${identity} started`),
    onStoppedLeading: ({ lost }) => events.push(`${identity} ${lost ? 'lost' : 'stepped down'}`),
  });
}

describe('LeaderElector (Kubernetes defaults 15 s / 10 s / 2 s)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('takes a free Lease at once', async () => {
    const api = new FakeLeases();
    const events: string[] = [];
    const e = elector(api, 'me', events);
    e.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(events).toEqual(['me started']);
    expect(api.lease?.spec?.holderIdentity).toBe('me');
    await e.stop();
    expect(api.lease?.spec?.holderIdentity).toBe('');
  });

  it("times another holder's lease by its own clock: a renewTime far in the past (skewed clock) that keeps changing is never taken", async () => {
    const api = new FakeLeases();
    const events: string[] = [];
    const skewed = new Date(Date.now() - 3_600_000); // the holder's clock is an hour behind
    api.renewAs('other', skewed);
    const e = elector(api, 'me', events);
    e.start();
    for (let i = 0; i < 30; i++) {
      await jest.advanceTimersByTimeAsync(2_000);
      api.renewAs('other', new Date(skewed.getTime() + i * 2_000)); // the holder keeps renewing
    }
    expect(events).toEqual([]);
    expect(api.lease?.spec?.holderIdentity).toBe('other');
    await e.stop();
  });

  it('takes over only after the record stayed unchanged for the lease duration as this replica saw it', async () => {
    const api = new FakeLeases();
    const events: string[] = [];
    api.renewAs('other', new Date(Date.now() + 3_600_000)); // a clock an hour ahead does not delay it either
    const e = elector(api, 'me', events);
    e.start();
    await jest.advanceTimersByTimeAsync(14_000);
    expect(events).toEqual([]);
    await jest.advanceTimersByTimeAsync(4_000);
    expect(events).toEqual(['me started']);
    expect(api.lease?.spec?.holderIdentity).toBe('me');
    expect(api.lease?.spec?.leaseTransitions).toBe(1);
    await e.stop();
  });

  it('stops working when no renewal succeeds within the renew deadline, before the lease could expire for others; leads again when the server is back', async () => {
    const api = new FakeLeases();
    const events: string[] = [];
    const e = elector(api, 'me', events);
    e.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(e.isLeader).toBe(true);
    const lastGood = Date.now();
    api.failing = true; // the API server is unreachable
    await jest.advanceTimersByTimeAsync(8_000);
    expect(events).toEqual(['me started']);
    expect(e.holdsLease()).toBe(true);
    await jest.advanceTimersByTimeAsync(2_000);
    // writes are refused from the renew deadline on, even before the next attempt reports it
    expect(e.holdsLease()).toBe(false);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(events).toEqual(['me started', 'me stepped down']);
    expect(e.isLeader).toBe(false);
    // It stopped within the renew deadline plus one retry period, well before the 15 s lease ran out.
    expect(Date.now() - lastGood).toBeLessThan(15_000);
    // Nobody else could take the lease meanwhile: once the server answers, it leads again.
    api.failing = false;
    await jest.advanceTimersByTimeAsync(2_000);
    expect(events).toEqual(['me started', 'me stepped down', 'me started']);
    await e.stop();
  });

  it('a leader that finds another holder (paused past its lease) stops for good at once', async () => {
    const api = new FakeLeases();
    const events: string[] = [];
    const e = elector(api, 'me', events);
    e.start();
    await jest.advanceTimersByTimeAsync(0);
    api.renewAs('other', new Date()); // another replica took over while this one was paused
    await jest.advanceTimersByTimeAsync(2_000);
    expect(events).toEqual(['me started', 'me lost']);
    expect(e.holdsLease()).toBe(false);
    const writes = api.writes;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(api.writes).toBe(writes); // it does not campaign again in this process
    expect(api.lease?.spec?.holderIdentity).toBe('other');
  });

  it('of two replicas racing for a free Lease, exactly one leads', async () => {
    const api = new FakeLeases();
    const events: string[] = [];
    const a = elector(api, 'a', events);
    const b = elector(api, 'b', events);
    a.start();
    b.start();
    await jest.advanceTimersByTimeAsync(20_000);
    expect(events).toHaveLength(1);
    expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
    await a.stop();
    await b.stop();
  });

  it('a replica that stepped down for want of a renewal and then finds another holder has lost the lease (it exits)', async () => {
    const api = new FakeLeases();
    const events: string[] = [];
    const e = elector(api, 'me', events);
    e.start();
    await jest.advanceTimersByTimeAsync(0);
    api.failing = true;
    await jest.advanceTimersByTimeAsync(12_000);
    expect(events).toEqual(['me started', 'me stepped down']);
    // Meanwhile another replica took the lease; this one sees it once the server answers again.
    api.renewAs('other', new Date());
    api.failing = false;
    await jest.advanceTimersByTimeAsync(2_000);
    expect(events).toEqual(['me started', 'me stepped down', 'me lost']);
    const writes = api.writes;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(api.writes).toBe(writes);
    expect(e.isLeader).toBe(false);
  });

  it('reports every successful renewal (writes refused meanwhile may go again)', async () => {
    const api = new FakeLeases();
    let renewals = 0;
    const e = new LeaderElector({ api, namespace: 'ns', name: 'l', identity: 'me', onStartedLeading: () => undefined, onStoppedLeading: () => undefined, onRenewed: () => renewals++ });
    e.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(renewals).toBe(1);
    await jest.advanceTimersByTimeAsync(6_000);
    expect(renewals).toBe(4);
    await e.stop();
  });
});
