// Names of the objects rendered for one CrossAccountApi. The charts, the reconciler (to read ACK
// status) and the status CLI all derive names here, so they always agree.
import { createHash } from 'node:crypto';
import { OWNER_LABEL, type CrossAccountApi, type Route } from '../api/types.js';

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

export interface ObjectNames {
  callerSecurityGroup: string;
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

export function objectNames(cr: Pick<CrossAccountApi, 'metadata'> & { spec: { provider: { stage: string } } }): ObjectNames {
  const base = cr.metadata.name;
  const routeKey = (route: Route) => `${route.method.toLowerCase()}-${pathSlug(route.path)}-${shortHash(`${route.method} ${route.path}`)}`;
  return {
    callerSecurityGroup: fit(`${base}-caller-sg`),
    endpointSecurityGroup: fit(`${base}-endpoint-sg`),
    vpcEndpoint: fit(`${base}-vpce`),
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
