// Reads rendered manifests (a file or a folder of YAML, searched recursively) for the commands
// that work offline: lint, explain, gateway.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../api/types.js';

export interface LoadedObject {
  object: KubeObject;
  /** File it came from and its index among the file's documents, for error messages and SARIF. */
  file: string;
  index: number;
}

async function yamlFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read manifests at ${path}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
  });
  if (info.isFile()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) files.push(...(await yamlFiles(full)));
    // *.values.yaml in a folder are Helm values (manifests/ack-controllers), not objects
    else if (/\.ya?ml$/.test(entry.name) && !/\.values\.ya?ml$/.test(entry.name)) files.push(full);
  }
  return files;
}

function isKubeObject(value: unknown): value is KubeObject {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const meta = v.metadata as Record<string, unknown> | undefined;
  return typeof v.apiVersion === 'string' && typeof v.kind === 'string' && typeof meta?.name === 'string';
}

/** Every Kubernetes object under `path`, in a stable order. Throws on unreadable or invalid YAML. */
export async function loadManifests(path: string): Promise<LoadedObject[]> {
  const files = await yamlFiles(path);
  if (files.length === 0) throw new Error(`no .yaml files under ${path}`);
  const loaded: LoadedObject[] = [];
  for (const file of files) {
    const docs = parseAllDocuments(await readFile(file, 'utf8'));
    docs.forEach((doc, index) => {
      if (doc.errors.length > 0) throw new Error(`${file}: document ${index + 1}: ${doc.errors[0]!.message}`);
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) return; // empty document
      if (!isKubeObject(value)) throw new Error(`${file}: document ${index + 1} is not a Kubernetes object (apiVersion, kind, metadata.name)`);
      loaded.push({ object: value, file, index });
    });
  }
  return loaded;
}
