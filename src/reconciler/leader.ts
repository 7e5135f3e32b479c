// Leader election on a coordination.k8s.io/v1 Lease: acquire when free or expired, renew while
// held, step down when a renew fails past the lease duration.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';

export interface LeaderOptions {
  kc: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewEveryMs?: number;
  onStart: () => void;
  onStop: () => void;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private lastRenew = 0;
  private stopped = false;

  constructor(private readonly o: LeaderOptions) {
    this.api = o.kc.makeApiClient(CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  private get duration(): number {
    return this.o.leaseDurationSeconds ?? 15;
  }

  start(): void {
    void this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.leading) {
      this.leading = false;
      this.o.onStop();
      // Release so another replica takes over at once instead of waiting for expiry.
      try {
        const lease = await this.api.readNamespacedLease({ name: this.o.name, namespace: this.o.namespace });
        if (lease.spec?.holderIdentity === this.o.identity) {
          lease.spec.holderIdentity = undefined;
          lease.spec.leaseDurationSeconds = 1;
          if (lease.spec.renewTime) lease.spec.renewTime = new V1MicroTime(lease.spec.renewTime);
          if (lease.spec.acquireTime) lease.spec.acquireTime = new V1MicroTime(lease.spec.acquireTime);
          await this.api.replaceNamespacedLease({ name: this.o.name, namespace: this.o.namespace, body: lease });
        }
      } catch {
        // best effort
      }
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      const ok = await this.tryAcquireOrRenew();
      if (ok) this.lastRenew = Date.now();
      if (ok && !this.leading) {
        this.leading = true;
        this.o.log?.('became leader', { lease: this.o.name });
        this.o.onStart();
      } else if (!ok && this.leading) this.stepDown();
    } catch (err) {
      this.o.log?.('lease error', { err: String(err) });
      if (this.leading && Date.now() - this.lastRenew > this.duration * 1000) this.stepDown();
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.o.renewEveryMs ?? Math.max(200, (this.duration * 1000) / 3));
  }

  private stepDown(): void {
    this.leading = false;
    this.o.log?.('lost leadership', { lease: this.o.name });
    this.o.onStop();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    // Lease times are MicroTime: the API server wants six fractional digits.
    const now = new V1MicroTime();
    const { namespace, name, identity } = this.o;
    let lease: V1Lease | undefined;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
    const spec = { holderIdentity: identity, leaseDurationSeconds: this.duration, renewTime: now, acquireTime: now } as NonNullable<V1Lease['spec']>;
    if (!lease) {
      await this.api.createNamespacedLease({ namespace, body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec } });
      return true;
    }
    const holder = lease.spec?.holderIdentity;
    const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : 0;
    const expired = renewed + (lease.spec?.leaseDurationSeconds ?? this.duration) * 1000 < now.getTime();
    if (holder && holder !== identity && !expired) return false;
    if (holder === identity) spec.acquireTime = lease.spec?.acquireTime ? new V1MicroTime(lease.spec.acquireTime) : now;
    else spec.leaseTransitions = (lease.spec?.leaseTransitions ?? 0) + 1;
    try {
      await this.api.replaceNamespacedLease({ name, namespace, body: { ...lease, spec: { ...lease.spec, ...spec } } });
    } catch (err) {
      if ((err as { code?: number }).code === 409) return false; // someone else won the race
      throw err;
    }
    return true;
  }
}
