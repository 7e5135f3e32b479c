// The clusters a CR's sides live in: the operator's own, or one named by a kubeconfig / Argo CD
// cluster Secret. Secrets are watched (one watch per named Secret, so RBAC can stay limited to
// those names), never read per reconcile. A rotated Secret gets a new connection and the old
// one's watches stop once no Secret names it; a Secret no CR names is let go.

import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import type { ClusterRef } from '../api/types.js';
import { Cluster, type AckCluster, type ClusterOptions } from './cluster.js';
import { ClusterSecretError, parseClusterSecret, type SecretLike } from './cluster-secret.js';
import { ConnectedKubeConfig, errText } from './kube.js';
import { ListWatch } from './watch.js';

/** Where a side's cluster stands: usable, not known yet (wait for a watch), or a problem to report. */
export type Resolution =
  | { state: 'ready'; cluster: AckCluster; deps: string[] }
  | { state: 'waiting'; why: string; deps: string[] }
  | { state: 'problem'; reason: string; message: string; deps: string[] };

/** The kubeconfig in a cluster Secret, parsed. Shared by the operator and `xapi status`. */
export function kubeConfigFromSecret(secret: SecretLike, key = 'kubeconfig'): KubeConfig {
  const text = parseClusterSecret(secret, key).kubeconfig;
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (err) {
    throw new ClusterSecretError(`Secret ${secret.metadata?.namespace ?? ''}/${secret.metadata?.name ?? ''}: kubeconfig does not parse: ${errText(err)}`);
  }
  if (!kc.getCurrentCluster()) throw new ClusterSecretError(`Secret ${secret.metadata?.namespace ?? ''}/${secret.metadata?.name ?? ''}: kubeconfig has no current cluster`);
  return kc;
}

export const LOCAL = 'cluster:local';

interface SecretEntry {
  watch: ListWatch;
  /** Key of the cluster the Secret's current content connects to. */
  clusterKey?: string;
  /** The Secret version and data key clusterKey was read from (a reconcile need not parse it again). */
  readFrom?: string;
}

export interface RegistryOptions extends ClusterOptions {
  local: Cluster;
  localKc: ConnectedKubeConfig;
  requestTimeoutMs?: number;
  /** Writes are refused while this says no (leader election). */
  writeGate?: () => boolean;
  /** A dependency (a Secret, a cluster) changed: re-run the CRs that use it. */
  onChange: (dep: string) => void;
}

export class ClusterRegistry {
  private readonly core: CoreV1Api;
  private readonly secrets = new Map<string, SecretEntry>();
  private readonly clusters = new Map<string, Cluster>();

  constructor(private readonly o: RegistryOptions) {
    this.core = o.localKc.makeApiClient(CoreV1Api);
  }

  get local(): Cluster {
    return this.o.local;
  }

  /** Every connection in use is live (for /readyz). */
  get live(): boolean {
    return this.o.local.live && [...this.secrets.values()].every((s) => s.watch.live) && [...this.clusters.values()].every((c) => c.live);
  }

  resolve(crNamespace: string | undefined, ref: ClusterRef | undefined): Resolution {
    if (!ref) return this.state(this.o.local, [LOCAL]);
    const namespace = ref.namespace ?? crNamespace ?? 'default';
    const secretKey = `${namespace}/${ref.secretName}`;
    const deps = [`secret:${secretKey}`];
    const entry = this.watchSecret(namespace, ref.secretName);
    if (!entry.watch.synced) {
      const status = entry.watch.lastListStatus;
      if (status === 401 || status === 403) {
        return { state: 'problem', reason: 'ClusterSecretUnavailable', message: `cannot read cluster Secret ${secretKey}: ${entry.watch.describeError()}`, deps };
      }
      return { state: 'waiting', why: `cluster Secret ${secretKey} not listed yet`, deps };
    }
    const secret = entry.watch.get(namespace, ref.secretName);
    if (!secret) return { state: 'problem', reason: 'ClusterSecretUnavailable', message: `cluster Secret ${secretKey} does not exist`, deps };
    // Parsing and hashing the kubeconfig on every reconcile showed in profiles of 100 rotations.
    const rv = secret.metadata?.resourceVersion;
    const readFrom = rv ? `${rv}|${ref.key ?? 'kubeconfig'}` : undefined;
    const known = readFrom && entry.clusterKey && entry.readFrom === readFrom ? this.clusters.get(entry.clusterKey) : undefined;
    if (known) return this.state(known, [...deps, `cluster:${entry.clusterKey}`]);
    let kc: KubeConfig;
    try {
      kc = kubeConfigFromSecret(secret as SecretLike, ref.key ?? 'kubeconfig');
    } catch (err) {
      return { state: 'problem', reason: 'InvalidClusterSecret', message: (err as Error).message, deps };
    }
    const clusterKey = createHash('sha256').update(kc.exportConfig()).digest('hex').slice(0, 16);
    entry.readFrom = readFrom;
    let cluster = this.clusters.get(clusterKey);
    if (!cluster) {
      cluster = new Cluster(secretKey, ConnectedKubeConfig.from(kc, this.o.requestTimeoutMs, this.o.writeGate), {
        ...this.o,
        onState: (c) => {
          this.o.onState?.(c);
          this.o.onChange(`cluster:${clusterKey}`);
        },
      });
      this.clusters.set(clusterKey, cluster);
      cluster.startWatches();
    }
    if (entry.clusterKey !== clusterKey) {
      const before = entry.clusterKey;
      entry.clusterKey = clusterKey;
      if (before) this.releaseUnused(before);
    }
    return this.state(cluster, [...deps, `cluster:${clusterKey}`]);
  }

  private state(cluster: Cluster, deps: string[]): Resolution {
    if (cluster.live) return { state: 'ready', cluster, deps };
    const refused = cluster.refused;
    if (refused) return { state: 'problem', reason: 'ClusterUnreachable', message: `cluster ${cluster.name} refused to list ${refused.kind} objects (HTTP ${refused.status}): ${cluster.problem}`, deps };
    // Listed once and lost since: that is known, and reported. Never listed: nothing is known yet.
    if (cluster.synced) return { state: 'problem', reason: 'ClusterUnreachable', message: `cluster ${cluster.name} is unreachable: ${cluster.problem}`, deps };
    return { state: 'waiting', why: `cluster ${cluster.name} not listed yet`, deps };
  }

  private watchSecret(namespace: string, name: string): SecretEntry {
    const key = `${namespace}/${name}`;
    let entry = this.secrets.get(key);
    if (entry) return entry;
    const watch = new ListWatch({
      kc: this.o.localKc,
      path: `/api/v1/namespaces/${namespace}/secrets`,
      list: () => this.core.listNamespacedSecret({ namespace, fieldSelector: `metadata.name=${name}` }) as never,
      kind: 'Secret',
      apiVersion: 'v1',
      fieldSelector: `metadata.name=${name}`,
      resyncMs: this.o.resyncMs,
      watchTimeoutSeconds: this.o.watchTimeoutSeconds,
      onEvent: () => this.o.onChange(`secret:${key}`),
      onState: () => this.o.onChange(`secret:${key}`),
    });
    entry = { watch };
    this.secrets.set(key, entry);
    watch.start();
    return entry;
  }

  /** Stop watching Secrets no CR names any more, and close clusters no Secret points at. */
  retain(usedSecretKeys: ReadonlySet<string>): void {
    for (const [key, entry] of [...this.secrets]) {
      if (usedSecretKeys.has(key)) continue;
      entry.watch.stop();
      this.secrets.delete(key);
      if (entry.clusterKey) this.releaseUnused(entry.clusterKey);
    }
  }

  private releaseUnused(clusterKey: string): void {
    if ([...this.secrets.values()].some((s) => s.clusterKey === clusterKey)) return;
    this.clusters.get(clusterKey)?.stop();
    this.clusters.delete(clusterKey);
  }

  stop(): void {
    for (const s of this.secrets.values()) s.watch.stop();
    for (const c of this.clusters.values()) c.stop();
    this.secrets.clear();
    this.clusters.clear();
  }
}
