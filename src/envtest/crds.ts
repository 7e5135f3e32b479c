// Installing CustomResourceDefinitions into a fresh control plane: create each (server-side
// create, no client-side apply annotation, so the large ACK CRDs fit), then wait until every one
// reports Established and its resource answers a list (its storage may still be initializing
// right after Established, answering 429 "storage is (re)initializing").
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ApiextensionsV1Api, CustomObjectsApi, KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

type Crd = V1CustomResourceDefinition & { metadata: { name: string } };

export function readCrdDir(dir: string): Crd[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch (err) {
    throw new Error(`CRD folder ${dir} cannot be read: ${(err as Error).message}`);
  }
  if (files.length === 0) throw new Error(`CRD folder ${dir} holds no .yaml files`);
  const out: Crd[] = [];
  for (const f of files) {
    const path = join(dir, f);
    if (!statSync(path).isFile()) continue;
    for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0]!.message}`);
      const obj = doc.toJS() as Crd | null;
      if (!obj) continue;
      if (obj.kind !== 'CustomResourceDefinition') continue;
      out.push(obj);
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function installCrds(kc: KubeConfig, crds: object[], timeoutMs: number): Promise<void> {
  if (crds.length === 0) return;
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const names = new Set<string>();
  // A few at a time: the API server compiles each schema, and the machine may have 2 cores.
  const queue = [...(crds as Crd[])];
  const worker = async () => {
    for (let crd = queue.shift(); crd; crd = queue.shift()) {
      names.add(crd.metadata.name);
      try {
        await api.createCustomResourceDefinition({ body: crd });
      } catch (err) {
        if ((err as { code?: number }).code === 409) continue; // already there (dir reused)
        throw new Error(`installing CRD ${crd.metadata.name} failed: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);

  const end = Date.now() + timeoutMs;
  for (;;) {
    const list = await api.listCustomResourceDefinition();
    const pending = [...names].filter((n) => {
      const crd = list.items.find((c) => c.metadata?.name === n);
      return !crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    });
    if (pending.length === 0) break;
    if (Date.now() > end) throw new Error(`CRDs not Established after ${timeoutMs} ms: ${pending.join(', ')}`);
    await sleep(100);
  }

  const custom = kc.makeApiClient(CustomObjectsApi);
  let unserved = (crds as Crd[]).map((c) => ({
    name: c.metadata.name,
    group: c.spec.group,
    plural: c.spec.names.plural,
    version: (c.spec.versions.find((v) => v.storage) ?? c.spec.versions[0])!.name,
  }));
  for (;;) {
    const results = await Promise.all(
      unserved.map((r) => custom.listClusterCustomObject({ group: r.group, version: r.version, plural: r.plural, limit: 1 }).then(() => true, () => false)),
    );
    unserved = unserved.filter((_, i) => !results[i]);
    if (unserved.length === 0) return;
    if (Date.now() > end) throw new Error(`CRDs Established but not serving lists after ${timeoutMs} ms: ${unserved.map((r) => r.name).join(', ')}`);
    await sleep(100);
  }
}
