#!/usr/bin/env node
// Stand-in ACK CRDs rebuilt from the committed cdk8s imports (imports/*.k8s.aws.ts), for machines
// where the pinned controllers' CRDs cannot be fetched (the Go module proxy refuses the ACK
// controller modules). Each spec field keeps its JSON name, type and required-ness, and unknown
// fields are rejected, so `kubectl apply --validate=strict` still catches a misspelled field.
// What cdk8s import drops is lost: enums, CEL rules (ID-or-Ref, immutability), and the status
// schema (kept open). Usage:
//   node scripts/derive-crds.mjs OUTDIR            write one CRD file per ACK kind
//   node scripts/derive-crds.mjs --check CRDDIR    compare with the real CRDs (exit 1 on a mismatch)
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const importsDir = join(root, 'imports');

/** interface name → {members: [{json, ts, type, required}]}, class name → {apiVersion, kind, props} */
function parseImports(text) {
  const interfaces = new Map();
  const classes = [];
  const ifaceRe = /export interface (\w+) \{([\s\S]*?)\n\}/g;
  for (const m of text.matchAll(ifaceRe)) {
    const members = [];
    const memberRe = /@schema [\w.]+#([\w$.-]+)\s*\n\s*\*\/\s*\n\s*readonly (\w+)(\??): ([^;]+);/g;
    for (const mm of m[2].matchAll(memberRe)) members.push({ json: mm[1], ts: mm[2], required: mm[3] !== '?', type: mm[4].trim() });
    interfaces.set(m[1], members);
  }
  const classRe = /export class (\w+) extends ApiObject \{[\s\S]*?apiVersion: '([^']+)',\s*kind: '([^']+)'/g;
  for (const m of text.matchAll(classRe)) classes.push({ name: m[1], apiVersion: m[2], kind: m[3] });
  return { interfaces, classes };
}

function schemaOf(type, interfaces, path) {
  if (type === 'string') return { type: 'string' };
  if (type === 'number') return { type: 'number' };
  if (type === 'boolean') return { type: 'boolean' };
  if (type.endsWith('[]')) return { type: 'array', items: schemaOf(type.slice(0, -2), interfaces, path) };
  const map = /^\{ \[key: string\]: (\w+) \}$/.exec(type);
  if (map) return { type: 'object', additionalProperties: schemaOf(map[1], interfaces, path) };
  if (type === 'any') return { 'x-kubernetes-preserve-unknown-fields': true };
  const members = interfaces.get(type);
  if (!members) throw new Error(`${path}: type ${type} not understood; extend scripts/derive-crds.mjs`);
  const properties = {};
  for (const m of members) properties[m.json] = schemaOf(m.type, interfaces, `${path}.${m.json}`);
  const required = members.filter((m) => m.required).map((m) => m.json);
  return { type: 'object', properties, ...(required.length && { required }) };
}

function derive() {
  const crds = [];
  for (const file of readdirSync(importsDir).filter((f) => f.endsWith('.k8s.aws.ts')).sort()) {
    const { interfaces, classes } = parseImports(readFileSync(join(importsDir, file), 'utf8'));
    for (const c of classes) {
      const [group, version] = c.apiVersion.split('/');
      const plural = `${c.kind.toLowerCase()}s`;
      const props = interfaces.get(`${c.name}Props`) ?? [];
      const spec = props.find((p) => p.json === 'spec');
      if (!spec) throw new Error(`${file}: ${c.name}Props has no spec`);
      crds.push({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `${plural}.${group}`, annotations: { 'xapi.dev/stand-in': `derived from imports/${file} by scripts/derive-crds.mjs` } },
        spec: {
          group,
          scope: 'Namespaced',
          names: { kind: c.kind, listKind: `${c.kind}List`, plural, singular: c.kind.toLowerCase() },
          versions: [
            {
              name: version,
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    apiVersion: { type: 'string' },
                    kind: { type: 'string' },
                    metadata: { type: 'object' },
                    spec: schemaOf(spec.type, interfaces, `${c.kind}.spec`),
                    status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  },
                },
              },
            },
          ],
        },
      });
    }
  }
  return crds;
}

/** Property paths with their types, e.g. `spec.subnetIDs[]: string`. */
function paths(schema, prefix, out) {
  const t = schema.type ?? (schema['x-kubernetes-preserve-unknown-fields'] ? 'any' : 'object');
  out.set(prefix, t === 'integer' ? 'number' : t);
  if (schema.properties) for (const [k, v] of Object.entries(schema.properties)) paths(v, `${prefix}.${k}`, out);
  if (schema.items) paths(schema.items, `${prefix}[]`, out);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') paths(schema.additionalProperties, `${prefix}{}`, out);
  return out;
}

function check(realDir) {
  const real = new Map();
  for (const f of readdirSync(realDir).filter((x) => /\.ya?ml$/.test(x))) {
    for (const doc of parseAllDocuments(readFileSync(join(realDir, f), 'utf8'))) {
      const o = doc.toJS();
      if (o?.kind === 'CustomResourceDefinition') real.set(o.metadata.name, o);
    }
  }
  let problems = 0;
  for (const d of derive()) {
    const r = real.get(d.metadata.name);
    if (!r) { console.error(`derive-crds: no real CRD ${d.metadata.name} in ${realDir}`); problems++; continue; }
    const mine = paths(d.spec.versions[0].schema.openAPIV3Schema.properties.spec, 'spec', new Map());
    const theirs = paths(r.spec.versions.find((v) => v.storage).schema.openAPIV3Schema.properties.spec, 'spec', new Map());
    for (const [p, t] of theirs) if (mine.get(p) !== t) { console.error(`derive-crds: ${d.metadata.name} ${p}: real ${t}, stand-in ${mine.get(p) ?? 'missing'}`); problems++; }
    for (const p of mine.keys()) if (!theirs.has(p)) { console.error(`derive-crds: ${d.metadata.name} ${p}: not in the real CRD`); problems++; }
  }
  if (problems) { console.error(`derive-crds: ${problems} differences`); process.exit(1); }
  console.error(`derive-crds: the stand-in spec schemas match the real CRDs field for field (${real.size} real CRDs read)`);
}

const args = process.argv.slice(2);
if (args[0] === '--check' && args[1]) check(args[1]);
else if (args.length === 1 && !args[0].startsWith('-')) {
  mkdirSync(args[0], { recursive: true });
  for (const crd of derive()) {
    const [plural, ...group] = crd.metadata.name.split('.');
    writeFileSync(join(args[0], `${group.join('.')}_${plural}.yaml`), stringify(crd));
  }
} else {
  console.error('usage: derive-crds.mjs OUTDIR | --check CRDDIR');
  process.exit(2);
}
