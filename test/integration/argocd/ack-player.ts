// The test's stand-in for the ACK controllers (tier 2: no AWS here): it holds an ACK-style
// finalizer on every object xapi renders, reports each Ready with the IDs AWS would assign, and
// deletes "in AWS" the way AWS answers: a RestAPI goes at once (taking its pieces with it, so a
// piece deleted afterwards ends ACK.Terminal, as the real controllers did against moto); a
// Deployment waits for its Stage, a SecurityGroup for the VPCEndpoint using it (ACK retries those).
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { ACK, type AckKindName } from '../../../src/api/ack.js';
import { OWNER_LABEL } from '../../../src/api/types.js';
import { MANAGED_SELECTOR } from '../../../src/reconciler/cluster.js';
import { readyConditions } from '../helpers.js';

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid?: string; generation?: number; labels?: Record<string, string>; finalizers?: string[]; deletionTimestamp?: string; resourceVersion?: string };
  spec?: Record<string, unknown>;
  status?: Record<string, any>;
};

export interface Deletion {
  cluster: string;
  kind: string;
  name: string;
  owner: string;
  /** When the object was marked for deletion (first seen with deletionTimestamp) and released. */
  markedAt: number;
  releasedAt: number;
}

const KINDS = Object.keys(ACK) as AckKindName[];
const finalizerOf = (kind: AckKindName) => `finalizers.${ACK[kind].group}/${ACK[kind].kind}`;
const APIGW_PIECES = new Set(['Resource', 'Method', 'Integration', 'Deployment', 'Stage']);

type PlayedCluster = { name: string; custom: CustomObjectsApi; accountId: string };

export class AckPlayer {
  /** VPCEndpoint name → the ID "AWS" reports; change it to rotate. */
  readonly endpointIds = new Map<string, string>();
  readonly deletions: Deletion[] = [];
  readonly terminal: string[] = [];
  private readonly marked = new Map<string, number>();
  private readonly restApisGone = new Set<string>(); // owners whose RestAPI AWS deleted
  /** uid → the generation last synced: ACK syncs every spec change and re-stamps its conditions. */
  private readonly syncedGeneration = new Map<string, number | undefined>();
  private running = false;
  private loop: Promise<void> | undefined;
  lastError: unknown;

  constructor(private readonly clusters: PlayedCluster[]) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          await this.tick();
        } catch (err) {
          this.lastError = err;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async list(custom: CustomObjectsApi, kind: AckKindName): Promise<Obj[]> {
    const r = ACK[kind];
    const res = (await custom.listClusterCustomObject({ group: r.group, version: r.version, plural: r.plural, labelSelector: MANAGED_SELECTOR })) as { items: Obj[] };
    return res.items.map((o) => ({ ...o, apiVersion: r.apiVersion, kind: r.kind }));
  }

  async tick(): Promise<void> {
    const all: { cluster: PlayedCluster; kind: AckKindName; obj: Obj }[] = [];
    for (const cluster of this.clusters) for (const kind of KINDS) for (const obj of await this.list(cluster.custom, kind)) all.push({ cluster, kind, obj });
    const exists = (owner: string, kind: string) => all.some((e) => e.obj.metadata.labels?.[OWNER_LABEL] === owner && e.kind === kind);
    for (const { cluster, kind, obj } of all) {
      const r = ACK[kind];
      const key = `${cluster.name}/${kind}/${obj.metadata.namespace}/${obj.metadata.name}`;
      const owner = obj.metadata.labels?.[OWNER_LABEL] ?? '';
      const fin = finalizerOf(kind);
      try {
        if (obj.metadata.deletionTimestamp) {
          if (!this.marked.has(key)) this.marked.set(key, Date.now());
          if (!obj.metadata.finalizers?.includes(fin)) continue;
          if (APIGW_PIECES.has(kind) && this.restApisGone.has(owner)) {
            // AWS: NotFoundException for a piece of a deleted API; ACK gives up (Terminal).
            if (!this.terminal.includes(key)) this.terminal.push(key);
            const conditions = [{ type: 'ACK.Terminal', status: 'True', message: `NotFoundException: Invalid API identifier specified (${kind} ${obj.metadata.name} deleted after its RestAPI)`, lastTransitionTime: new Date().toISOString() }];
            if (!obj.status?.conditions?.some((c: { type: string }) => c.type === 'ACK.Terminal')) {
              await cluster.custom.replaceNamespacedCustomObjectStatus({ group: r.group, version: r.version, plural: r.plural, namespace: obj.metadata.namespace, name: obj.metadata.name, body: { ...obj, status: { ...obj.status, conditions } } });
            }
            continue;
          }
          if (kind === 'Deployment' && exists(owner, 'Stage')) continue; // BadRequest: a stage points at it
          if (kind === 'SecurityGroup' && exists(owner, 'VPCEndpoint')) continue; // DependencyViolation
          await cluster.custom.replaceNamespacedCustomObject({
            group: r.group,
            version: r.version,
            plural: r.plural,
            namespace: obj.metadata.namespace,
            name: obj.metadata.name,
            body: { ...obj, metadata: { ...obj.metadata, finalizers: obj.metadata.finalizers.filter((f) => f !== fin) } },
          });
          if (kind === 'RestAPI') this.restApisGone.add(owner);
          this.deletions.push({ cluster: cluster.name, kind, name: obj.metadata.name, owner, markedAt: this.marked.get(key)!, releasedAt: Date.now() });
          continue;
        }
        if (!obj.metadata.finalizers?.includes(fin)) {
          await cluster.custom.replaceNamespacedCustomObject({ group: r.group, version: r.version, plural: r.plural, namespace: obj.metadata.namespace, name: obj.metadata.name, body: { ...obj, metadata: { ...obj.metadata, finalizers: [...(obj.metadata.finalizers ?? []), fin] } } });
          continue; // the status write needs the new resourceVersion: next tick
        }
        const status = this.statusFor(kind, obj, cluster.accountId);
        const uid = obj.metadata.uid ?? key;
        if (covers(obj.status, status) && this.syncedGeneration.get(uid) === obj.metadata.generation) continue;
        await cluster.custom.replaceNamespacedCustomObjectStatus({ group: r.group, version: r.version, plural: r.plural, namespace: obj.metadata.namespace, name: obj.metadata.name, body: { ...obj, status: { ...status, conditions: readyConditions() } } });
        this.syncedGeneration.set(uid, obj.metadata.generation);
      } catch (err) {
        if ((err as { code?: number }).code !== 409 && (err as { code?: number }).code !== 404) throw err;
      }
    }
  }

  /** What ACK would report once AWS created the object (conditions are compared by type/status only). */
  private statusFor(kind: AckKindName, obj: Obj, accountId: string): Record<string, unknown> {
    const name = obj.metadata.name;
    const meta = { ackResourceMetadata: { ownerAccountID: accountId, region: 'us-east-1', ...(kind === 'Role' && { arn: `arn:aws:iam::${accountId}:role/${String(obj.spec?.name)}` }) } };
    const ready = { conditions: [{ type: 'Ready', status: 'True' }] };
    switch (kind) {
      case 'SecurityGroup':
        return { ...meta, ...ready, id: `sg-${hex(name)}` };
      case 'VPCEndpoint':
        // one network interface per subnet, as AWS creates them (the flow logs attach to these)
        return { ...meta, ...ready, vpcEndpointID: this.endpointIds.get(name) ?? `vpce-${hex(name)}`, state: 'available', networkInterfaceIDs: enisOf(obj) };
      case 'RestAPI':
        return { ...meta, ...ready, id: `a${hex(name).slice(0, 9)}`, rootResourceID: `r${hex(`${name}/`).slice(0, 9)}` };
      case 'Resource':
        return { ...meta, ...ready, id: `res${hex(name).slice(0, 6)}` };
      default:
        return { ...meta, ...ready };
    }
  }
}

function enisOf(obj: Obj): string[] {
  const subnets = Array.isArray(obj.spec?.subnetIDs) ? (obj.spec.subnetIDs as string[]) : [];
  return subnets.map((s) => `eni-${hex(`${obj.metadata.name}/${s}`)}`);
}

function hex(text: string): string {
  let h = 0x811c9dc5;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0") + ((h ^ 0x5bd1e995) >>> 0).toString(16).padStart(8, "0");
}

/** Every field of `want` present in `have`; condition lists compare by type and status. */
function covers(have: unknown, want: unknown): boolean {
  if (want === undefined) return true;
  if (want === null || typeof want !== 'object') return have === want;
  if (Array.isArray(want)) {
    return Array.isArray(have) && want.every((w) => have.some((h) => covers(h, w)));
  }
  if (have === null || typeof have !== 'object') return false;
  return Object.entries(want as Record<string, unknown>).every(([k, v]) => covers((have as Record<string, unknown>)[k], v));
}
