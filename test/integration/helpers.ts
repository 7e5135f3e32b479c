// Shared helpers of the integration tests: clients and kubeconfigs of the two API servers the
// global setup started, the real kubectl, the shipped example CR, namespaces, polling, and the
// test's stand-in for ACK (status writes on ACK objects).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { ACK, type AckKindName } from '../../src/api/ack.js';
import type { CrossAccountApi } from '../../src/api/types.js';

/** The repository root: the nearest folder with a package.json (this file also runs from dist/, in bench/). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export const EXAMPLE_PATH = join(repoRoot(), 'examples', 'orders.yaml');

export function kubeconfigPath(which: 'A' | 'B'): string {
  const p = process.env[`XAPI_TEST_KUBECONFIG_${which}`];
  if (!p) throw new Error(`XAPI_TEST_KUBECONFIG_${which} is not set: the integration global setup (test/integration/global-setup.ts) must start the API servers`);
  return p;
}

export function kubectlPath(): string {
  const p = process.env.XAPI_TEST_KUBECTL;
  if (!p) throw new Error('XAPI_TEST_KUBECTL is not set by the integration global setup');
  return p;
}

export type Clients = ReturnType<typeof clientsFor>;

/** Clients for a kubeconfig file. */
export function clientsFor(path: string) {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return { kc, core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

export function clients(which: 'A' | 'B'): Clients {
  return clientsFor(kubeconfigPath(which));
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real kubectl (XAPI_TEST_KUBECTL) against cluster A or B; never throws on exit code. */
export function kubectl(which: 'A' | 'B', args: string[], stdin?: string): Promise<KubectlResult> {
  const bin = kubectlPath();
  return new Promise((resolve) => {
    const child = execFile(bin, ['--kubeconfig', kubeconfigPath(which), ...args], { timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

/** The shipped example CR; with a name and namespace, renamed and moved there. */
export function exampleCr(name?: string, namespace?: string): CrossAccountApi {
  const cr = parse(readFileSync(EXAMPLE_PATH, 'utf8')) as CrossAccountApi;
  if (name === undefined) return cr;
  return { ...cr, metadata: { name, namespace } };
}

export async function ensureNamespace(core: CoreV1Api, name: string): Promise<void> {
  try {
    await core.createNamespace({ body: { metadata: { name } } });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
}

export async function deleteNamespace(core: CoreV1Api, name: string): Promise<void> {
  try {
    await core.deleteNamespace({ name });
  } catch {
    // already gone
  }
}

/** A fresh suffix per run: no namespace controller runs, so deleted namespaces never go away. */
export const runSuffix = () => Date.now().toString(36).slice(-5) + Math.floor(Math.random() * 1296).toString(36);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns something truthy; fails with the last error after timeoutMs. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String((last as Error).message ?? last)}` : ''}`);
    await sleep(everyMs);
  }
}

type Obj = { metadata: { name: string; namespace: string; uid?: string; generation?: number; resourceVersion?: string }; spec?: Record<string, unknown>; status?: Record<string, unknown> };

export async function getAck(custom: CustomObjectsApi, kind: AckKindName, namespace: string, name: string): Promise<Obj> {
  const r = ACK[kind];
  return (await custom.getNamespacedCustomObject({ group: r.group, version: r.version, plural: r.plural, namespace, name })) as Obj;
}

export async function listAck(custom: CustomObjectsApi, kind: AckKindName, labelSelector: string): Promise<Obj[]> {
  const r = ACK[kind];
  return ((await custom.listClusterCustomObject({ group: r.group, version: r.version, plural: r.plural, labelSelector })) as { items: Obj[] }).items;
}

export const readyConditions = () => {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z'); // metav1.Time: whole seconds, as ACK stamps
  return [
    { type: 'ACK.ResourceSynced', status: 'True', lastTransitionTime: now },
    { type: 'Ready', status: 'True', lastTransitionTime: now },
  ];
};

/** Play ACK: replace the object's status (status subresource), retrying on conflicts. */
export async function setAckStatus(custom: CustomObjectsApi, kind: AckKindName, namespace: string, name: string, status: Record<string, unknown>): Promise<void> {
  const r = ACK[kind];
  for (let i = 0; ; i++) {
    try {
      const obj = await getAck(custom, kind, namespace, name);
      await custom.replaceNamespacedCustomObjectStatus({ group: r.group, version: r.version, plural: r.plural, namespace, name, body: { ...obj, status } });
      return;
    } catch (err) {
      if ((err as { code?: number }).code !== 409 || i > 30) throw err;
    }
  }
}

/** uid → the generation of the last sync played: ACK syncs each spec change, and re-stamps its conditions only then. */
const syncedGenerations = new Map<string, number | undefined>();
const syncKey = (o: Obj) => o.metadata.uid ?? `${o.metadata.namespace}/${o.metadata.name}`;

/**
 * Would ACK sync `obj` now: it is not Ready with these `fields` yet, or its spec changed since the
 * last sync played. A fresh stamp without a sync would look like one to the operator.
 */
export function ackWouldSync(obj: Obj, fields: Record<string, unknown> = {}): boolean {
  const conditions = (obj.status?.conditions ?? []) as Array<{ type?: string; status?: string }>;
  const ready = ['ACK.ResourceSynced', 'Ready'].every((t) => conditions.some((c) => c.type === t && c.status === 'True'));
  const same = Object.entries(fields).every(([k, v]) => JSON.stringify(obj.status?.[k]) === JSON.stringify(v));
  const key = syncKey(obj);
  return !(ready && same && syncedGenerations.has(key) && syncedGenerations.get(key) === obj.metadata.generation);
}

/** Play one ACK sync of `obj` (as listed or read): Ready with `fields`, conditions stamped now. */
export async function playSync(custom: CustomObjectsApi, kind: AckKindName, obj: Obj, fields: Record<string, unknown> = {}): Promise<void> {
  await setAckStatus(custom, kind, obj.metadata.namespace, obj.metadata.name, { ...fields, conditions: readyConditions() });
  syncedGenerations.set(syncKey(obj), obj.metadata.generation);
}

/** One ACK sync of the named object if ACK would make one (ackWouldSync); false when it did not, or the object is gone. */
export async function playAckSync(custom: CustomObjectsApi, kind: AckKindName, namespace: string, name: string, fields: Record<string, unknown> = {}): Promise<boolean> {
  const obj = await getAck(custom, kind, namespace, name).catch((err: { code?: number }) => {
    if (err.code === 404) return undefined;
    throw err;
  });
  if (!obj || !ackWouldSync(obj, fields)) return false;
  await playSync(custom, kind, obj, fields);
  return true;
}

/** Read-modify-write of an ACK object's metadata/spec, retried on a write conflict. */
export async function mutateAck(custom: CustomObjectsApi, kind: AckKindName, namespace: string, name: string, change: (o: Obj) => void): Promise<void> {
  const r = ACK[kind];
  for (let i = 0; ; i++) {
    try {
      const obj = await getAck(custom, kind, namespace, name);
      change(obj);
      await custom.replaceNamespacedCustomObject({ group: r.group, version: r.version, plural: r.plural, namespace, name, body: obj });
      return;
    } catch (err) {
      if ((err as { code?: number }).code !== 409 || i > 30) throw err;
    }
  }
}
