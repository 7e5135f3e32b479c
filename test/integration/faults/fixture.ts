// One fault case's world: a namespace of CrossAccountApi objects in cluster A (consumer side in
// A, provider side in B through a kubeconfig Secret), the ACK player for both sides, and the
// checks every case ends with: all Ready, zero disruption, zero lost rotations.
import { ACK } from '../../../src/api/ack.js';
import { CONDITION, GROUP, OWNER_LABEL, PLURAL, VERSION, type CrossAccountApi } from '../../../src/api/types.js';
import { objectNames, ownerLabelValue } from '../../../src/charts/names.js';
import { ensureNamespace, exampleCr, until, type Clients } from '../helpers.js';
import { AckPlayer } from './ack-player.js';
import { OperatorProcess, type OperatorProcessOptions } from './operator-process.js';
import { ChangeLog, compare, snapshot, type Allowance, type Side, type Snapshot } from './disruption.js';

export const CONSUMER_ACCOUNT = '111111111111';
export const PROVIDER_ACCOUNT = '222222222222';

export interface FixtureOptions {
  /** Unique per case: namespaces and CR names derive from it. */
  name: string;
  a: Clients;
  b: Clients;
  /** Kubeconfig the operator uses for cluster B (put in the cluster Secret). */
  bKubeconfig: string;
  count: number;
  /** spec.rotation.gracePeriodSeconds (short, so rotations finish within a case). */
  graceSeconds?: number;
  /** CRs share this many consumer VPCs (CR i is in VPC i mod vpcs); default one VPC per CR. */
  vpcs?: number;
  /** Keep a ChangeLog of every ACK object (default true; the scale bench does without). */
  changeLog?: boolean;
  /** Status writes the ACK player makes at once (default 8; the scale bench needs more, so that the stand-in is not what it measures). */
  playerConcurrency?: number;
}

export interface Rotation {
  cr: string;
  id: string;
  /** When the status write that carried the new ID was sent, and when it returned (ms since epoch). */
  sentAt: number;
  at: number;
}

const api = { group: GROUP, version: VERSION, plural: PLURAL };

export class Fixture {
  readonly ns: string;
  readonly aNs: string;
  readonly bNs: string;
  readonly secretName: string;
  readonly player: AckPlayer;
  readonly sides: Side[];
  readonly rotations: Rotation[] = [];
  changes: ChangeLog | undefined;

  private constructor(readonly o: FixtureOptions) {
    this.ns = `${o.name}`;
    this.aNs = `${o.name}-a`;
    this.bNs = `${o.name}-b`;
    this.secretName = `${o.name}-cluster-b`;
    this.player = new AckPlayer([
      { name: 'A', kc: o.a.kc, accounts: { [this.aNs]: CONSUMER_ACCOUNT } },
      { name: 'B', kc: o.b.kc, accounts: { [this.bNs]: PROVIDER_ACCOUNT } },
    ], o.playerConcurrency);
    this.sides = [
      { name: 'A', kc: o.a.kc, namespaces: [this.aNs] },
      { name: 'B', kc: o.b.kc, namespaces: [this.bNs] },
    ];
  }

  /** Namespaces, the cluster Secret, the player and the change log; no CRs yet. */
  static async create(o: FixtureOptions): Promise<Fixture> {
    const f = new Fixture(o);
    for (const ns of [f.ns, f.aNs]) await ensureNamespace(o.a.core, ns);
    await ensureNamespace(o.b.core, f.bNs);
    await f.setClusterSecret(o.bKubeconfig);
    await f.player.start();
    if (o.changeLog !== false) f.changes = await new ChangeLog(f.sides).start();
    return f;
  }

  /** An operator process for this fixture's namespace and Lease (identity `<ns>-op` unless given). */
  operator(kubeconfig: string, o: Partial<OperatorProcessOptions> = {}): Promise<OperatorProcess> {
    return OperatorProcess.start({ kubeconfig, namespace: this.ns, leaseName: `${this.ns}-lease`, identity: `${this.ns}-op`, ...o });
  }

  async stop(): Promise<void> {
    await this.player.stop();
    await this.changes?.stop();
  }

  /** Creates or replaces the Secret holding cluster B's kubeconfig. */
  async setClusterSecret(kubeconfig: string): Promise<void> {
    const body = { metadata: { name: this.secretName, namespace: this.ns }, stringData: { kubeconfig } };
    try {
      await this.o.a.core.createNamespacedSecret({ namespace: this.ns, body });
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
      await this.o.a.core.replaceNamespacedSecret({ name: this.secretName, namespace: this.ns, body });
    }
  }

  crName(i: number): string {
    return `${this.o.name}-${i}`;
  }

  cr(i: number): CrossAccountApi {
    const cr = exampleCr(this.crName(i), this.ns);
    delete cr.spec.consumer.cluster;
    cr.spec.consumer.namespace = this.aNs;
    cr.spec.provider.namespace = this.bNs;
    cr.spec.provider.cluster = { secretName: this.secretName };
    cr.spec.rotation = { gracePeriodSeconds: this.o.graceSeconds ?? 5 };
    // By default a VPC per CR: each has an endpoint of its own (one endpoint per VPC is shared),
    // so a rotation changes that one CR's API only.
    cr.spec.consumer.vpcId = `vpc-0${(this.o.vpcs ? i % this.o.vpcs : i).toString(16).padStart(16, '0')}`;
    return cr;
  }

  owner(i: number): string {
    return ownerLabelValue(this.cr(i));
  }

  /** Creates the CRs, `parallel` requests at a time. */
  async createCrs(parallel = 1): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < this.o.count) {
        const i = next++;
        await this.o.a.custom.createNamespacedCustomObject({ ...api, namespace: this.ns, body: this.cr(i) });
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
  }

  async listCrs(): Promise<CrossAccountApi[]> {
    return ((await this.o.a.custom.listNamespacedCustomObject({ ...api, namespace: this.ns })) as { items: CrossAccountApi[] }).items;
  }

  static isReady(cr: CrossAccountApi): boolean {
    return cr.status?.conditions?.some((c) => c.type === CONDITION.Ready && c.status === 'True' && (c.observedGeneration === undefined || c.observedGeneration === cr.metadata.generation)) ?? false;
  }

  async readyCount(): Promise<number> {
    return (await this.listCrs()).filter(Fixture.isReady).length;
  }

  async waitAllReady(timeoutMs = 300_000): Promise<void> {
    let last = 0;
    await until(
      `all ${this.o.count} CRs of ${this.ns} Ready`,
      async () => {
        last = await this.readyCount();
        return last === this.o.count;
      },
      timeoutMs,
      500,
    ).catch((err: Error) => {
      throw new Error(`${err.message} (${last} Ready)`);
    });
  }

  /** ACK objects of this case that exist now (both sides). */
  async objectCount(): Promise<number> {
    return (await this.snapshot()).size;
  }

  snapshot(): Promise<Snapshot> {
    return snapshot(this.sides);
  }

  async restApiPolicy(i: number): Promise<string> {
    const r = ACK.RestAPI;
    const o = (await this.o.b.custom.getNamespacedCustomObject({ group: r.group, version: r.version, plural: r.plural, namespace: this.bNs, name: objectNames(this.cr(i)).restApi })) as { spec?: { policy?: string } };
    return String(o.spec?.policy ?? '');
  }

  /** The player replaces CR i's VPC endpoint (new ID in the VPCEndpoint's status). */
  async rotate(i: number): Promise<Rotation> {
    const sentAt = Date.now();
    const r = await this.player.rotate('A', this.aNs, objectNames(this.cr(i)).vpcEndpoint);
    const rotation = { cr: this.crName(i), id: r.id, sentAt, at: r.at };
    this.rotations.push(rotation);
    return rotation;
  }

  /** Owners whose desired state changed (their endpoint rotated). */
  changedOwners(): Set<string> {
    return new Set(this.rotations.map((r) => `${this.ns}.${r.cr}`));
  }

  /** Rotations whose (latest per CR) endpoint ID is not in that CR's RestAPI policy. */
  async lostRotations(): Promise<string[]> {
    const latest = new Map<string, Rotation>();
    for (const r of this.rotations) latest.set(r.cr, r);
    const lost: string[] = [];
    for (const r of latest.values()) {
      const i = Number(r.cr.slice(this.o.name.length + 1));
      if (!(await this.restApiPolicy(i)).includes(r.id)) lost.push(`${r.cr}: ${r.id} not in the RestAPI policy`);
    }
    return lost;
  }

  async waitRotationsLanded(timeoutMs = 300_000): Promise<void> {
    let lost: string[] = [];
    await until(
      'every rotation in its RestAPI policy',
      async () => {
        lost = await this.lostRotations();
        return lost.length === 0;
      },
      timeoutMs,
      500,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; lost: ${lost.join('; ')}`);
    });
  }

  compare(before: Snapshot, after: Snapshot, extra: Allowance = {}): string[] {
    return compare(before, after, { changedOwners: [...this.changedOwners(), ...(extra.changedOwners ?? [])] });
  }

  /** Change-log disruptions since its last mark (rotated CRs' policy followers excepted). */
  logged(strict: boolean): string[] {
    return this.changes!.disruptions({ changedOwners: this.changedOwners() }, strict);
  }

  ownerSelector(i: number): string {
    return `${OWNER_LABEL}=${this.owner(i)}`;
  }
}
