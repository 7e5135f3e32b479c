// Every manifest the project ships under manifests/ against the real API server with the ACK,
// Argo CD and xapi CRDs installed: `kubectl apply --server-side --dry-run=server --validate=strict`
// must accept each file, so a misspelled ACK field or a wrong apiVersion fails the build.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { clients, ensureNamespace, kubectl } from './helpers.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
// XAPI_TEST_MANIFESTS_DIR points the check at another folder (to check the check itself).
const MANIFESTS = process.env.XAPI_TEST_MANIFESTS_DIR ?? join(ROOT, 'manifests');

interface ManifestFile {
  path: string;
  objects: { kind: string; metadata: { name: string; namespace?: string } }[];
}

function walk(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return walk(full);
    // kustomization.yaml is kustomize's input, not an object for the API server
    return /\.ya?ml$/.test(name) && !/^kustomization\.ya?ml$/.test(name) ? [full] : [];
  });
}

function load(path: string): ManifestFile {
  const objects = parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${path}: ${d.errors[0]!.message}`);
      return d.toJS() as ManifestFile['objects'][number] | null;
    })
    .filter((o): o is ManifestFile['objects'][number] => o !== null && o !== undefined);
  return { path, objects };
}

// Files holding Namespaces first, then the rest in path order.
const files = walk(MANIFESTS)
  .map(load)
  .sort((a, b) => Number(b.objects.some((o) => o.kind === 'Namespace')) - Number(a.objects.some((o) => o.kind === 'Namespace')) || a.path.localeCompare(b.path));

// The manifests name their own namespaces (account-a, account-b, ...); a server dry run of a
// Namespace stores nothing, so they are created for real first (create-if-absent, never deleted:
// the clusters are shared and namespaces never finish deleting without a controller).
const namespaces = [
  ...new Set(files.flatMap((f) => f.objects.flatMap((o) => (o.kind === 'Namespace' ? [o.metadata.name] : o.metadata.namespace ? [o.metadata.namespace] : [])))),
];

describe('manifests/', () => {
  it('holds manifests to check', () => {
    if (files.length === 0) throw new Error(`no .yaml files under ${MANIFESTS}: the rendered manifests must be committed there (run the synth)`);
    expect(files.every((f) => f.objects.length > 0)).toBe(true);
  });

  if (files.length === 0) return;

  beforeAll(async () => {
    const b = clients('B');
    for (const ns of namespaces) await ensureNamespace(b.core, ns);
  });

  it.each(files.map((f) => [relative(ROOT, f.path), f] as const))('%s passes a strict server-side dry run', async (_rel, f) => {
    const r = await kubectl('B', ['apply', '--server-side', '--dry-run=server', '--validate=strict', '-f', f.path]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(f.objects.length);
    for (const line of lines) expect(line).toMatch(/ serverside-applied \(server dry run\)$/);
  });
});
