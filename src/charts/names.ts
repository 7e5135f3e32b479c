// Names of the objects rendered for one CrossAccountApi. The charts, the reconciler (to read ACK
// status) and the status CLI all derive names here, so they always agree.
import { createHash } from 'node:crypto';
import { ENDPOINT_GROUP_LABEL, OWNER_LABEL, type ClusterRef, type CrossAccountApi, type Route } from '../api/types.js';

const MAX_NAME = 253; // DNS subdomain, the rule for custom resource names
const MAX_LABEL_VALUE = 63;

export function shortHash(text: string, length = 6): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** Keep a name within `max` characters; a cut name gets a hash of the whole so it stays unique. */
export function fit(name: string, max = MAX_NAME): string {
  if (name.length <= max) return name;
  const hash = shortHash(name, 10);
  return `${name.slice(0, max - hash.length - 1).replace(/[-.]+$/, '')}-${hash}`;
}

/** "items/{id}" → "items-id": readable part of a path; uniqueness comes from the hash beside it. */
function pathSlug(path: string): string {
  const slug = path
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug || 'root';
}

/** The value of the owner label: `<namespace>.<name>`, hashed down when longer than a label allows. */
export function ownerLabelValue(cr: Pick<CrossAccountApi, 'metadata'>): string {
  const value = `${cr.metadata.namespace ?? 'default'}.${cr.metadata.name}`;
  if (value.length <= MAX_LABEL_VALUE) return value;
  const hash = shortHash(value, 10);
  return `${value.slice(0, MAX_LABEL_VALUE - hash.length - 1).replace(/[^a-z0-9]+$/, '')}-${hash}`;
}

/** Labels every rendered object carries; a label selector on them finds one CR's objects. */
export function ownerLabels(cr: Pick<CrossAccountApi, 'metadata'>): Record<string, string> {
  return { [OWNER_LABEL]: ownerLabelValue(cr), 'app.kubernetes.io/managed-by': 'xapi' };
}

/** Path prefixes that need a Resource: "/items/{id}" → ["/items", "/items/{id}"]. */
export function resourcePaths(routes: readonly Route[]): string[] {
  const paths = new Set<string>();
  for (const route of routes) {
    const segments = route.path.split('/').filter(Boolean);
    for (let i = 1; i <= segments.length; i++) paths.add(`/${segments.slice(0, i).join('/')}`);
  }
  return [...paths].sort();
}

/**
 * The execute-api endpoint a CR's consumer shares with every CR of the same consumer cluster,
 * namespace, account, region and VPC (private DNS is VPC-wide: one endpoint per VPC). `label` is
 * the value of the group label on the shared objects; `key` also names the cluster, for the
 * operator's work queue. Undefined when the CR brings its own endpoint (spec.consumer.endpoint.id).
 */
export interface EndpointGroup {
  key: string;
  label: string;
  /** Where the shared objects live: the consumer cluster (as the CR names it) and namespace. */
  cluster: { crNamespace: string; ref?: ClusterRef };
  namespace: string;
  vpcId: string;
  vpcEndpoint: string;
  endpointSecurityGroup: string;
}

export type GroupInput = Pick<CrossAccountApi, 'metadata'> & {
  spec: { region: string; consumer: { accountId: string; namespace: string; vpcId: string; cluster?: ClusterRef; endpoint?: { id?: string } } };
};

/** The CR's endpoint group (see EndpointGroup). Pure: synth and the operator group the same way. */
export function endpointGroup(cr: GroupInput): EndpointGroup | undefined {
  const { consumer, region } = cr.spec;
  if (consumer.endpoint?.id) return undefined;
  const crNamespace = cr.metadata.namespace ?? 'default';
  // The name depends only on what places the objects (namespace → account and region through
  // CARM, VPC): two refs that reach one cluster still name one endpoint.
  const label = `${consumer.vpcId}-${shortHash(JSON.stringify([consumer.namespace, consumer.accountId, region, consumer.vpcId]), 8)}`.toLowerCase();
  const ref = consumer.cluster;
  const where = ref ? `secret:${ref.namespace ?? crNamespace}/${ref.secretName}/${ref.key ?? 'kubeconfig'}` : 'local';
  return {
    key: `endpoint-group|${where}|${consumer.namespace}|${label}`,
    label,
    cluster: { crNamespace, ...(ref && { ref: { ...ref, namespace: ref.namespace ?? crNamespace } }) },
    namespace: consumer.namespace,
    vpcId: consumer.vpcId,
    vpcEndpoint: fit(`xapi-vpce-${label}`),
    endpointSecurityGroup: fit(`xapi-vpce-sg-${label}`),
  };
}

/** Labels of the shared endpoint objects: the group, never an owner (no CR's prune deletes them). */
export function groupLabels(group: Pick<EndpointGroup, 'label'>): Record<string, string> {
  return { [ENDPOINT_GROUP_LABEL]: group.label, 'app.kubernetes.io/managed-by': 'xapi' };
}

export interface ObjectNames {
  callerSecurityGroup: string;
  /** The shared endpoint's objects (the CR's endpoint group); a CR with its own endpoint gets the old per-CR names, never rendered. */
  endpointSecurityGroup: string;
  vpcEndpoint: string;
  role: string;
  function: string;
  restApi: string;
  stage: string;
  /** The Resource for a path prefix such as "/items/{id}". */
  resource(path: string): string;
  method(route: Route): string;
  integration(route: Route): string;
  /** Deployments are immutable snapshots: a new revision (hash of what it deploys) is a new object. */
  deployment(revision: string): string;
}

export function objectNames(cr: GroupInput & { spec: { provider: { stage: string } } }): ObjectNames {
  const base = cr.metadata.name;
  const group = endpointGroup(cr);
  const routeKey = (route: Route) => `${route.method.toLowerCase()}-${pathSlug(route.path)}-${shortHash(`${route.method} ${route.path}`)}`;
  return {
    callerSecurityGroup: fit(`${base}-caller-sg`),
    endpointSecurityGroup: group?.endpointSecurityGroup ?? fit(`${base}-endpoint-sg`),
    vpcEndpoint: group?.vpcEndpoint ?? fit(`${base}-vpce`),
    role: fit(`${base}-caller-role`),
    function: fit(`${base}-caller-fn`),
    restApi: fit(`${base}-api`),
    stage: fit(`${base}-stage-${pathSlug(cr.spec.provider.stage)}`),
    resource: (path) => fit(`${base}-res-${pathSlug(path)}-${shortHash(path)}`),
    method: (route) => fit(`${base}-method-${routeKey(route)}`),
    integration: (route) => fit(`${base}-integration-${routeKey(route)}`),
    deployment: (revision) => fit(`${base}-deploy-${revision}`),
  };
}

/** Argo CD's sync-wave annotation (static syncs create lower waves first). */
export const SYNC_WAVE = 'argocd.argoproj.io/sync-wave';
