// Installing CustomResourceDefinitions into a fresh control plane: create each (a plain create,
// no client-side apply annotation, so the large ACK CRDs fit), then wait until every one reports
// Established and its resource answers a list (right after Established its storage may still
// answer 429 "storage is (re)initializing").
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { apiRequest, type Endpoint } from './http.js';

interface Crd {
  kind: string;
  metadata: { name: string };
  spec: { group: string; names: { plural: string }; versions: { name: string; storage?: boolean }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

export function readCrdDir(dir: string): object[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch (err) {
    throw new Error(`CRD folder ${dir} cannot be read: ${(err as Error).message}`);
  }
  if (files.length === 0) throw new Error(`CRD folder ${dir} holds no .yaml files`);
  const out: object[] = [];
  for (const f of files) {
    const path = join(dir, f);
    if (!statSync(path).isFile()) continue;
    for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0]!.message}`);
      const obj = doc.toJS() as Crd | null;
      if (obj?.kind === 'CustomResourceDefinition') out.push(obj);
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

export async function installCrds(ep: Endpoint, objects: object[], timeoutMs: number): Promise<void> {
  const crds = objects as Crd[];
  if (crds.length === 0) return;
  // A few at a time: the API server compiles each schema, and the machine may have 2 cores.
  const queue = [...crds];
  const worker = async () => {
    for (let crd = queue.shift(); crd; crd = queue.shift()) {
      const res = await apiRequest(ep, 'POST', CRDS, crd);
      if (res.status === 409) continue; // already there
      if (res.status >= 300) throw new Error(`installing CRD ${crd.metadata?.name} failed: HTTP ${res.status}: ${res.body.slice(0, 500)}`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);

  const end = Date.now() + timeoutMs;
  const names = new Set(crds.map((c) => c.metadata.name));
  for (;;) {
    const res = await apiRequest(ep, 'GET', CRDS);
    const items = res.status === 200 ? (JSON.parse(res.body) as { items: Crd[] }).items : [];
    const pending = [...names].filter((n) => {
      const crd = items.find((c) => c.metadata.name === n);
      return !crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    });
    if (pending.length === 0) break;
    if (Date.now() > end) throw new Error(`CRDs not Established after ${timeoutMs} ms: ${pending.join(', ')}`);
    await sleep(100);
  }

  let unserved = crds.map((c) => {
    const version = (c.spec.versions.find((v) => v.storage) ?? c.spec.versions[0])!.name;
    return { name: c.metadata.name, path: `/apis/${c.spec.group}/${version}/${c.spec.names.plural}?limit=1` };
  });
  for (;;) {
    const ok = await Promise.all(unserved.map((r) => apiRequest(ep, 'GET', r.path).then((res) => res.status === 200, () => false)));
    unserved = unserved.filter((_, i) => !ok[i]);
    if (unserved.length === 0) return;
    if (Date.now() > end) throw new Error(`CRDs Established but not serving lists after ${timeoutMs} ms: ${unserved.map((r) => r.name).join(', ')}`);
    await sleep(100);
  }
}
