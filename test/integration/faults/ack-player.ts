// The test's stand-in for the ACK controllers: watches the ACK objects xapi creates (managed-by label)
// in the namespaces it is given and writes what ACK would write into their status once "created
// in AWS": IDs (derived from the object's uid, so a recreated object gets new IDs as in AWS),
// Ready conditions, the owner account, the endpoint's state and DNS name. It can hold kinds back
// (convergence stops midway) and rotate a VPC endpoint's ID as a replaced endpoint would.
import { createHash, randomBytes } from 'node:crypto';
import { CustomObjectsApi, PatchStrategy, makeInformer, setHeaderOptions, type Informer, type KubeConfig, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import { ACK, type AckKindName } from '../../../src/api/ack.js';
import { MANAGED_SELECTOR } from '../../../src/reconciler/cluster.js';
import { ConnectedKubeConfig } from '../../../src/reconciler/kube.js';

export interface PlayerCluster {
  /** A name of the test's choosing ("A", "B"). */
  name: string;
  kc: KubeConfig;
  /** Namespaces played, each with the AWS account its ACK objects live in. */
  accounts: Record<string, string>;
}

type AckObject = KubernetesObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

interface Watched {
  cluster: PlayerCluster;
  kind: AckKindName;
  custom: CustomObjectsApi;
  informer: Informer<AckObject> & ObjectCache<AckObject>;
}

const KINDS = Object.keys(ACK) as AckKindName[];
const REGION = 'us-east-1';
const short = (s: string, n = 10) => createHash('sha256').update(s).digest('hex').slice(0, n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when every field of `want` is in `have` (arrays element-wise; lastTransitionTime ignored). */
function covers(have: unknown, want: unknown): boolean {
  if (want === null || typeof want !== 'object') return have === want;
  if (Array.isArray(want)) return Array.isArray(have) && have.length === want.length && want.every((w, i) => covers(have[i], w));
  if (have === null || typeof have !== 'object') return false;
  return Object.entries(want as Record<string, unknown>).every(([k, v]) => k === 'lastTransitionTime' || covers((have as Record<string, unknown>)[k], v));
}

export class AckPlayer {
  private readonly watched: Watched[] = [];
  private readonly queue = new Set<string>();
  private readonly held = new Set<AckKindName>();
  /** cluster/namespace/name of a VPCEndpoint → the endpoint ID it has now (after a rotation). */
  private readonly endpointIds = new Map<string, string>();
  /** uid → the generation last synced: ACK syncs (and re-stamps its conditions) on every spec change. */
  private readonly syncedGeneration = new Map<string, number | undefined>();
  private stopped = false;
  private waiters: Array<() => void> = [];
  private workers: Promise<void>[] = [];
  /** Status writes made so far. */
  writes = 0;
  /** Errors of status writes (retried); for diagnostics. */
  errors = 0;

  constructor(
    private readonly clusters: PlayerCluster[],
    private readonly concurrency = 8,
  ) {}

  async start(): Promise<this> {
    for (const cluster of this.clusters) {
      // Reused keep-alive connections: a new TLS connection per status write made the stand-in slower than the operator.
      const custom = ConnectedKubeConfig.from(cluster.kc).makeApiClient(CustomObjectsApi);
      for (const kind of KINDS) {
        const r = ACK[kind];
        const informer = makeInformer<AckObject>(
          cluster.kc,
          `/apis/${r.group}/${r.version}/${r.plural}`,
          () => custom.listClusterCustomObject({ group: r.group, version: r.version, plural: r.plural, labelSelector: MANAGED_SELECTOR }) as never,
          MANAGED_SELECTOR,
        );
        const w: Watched = { cluster, kind, custom, informer };
        const onObj = (o: AckObject) => this.enqueue(w, o);
        informer.on('add', onObj);
        informer.on('update', onObj);
        // The informer stops on an error (server restarted, connection cut): start it again.
        informer.on('error', () => {
          if (!this.stopped) setTimeout(() => void informer.start().catch(() => undefined), 1000);
        });
        this.watched.push(w);
      }
    }
    await Promise.all(this.watched.map((w) => w.informer.start()));
    this.workers = Array.from({ length: this.concurrency }, () => this.work());
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await Promise.all(this.watched.map((w) => w.informer.stop().catch(() => undefined)));
    await Promise.all(this.workers);
  }

  /** Objects of these kinds are left without status (as if ACK had not created them yet). */
  hold(...kinds: AckKindName[]): void {
    for (const k of kinds) this.held.add(k);
  }

  release(...kinds: AckKindName[]): void {
    for (const k of kinds.length ? kinds : [...this.held]) this.held.delete(k);
    for (const w of this.watched) for (const o of w.informer.list()) this.enqueue(w, o);
  }

  /**
   * The endpoint behind a VPCEndpoint object is replaced: its status gets a new vpcEndpointID.
   * Resolves once the API server has the new status; `at` is that moment (Date.now()).
   */
  async rotate(clusterName: string, namespace: string, name: string): Promise<{ id: string; at: number }> {
    const w = this.watched.find((x) => x.cluster.name === clusterName && x.kind === 'VPCEndpoint');
    if (!w) throw new Error(`player does not watch cluster ${clusterName}`);
    const id = `vpce-${randomBytes(8).toString('hex')}`;
    this.endpointIds.set(`${clusterName}/${namespace}/${name}`, id);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.patchStatus(w, namespace, name, { vpcEndpointID: id, state: 'available', dnsEntries: [{ dnsName: `${id}.vpce.example` }] });
        return { id, at: Date.now() };
      } catch (err) {
        if (attempt > 50) throw err;
        await sleep(500);
      }
    }
  }

  /** The endpoint ID the player reports for a VPCEndpoint now. */
  endpointId(clusterName: string, namespace: string, name: string): string | undefined {
    const w = this.watched.find((x) => x.cluster.name === clusterName && x.kind === 'VPCEndpoint');
    const o = w?.informer.get(name, namespace);
    return this.endpointIds.get(`${clusterName}/${namespace}/${name}`) ?? (o ? this.desired(w!, o).vpcEndpointID as string : undefined);
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  private key(w: Watched, o: AckObject): string {
    return `${this.watched.indexOf(w)}|${o.metadata?.namespace}|${o.metadata?.name}`;
  }

  private enqueue(w: Watched, o: AckObject): void {
    const ns = o.metadata?.namespace ?? '';
    if (!(ns in w.cluster.accounts)) return;
    this.queue.add(this.key(w, o));
    this.wake();
  }

  /** What ACK would report for this object once it exists in AWS. */
  private desired(w: Watched, o: AckObject): Record<string, unknown> {
    const ns = o.metadata!.namespace!;
    const uid = o.metadata!.uid ?? `${ns}/${o.metadata!.name}`;
    const account = w.cluster.accounts[ns]!;
    const meta: Record<string, unknown> = { ownerAccountID: account, region: REGION };
    const conditions = [
      { type: 'ACK.ResourceSynced', status: 'True' },
      { type: 'Ready', status: 'True' },
    ];
    switch (w.kind) {
      case 'SecurityGroup':
        return { id: `sg-${short(uid, 17)}`, ackResourceMetadata: meta, conditions };
      case 'VPCEndpoint': {
        const id = this.endpointIds.get(`${w.cluster.name}/${ns}/${o.metadata!.name}`) ?? `vpce-${short(uid, 17)}`;
        // one network interface per subnet, as AWS creates them (the flow logs attach to these)
        const subnets = Array.isArray(o.spec?.subnetIDs) ? (o.spec.subnetIDs as string[]) : [];
        const networkInterfaceIDs = subnets.map((s) => `eni-${short(`${uid}/${s}`, 17)}`);
        return { vpcEndpointID: id, state: 'available', dnsEntries: [{ dnsName: `${id}.vpce.example` }], networkInterfaceIDs, ackResourceMetadata: meta, conditions };
      }
      case 'RestAPI':
        return { id: short(uid), rootResourceID: short(`root${uid}`), ackResourceMetadata: meta, conditions };
      case 'Resource':
        return { id: short(uid, 6), ackResourceMetadata: meta, conditions };
      case 'Role':
        return { ackResourceMetadata: { ...meta, arn: `arn:aws:iam::${account}:role/${String(o.spec?.name ?? o.metadata!.name)}` }, conditions };
      default:
        return { ackResourceMetadata: meta, conditions };
    }
  }

  private async work(): Promise<void> {
    while (!this.stopped) {
      const next = this.queue.values().next();
      if (next.done) {
        await new Promise<void>((r) => this.waiters.push(r));
        continue;
      }
      const key = next.value;
      this.queue.delete(key);
      const [wi, ns, name] = key.split('|') as [string, string, string];
      const w = this.watched[Number(wi)]!;
      if (this.held.has(w.kind)) continue;
      const o = w.informer.get(name, ns);
      if (!o || o.metadata?.deletionTimestamp) continue;
      const want = this.desired(w, o);
      const uid = o.metadata!.uid ?? key;
      const generation = o.metadata!.generation;
      if (covers(o.status ?? {}, want) && this.syncedGeneration.get(uid) === generation) continue;
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z'); // metav1.Time: whole seconds, as ACK stamps
      const body = { ...want, conditions: (want.conditions as object[]).map((c) => ({ ...c, lastTransitionTime: now })) };
      try {
        await this.patchStatus(w, ns, name, body);
        this.syncedGeneration.set(uid, generation);
      } catch (err) {
        if ((err as { code?: number }).code === 404) continue;
        this.errors++;
        // Server down or restarting: try again a little later.
        setTimeout(() => {
          this.queue.add(key);
          this.wake();
        }, 500);
      }
    }
  }

  private async patchStatus(w: Watched, namespace: string, name: string, status: Record<string, unknown>): Promise<void> {
    const r = ACK[w.kind];
    await w.custom.patchNamespacedCustomObjectStatus(
      { group: r.group, version: r.version, plural: r.plural, namespace, name, body: { status }, fieldManager: 'ack-player' },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    this.writes++;
  }
}
