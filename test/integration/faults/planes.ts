// Control planes of their own for a fault test file: the faults (API server restarts, etcd
// compaction, audit logging) must not reach the shared planes other test files run against.
// Also: extra identities (ServiceAccount tokens with cluster-admin) to tell writers apart in the
// audit log and to rotate a cluster Secret to new credentials.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { crossAccountApiCrd } from '../../../src/api/crd.js';
import { envtestAssets, startControlPlane, type ControlPlane, type StartOptions } from '../../../src/envtest/index.js';
import { clientsFor, ensureNamespace, type Clients } from '../helpers.js';

export interface Plane {
  plane: ControlPlane;
  clients: Clients;
  kubeconfig: string;
}

export async function startPlane(name: string, extra: Partial<StartOptions> = {}): Promise<Plane> {
  const crdDir = process.env.XAPI_CRDS_DIR;
  if (!crdDir) throw new Error('XAPI_CRDS_DIR is not set: run `npm test`, or export XAPI_CRDS_DIR="$(bash scripts/ack-crds.sh | tail -n 1)"');
  const plane = await startControlPlane({ name, crdDirs: [crdDir], crds: [crossAccountApiCrd()], assets: envtestAssets(), timeoutMs: 180_000, ...extra });
  return { plane, clients: clientsFor(plane.kubeconfigPath), kubeconfig: readFileSync(plane.kubeconfigPath, 'utf8') };
}

/** Two planes, A and B, started side by side; both stopped if either fails. */
export async function startPair(prefix: string, extra: Partial<StartOptions> = {}): Promise<[Plane, Plane]> {
  const results = await Promise.allSettled([startPlane(`${prefix}-a`, extra), startPlane(`${prefix}-b`, extra)]);
  const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (ok.length === 2) return ok as [Plane, Plane];
  await Promise.all(ok.map((p) => p.plane.stop()));
  throw new Error(`fault planes ${prefix}: ${results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : [])).join('\n')}`);
}

/** The kubeconfig text with another server address (a proxy in front of the real one). */
export function withServer(kubeconfig: string, server: string): string {
  const kc = parse(kubeconfig) as { clusters: Array<{ cluster: { server: string } }> };
  for (const c of kc.clusters) c.cluster.server = server;
  return stringify(kc);
}

/** The kubeconfig text with the user's credentials replaced by a bearer token. */
export function withToken(kubeconfig: string, token: string): string {
  const kc = parse(kubeconfig) as { users: Array<{ user: Record<string, unknown> }> };
  for (const u of kc.users) u.user = { token };
  return stringify(kc);
}

export function serverOf(kubeconfig: string): string {
  return (parse(kubeconfig) as { clusters: Array<{ cluster: { server: string } }> }).clusters[0]!.cluster.server;
}

/**
 * A second identity on a plane: ServiceAccount `namespace/name` bound to cluster-admin, and a
 * token for it from the TokenRequest API. Returns the kubeconfig text using that token; its audit
 * user is `system:serviceaccount:<namespace>:<name>`.
 */
export async function issueIdentity(p: Plane, namespace: string, name: string): Promise<{ kubeconfig: string; user: string }> {
  await ensureNamespace(p.clients.core, namespace);
  try {
    await p.clients.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name, namespace } } });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
  const rbac = p.clients.kc.makeApiClient(RbacAuthorizationV1Api);
  try {
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: `fault-${namespace}-${name}` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'ServiceAccount', name, namespace }],
      },
    });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
  const req = await p.clients.core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: [], expirationSeconds: 24 * 3600 } } });
  const token = req.status?.token;
  if (!token) throw new Error(`no token issued for ${namespace}/${name}`);
  return { kubeconfig: withToken(p.kubeconfig, token), user: `system:serviceaccount:${namespace}:${name}` };
}

/** Writes text to a fresh temp file (a kubeconfig for an operator process). */
export function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'xapi-fault-')), name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

export interface AuditEvent {
  auditID: string;
  verb: string;
  user: { username: string };
  requestURI: string;
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string; subresource?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  stage: string;
}

/** The audit log of a plane started with `audit: true`: completed requests, or every stage. */
export function auditEvents(p: Plane, stages: 'complete' | 'all' = 'complete'): AuditEvent[] {
  if (!p.plane.auditLogPath) throw new Error(`${p.plane.name} was started without audit`);
  let text = '';
  try {
    text = readFileSync(p.plane.auditLogPath, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw err;
  }
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as AuditEvent)
    .filter((e) => stages === 'all' || e.stage === 'ResponseComplete' || e.stage === 'Panic');
}

export const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/**
 * Compacts the plane's etcd at its current revision (etcd's JSON gateway, /v3/kv/compaction): a
 * watch resumed from any older resourceVersion is answered 410 Gone. Returns that revision.
 */
export async function compactEtcd(p: Plane): Promise<number> {
  const url = `http://127.0.0.1:${p.plane.etcd.port}`;
  const post = async (path: string, body: object) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${text}`);
    return JSON.parse(text) as { header?: { revision?: string } };
  };
  const head = await post('/v3/kv/range', { key: Buffer.from('/').toString('base64'), limit: 1 });
  const revision = Number(head.header?.revision);
  if (!Number.isFinite(revision) || revision < 1) throw new Error(`etcd gave no revision: ${JSON.stringify(head)}`);
  await post('/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}
