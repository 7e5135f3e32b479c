// The operator's own install (cdk8s-plus-28): namespace, ServiceAccount, least-privilege RBAC (no
// `*` anywhere: every verb, group and resource is named), a hardened Deployment with probes and
// resources, and the metrics Service.
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { ACK } from '../api/ack.js';
import { GROUP, PLURAL } from '../api/types.js';
import { SYNC_WAVE } from './names.js';

export interface OperatorOptions {
  namespace: string;
  image: string;
  replicas: number;
  /** Cluster Secrets the CRs name, as namespace → secret names: the only Secrets it may read. */
  clusterSecrets: Record<string, string[]>;
}

export const OPERATOR_NAME = 'xapi-operator';
export const METRICS_PORT = 8080;
export const HEALTH_PORT = 8081;
const UID = 65532; // "nonroot" in distroless-style images
/**
 * V8 sizes its heap from the machine, not the container, and collects lazily: uncapped, the
 * operator reached 464 MB resident at 1,000 CRs in bench:scale. The old generation is capped at
 * 192 MB and each young semi-space at 4 MB (V8's default lets it grow to 16 MB; the young
 * generation is two of them plus what a scavenge copies). At 1 MB a scavenge ran every ~5 ms in
 * a burst of 100 rotations at 1,000 CRs and GC took 40% of the operator's CPU there; at 4 MB its
 * CPU for the whole bench fell 12% on average (61–66 s in three runs against 67–78 s in four)
 * with the same peak RSS (188–206 MB against 188–203 MB). (Before the caches were made compact,
 * 1 MB had saved 21 MB of RSS.)
 */
export const OPERATOR_NODE_OPTIONS = '--max-old-space-size=192 --max-semi-space-size=4';
/**
 * The container's environment for memory: the heap options above, and glibc's malloc limited to
 * two arenas (by default up to eight per core, each keeping freed memory; Node's helper threads
 * allocate through them). bench:scale at 300 CRs: peak RSS 191 MB without either, 164 MB with
 * the smaller semi-space alone (then 8 MB), 174 MB with the arena limit alone, 154 MB with both;
 * the operator's CPU time grew about 5%.
 */
export const OPERATOR_MEMORY_ENV: Readonly<Record<string, string>> = { NODE_OPTIONS: OPERATOR_NODE_OPTIONS, MALLOC_ARENA_MAX: '2' };
/** Memory request and limit of the operator's container, MiB (see OPERATOR_NODE_OPTIONS). */
const MEMORY_MIB = { request: 256, limit: 384 };

export function addOperator(scope: Construct, o: OperatorOptions): void {
  const labels = { 'app.kubernetes.io/name': OPERATOR_NAME, 'app.kubernetes.io/part-of': 'xapi' };
  const meta = (name: string, namespace?: string) => ({ name, ...(namespace && { namespace }), labels: { ...labels } });
  new kplus.Namespace(scope, 'namespace', { metadata: { ...meta(o.namespace), annotations: { [SYNC_WAVE]: '-1' } } });
  const sa = new kplus.ServiceAccount(scope, 'service-account', { metadata: meta(OPERATOR_NAME, o.namespace), automountToken: true });

  const cluster = new kplus.ClusterRole(scope, 'cluster-role', { metadata: meta(OPERATOR_NAME) });
  const custom = (apiGroup: string, resourceType: string) => kplus.ApiResource.custom({ apiGroup, resourceType });
  cluster.allow(['get', 'list', 'watch', 'update', 'patch'], custom(GROUP, PLURAL));
  cluster.allow(['get', 'update', 'patch'], custom(GROUP, `${PLURAL}/status`));
  cluster.allow(['update'], custom(GROUP, `${PLURAL}/finalizers`));
  const ackKinds = Object.values(ACK);
  for (const group of [...new Set(ackKinds.map((k) => k.group))]) {
    const resources = ackKinds.filter((k) => k.group === group).map((k) => custom(group, k.plural));
    cluster.allow(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], ...resources);
  }
  cluster.allow(['create', 'patch'], custom('', 'events'));
  // A side's namespace that does not exist yet is created (with its CARM annotations).
  cluster.allow(['get', 'create'], custom('', 'namespaces'));
  new kplus.ClusterRoleBinding(scope, 'cluster-role-binding', { metadata: meta(OPERATOR_NAME), role: cluster }).addSubjects(sa);

  // Leader election: one Lease, in its own namespace only.
  const lease = new kplus.Role(scope, 'lease-role', { metadata: meta(`${OPERATOR_NAME}-leader-election`, o.namespace) });
  lease.allow(['get', 'create', 'update'], custom('coordination.k8s.io', 'leases'));
  new kplus.RoleBinding(scope, 'lease-role-binding', { metadata: meta(`${OPERATOR_NAME}-leader-election`, o.namespace), role: lease }).addSubjects(sa);

  // Kubeconfig Secrets of remote clusters: read access to the named Secrets only. The operator
  // watches each one (list/watch with a metadata.name field selector, which RBAC checks against
  // the names), so a rotated Secret takes effect without polling.
  for (const [ns, names] of Object.entries(o.clusterSecrets).sort(([x], [y]) => x.localeCompare(y))) {
    const role = new kplus.Role(scope, `secrets-role-${ns}`, { metadata: meta(`${OPERATOR_NAME}-cluster-secrets`, ns) });
    role.allow(['get', 'list', 'watch'], ...[...new Set(names)].sort().map((n) => kplus.Secret.fromSecretName(scope, `secret-${ns}-${n}`, n)));
    new kplus.RoleBinding(scope, `secrets-role-binding-${ns}`, { metadata: meta(`${OPERATOR_NAME}-cluster-secrets`, ns), role }).addSubjects(sa);
  }

  const deployment = new kplus.Deployment(scope, 'deployment', {
    metadata: meta(OPERATOR_NAME, o.namespace),
    replicas: o.replicas,
    serviceAccount: sa,
    automountServiceAccountToken: true,
    podMetadata: { labels },
    securityContext: { ensureNonRoot: true, user: UID, group: UID, fsGroup: UID },
    containers: [
      {
        name: 'operator',
        image: o.image,
        args: ['operator', '--leader-elect', `--metrics-port=${METRICS_PORT}`, `--health-port=${HEALTH_PORT}`],
        envVariables: {
          POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
          POD_NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE),
          ...Object.fromEntries(Object.entries(OPERATOR_MEMORY_ENV).map(([k, v]) => [k, kplus.EnvValue.fromValue(v)])),
        },
        ports: [
          { number: METRICS_PORT, name: 'metrics' },
          { number: HEALTH_PORT, name: 'health' },
        ],
        liveness: kplus.Probe.fromHttpGet('/healthz', { port: HEALTH_PORT }),
        readiness: kplus.Probe.fromHttpGet('/readyz', { port: HEALTH_PORT }),
        resources: {
          cpu: { request: kplus.Cpu.millis(50), limit: kplus.Cpu.millis(500) },
          memory: { request: Size.mebibytes(MEMORY_MIB.request), limit: Size.mebibytes(MEMORY_MIB.limit) },
        },
        securityContext: {
          ensureNonRoot: true,
          user: UID,
          group: UID,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          privileged: false,
          capabilities: { drop: [kplus.Capability.ALL] },
        },
      },
    ],
  });
  new kplus.Service(scope, 'metrics-service', {
    metadata: meta(`${OPERATOR_NAME}-metrics`, o.namespace),
    selector: deployment,
    ports: [{ name: 'metrics', port: METRICS_PORT, targetPort: METRICS_PORT }],
  });
}
