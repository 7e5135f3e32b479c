// Leader election on a coordination.k8s.io/v1 Lease, as Kubernetes' own controllers do it:
// another holder's lease is timed from when this replica saw its record change (never from the
// holder's clock, which may be skewed); the leader renews every retry period and gives up when no
// renewal succeeded within the renew deadline, which is shorter than the lease duration, so it
// stops before anyone else may take over. Updates carry the resourceVersion read: of two
// replicas racing, one gets a conflict.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { httpStatus } from './kube.js';

/** The Lease calls the elector makes (a fake in unit tests). */
export interface LeaseApi {
  read(name: string, namespace: string): Promise<V1Lease | undefined>;
  create(lease: V1Lease): Promise<V1Lease>;
  /** Must fail with HTTP 409 when `lease.metadata.resourceVersion` is not current. */
  replace(lease: V1Lease): Promise<V1Lease>;
}

export function leaseApi(kc: KubeConfig): LeaseApi {
  const api = kc.makeApiClient(CoordinationV1Api);
  return {
    async read(name, namespace) {
      try {
        return await api.readNamespacedLease({ name, namespace });
      } catch (err) {
        if (httpStatus(err) === 404) return undefined;
        throw err;
      }
    },
    create: (lease) => api.createNamespacedLease({ namespace: lease.metadata!.namespace!, body: lease }),
    replace: (lease) => api.replaceNamespacedLease({ name: lease.metadata!.name!, namespace: lease.metadata!.namespace!, body: lease }),
  };
}

export interface LeaderOptions {
  api: LeaseApi;
  namespace: string;
  name: string;
  identity: string;
  /** Kubernetes' controllers: 15 s / 10 s / 2 s. */
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  onStartedLeading: () => void;
  /**
   * Called when this replica stops leading (not on a release by stop()): `lost` when another
   * replica holds the lease (the elector stops), else the lease could not be renewed in time (the
   * API server unreachable) and the elector keeps campaigning.
   */
  onStoppedLeading: (why: { lost: boolean }) => void;
  /** Called after every successful renewal (writes refused before it may go again). */
  onRenewed?: () => void;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
  /** Local monotonic-enough clock, ms (fake timers in tests). */
  now?: () => number;
}

interface ObservedRecord {
  key: string;
  holder: string;
  durationMs: number;
  /** Local time at which this replica saw the record change. */
  seenAt: number;
}

export class LeaderElector {
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  /** Stepped down for want of a renewal and not leading again since (it may still get the lease back). */
  private steppedDown = false;
  private lastRenew = 0;
  private stopped = false;
  private observed: ObservedRecord | undefined;
  private readonly leaseMs: number;
  private readonly deadlineMs: number;
  private readonly retryMs: number;

  constructor(private readonly o: LeaderOptions) {
    this.leaseMs = (o.leaseDurationSeconds ?? 15) * 1000;
    this.deadlineMs = Math.min((o.renewDeadlineSeconds ?? 10) * 1000, this.leaseMs - 1000);
    this.retryMs = Math.min((o.retryPeriodSeconds ?? 2) * 1000, this.deadlineMs / 2);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  private now(): number {
    return this.o.now ? this.o.now() : Date.now();
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  /** Stop; a leader releases the Lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.o.api.read(this.o.name, this.o.namespace);
      if (lease?.spec?.holderIdentity === this.o.identity) {
        await this.o.api.replace({ ...lease, spec: { ...this.times(lease.spec), holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime() } });
      }
    } catch {
      // best effort: the lease expires on its own
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let result: 'renewed' | 'held' | 'conflict' | 'error' = 'error';
    // The lease counts from before the request was sent (the server stamps it then), not from its answer.
    const sentAt = this.now();
    try {
      result = await this.tryAcquireOrRenew();
    } catch (err) {
      this.o.log?.('lease error', { err: String((err as Error)?.message ?? err) });
    }
    if (this.stopped) return;
    const now = this.now();
    if (result === 'renewed') {
      this.lastRenew = sentAt;
      if (!this.leading) {
        this.leading = true;
        this.steppedDown = false;
        this.o.log?.('became leader', { lease: this.o.name });
        this.o.onStartedLeading();
      }
      this.o.onRenewed?.();
    } else if (this.steppedDown && result === 'held') {
      // Stepped down, and another replica took the lease meanwhile: this one has lost it for good.
      this.steppedDown = false;
      this.stopped = true;
      this.o.log?.('lost leadership: another replica holds the lease', { lease: this.o.name });
      this.o.onStoppedLeading({ lost: true });
      return;
    } else if (this.leading && (result === 'held' || now - this.lastRenew >= this.deadlineMs)) {
      // Another replica holds the lease, or past the renew deadline another may soon take it:
      // stop working now.
      this.leading = false;
      const lost = result === 'held';
      this.o.log?.(lost ? 'lost leadership: another replica holds the lease' : 'stepped down: no renewal within the renew deadline', { lease: this.o.name, deadlineMs: this.deadlineMs });
      this.o.onStoppedLeading({ lost });
      if (lost) {
        this.stopped = true;
        return;
      }
      this.steppedDown = true;
      // The API server could not be reached: nobody else could renew either. Keep campaigning;
      // if another replica took the lease meanwhile, this one stays a follower.
    }
    this.timer = setTimeout(() => void this.tick(), this.retryMs);
    this.timer.unref?.();
  }

  /**
   * True while this replica leads and its last renewal is within the renew deadline. Checked
   * before every write (a process paused past its lease must not write when it resumes, before
   * its next renewal attempt has told it so).
   */
  holdsLease(): boolean {
    return this.leading && this.now() - this.lastRenew < this.deadlineMs;
  }

  /** MicroTime fields must go back as MicroTime (six fractional digits). */
  private times(spec: NonNullable<V1Lease['spec']>): NonNullable<V1Lease['spec']> {
    return {
      ...spec,
      ...(spec.renewTime && { renewTime: new V1MicroTime(spec.renewTime) }),
      ...(spec.acquireTime && { acquireTime: new V1MicroTime(spec.acquireTime) }),
    };
  }

  private async tryAcquireOrRenew(): Promise<'renewed' | 'held' | 'conflict'> {
    const { namespace, name, identity, api } = this.o;
    const now = this.now();
    const stamp = new V1MicroTime();
    const lease = await api.read(name, namespace);
    const mine = { holderIdentity: identity, leaseDurationSeconds: this.leaseMs / 1000, renewTime: stamp };
    if (!lease) {
      await api.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: { ...mine, acquireTime: stamp, leaseTransitions: 0 } });
      this.observed = { key: `${identity}|${stamp.toISOString()}`, holder: identity, durationMs: this.leaseMs, seenAt: now };
      return 'renewed';
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const key = `${holder}|${spec.renewTime ? new Date(spec.renewTime).toISOString() : ''}|${lease.metadata?.resourceVersion ?? ''}`;
    if (!this.observed || this.observed.key !== key) {
      this.observed = { key, holder, durationMs: (spec.leaseDurationSeconds ?? this.leaseMs / 1000) * 1000, seenAt: now };
    }
    const heldByOther = holder !== '' && holder !== identity;
    if (heldByOther && now < this.observed.seenAt + this.observed.durationMs) return 'held';
    const next: V1Lease = {
      ...lease,
      spec: {
        ...this.times(spec),
        ...mine,
        acquireTime: holder === identity && spec.acquireTime ? new V1MicroTime(spec.acquireTime) : stamp,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1),
      },
    };
    try {
      await api.replace(next);
    } catch (err) {
      if (httpStatus(err) === 409) return 'conflict'; // another replica wrote first
      throw err;
    }
    return 'renewed';
  }
}
