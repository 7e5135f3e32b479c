// `xapi synth`: CrossAccountApi YAML in (examples/ by default), manifests out (manifests/ by
// default; CDK8S_OUTDIR when `cdk8s synth` runs us). Everything is read and validated before
// anything is written, and the output folder is replaced whole only once the new one is complete.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { costEstimate, costLine } from '../../charts/audit.js';
import { RATES_SOURCE } from '../../charts/rates.js';
import { API_VERSION, GROUP, KIND, PLURAL, SHORT_NAME, SINGULAR, type CrossAccountApi, type ObservedIds } from '../../api/types.js';
import { formatErrors, shown, validateMetadata, validateSpec } from '../../api/validate.js';
import { buildApp, clusterFolder } from '../../charts/app.js';
import { fieldOk, OBSERVED_ID_RULES, OBSERVED_LIST_RULES, type FieldRule } from '../../api/rules.js';
import { loadManifests } from '../load-manifests.js';
import { checkOutDir, MARKER, MARKER_TEXT } from '../out-dir.js';
import { writeAckValues } from '../ack-values.js';

export interface SynthFlags {
  input: string;
  out?: string;
  observed?: string;
  image: string;
  operatorNamespace: string;
  replicas: string;
  repoUrl: string;
  revision: string;
  manifestsPath: string;
  argocdNamespace: string;
  argocdProject: string;
}

export const DEFAULT_IMAGE = 'ghcr.io/xapi-dev/xapi:0.1.0';
export const DEFAULT_REPO_URL = 'https://github.com/xapi-dev/xapi.git';

/** A kind one typo or letter case away from ours: refused, not silently skipped. */
function nearMiss(kind: string): boolean {
  const a = kind.toLowerCase();
  const b = KIND.toLowerCase();
  if (a === b || a === PLURAL || a === SINGULAR || a === SHORT_NAME) return true;
  // edit distance <= 2
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]! <= 2;
}

/** Reads and validates the CRs; throws one error naming every problem. */
export async function readCrossAccountApis(input: string): Promise<CrossAccountApi[]> {
  const loaded = await loadManifests(input).catch((err: Error) => {
    throw new Error(`--input ${input}: ${err.message.replace(/^cannot read manifests at \S+: /, '')}; nothing written`);
  });
  const problems: string[] = [];
  const crs: { cr: CrossAccountApi; where: string }[] = [];
  const seen = new Map<string, string>();
  for (const { object, file, index } of loaded) {
    const where = `${file} (document ${index + 1}, ${shown(object.metadata.name)})`;
    const group = object.apiVersion.split('/')[0];
    if (object.kind !== KIND) {
      if (nearMiss(object.kind)) problems.push(`${where}: kind ${shown(object.kind)} is not ${KIND} (did you mean ${KIND}, apiVersion ${API_VERSION}?)`);
      else if (group === GROUP) problems.push(`${where}: kind ${shown(object.kind)} is not a kind of ${GROUP} (only ${KIND})`);
      continue;
    }
    if (object.apiVersion !== API_VERSION) {
      problems.push(`${where}: apiVersion must be ${API_VERSION}, got ${shown(object.apiVersion)}`);
      continue;
    }
    const metaErrors = validateMetadata(object.metadata);
    if (metaErrors.length > 0) {
      problems.push(`${where}: ${formatErrors(metaErrors)}`);
      continue;
    }
    const key = `${object.metadata.namespace ?? 'default'}/${object.metadata.name}`;
    if (seen.has(key)) problems.push(`${where}: ${key} is also defined in ${seen.get(key)}`);
    seen.set(key, where);
    const result = validateSpec((object as { spec?: unknown }).spec);
    if (!result.ok) {
      problems.push(`${where}: ${formatErrors(result.errors)}`);
      continue;
    }
    crs.push({ cr: { ...(object as unknown as CrossAccountApi), metadata: { ...object.metadata, namespace: object.metadata.namespace ?? 'default' } }, where });
  }
  problems.push(...collisions(crs));
  if (problems.length > 0) throw new Error(`invalid CrossAccountApi input, nothing written:\n  ${problems.join('\n  ')}`);
  if (crs.length === 0) throw new Error(`no ${KIND} objects under ${input}, nothing written`);
  return crs.map((c) => c.cr).sort((x, y) => `${x.metadata.namespace}/${x.metadata.name}`.localeCompare(`${y.metadata.namespace}/${y.metadata.name}`));
}

/**
 * What single CRs cannot show: two CRs whose derived objects share names (they are named after
 * metadata.name only) or that put different AWS accounts or regions into one namespace (CARM maps
 * a namespace to one account: the second side's objects would be created in the wrong account).
 */
function collisions(crs: readonly { cr: CrossAccountApi; where: string }[]): string[] {
  const problems: string[] = [];
  const byName = new Map<string, string>();
  const owners = new Map<string, { accountId: string; region: string; where: string; side: string }>();
  for (const { cr, where } of crs) {
    const other = byName.get(cr.metadata.name);
    if (other) problems.push(`${where}: metadata.name ${cr.metadata.name} is also used in ${other}; the objects xapi derives from it (${cr.metadata.name}-caller-sg, ${cr.metadata.name}-api, ...) would collide, so names must be unique across namespaces`);
    else byName.set(cr.metadata.name, where);
    const { consumer, provider, region } = cr.spec;
    for (const [side, s] of [['consumer', consumer], ['provider', provider]] as const) {
      const folder = clusterFolder(s.cluster);
      const key = `${folder}/${s.namespace}`;
      const owner = owners.get(key);
      if (!owner) owners.set(key, { accountId: s.accountId, region, where, side });
      else if (owner.accountId !== s.accountId || owner.region !== region) {
        problems.push(
          `${where}: spec.${side}.namespace ${s.namespace} in cluster ${folder} is account ${s.accountId} (${region}), but ${owner.where} puts account ${owner.accountId} (${owner.region}) there (spec.${owner.side}); ACK maps a namespace to one account and region (CARM), so use another namespace`,
        );
      }
    }
  }
  return problems;
}

const OBSERVED_KEYS = [...Object.keys(OBSERVED_ID_RULES), ...Object.keys(OBSERVED_LIST_RULES)];

/** `--observed FILE`: `{"NAMESPACE/NAME": {callerSecurityGroupId, ...}}` for a second static pass; every key and ID checked. */
async function readObserved(path: string, crs: readonly CrossAccountApi[]): Promise<Record<string, ObservedIds>> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new Error(`--observed ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a folder, not a file' : err.message}; nothing written`);
  });
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    throw new Error(`--observed ${path}: not YAML or JSON (${(err as Error).message.split('\n')[0]}); nothing written`);
  }
  const shape = `a map of "namespace/name" to {${OBSERVED_KEYS.join(', ')}}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`--observed ${path}: expected ${shape}; nothing written`);
  const known = new Set(crs.map((cr) => `${cr.metadata.namespace}/${cr.metadata.name}`));
  const problems: string[] = [];
  for (const [key, ids] of Object.entries(value)) {
    const at = `${shown(key)}`;
    if (!known.has(key)) problems.push(`${at}: no CrossAccountApi ${shown(key)} in --input (keys are "namespace/name": ${[...known].join(', ')})`);
    if (typeof ids !== 'object' || ids === null || Array.isArray(ids)) {
      problems.push(`${at}: expected {${OBSERVED_KEYS.join(', ')}}, got ${shown(ids)}`);
      continue;
    }
    for (const [field, v] of Object.entries(ids as Record<string, unknown>)) {
      if (field in OBSERVED_ID_RULES) {
        const rule: FieldRule = OBSERVED_ID_RULES[field as keyof typeof OBSERVED_ID_RULES];
        if (typeof v !== 'string' || !fieldOk(rule, v)) problems.push(`${at}.${field}: ${rule.message} (got ${shown(v)})`);
      } else if (field in OBSERVED_LIST_RULES) {
        const rule: FieldRule = OBSERVED_LIST_RULES[field as keyof typeof OBSERVED_LIST_RULES];
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !fieldOk(rule, x))) problems.push(`${at}.${field}: ${rule.message} (got ${shown(v)})`);
      } else {
        problems.push(`${at}.${field}: unknown key (allowed: ${OBSERVED_KEYS.join(', ')})`);
      }
    }
  }
  if (problems.length > 0) throw new Error(`--observed ${path}: invalid, nothing written:\n  ${problems.join('\n  ')}`);
  return value as Record<string, ObservedIds>;
}

/** The summary's cost lines: each endpoint's monthly estimate from the rate table. */
export function costSummary(crs: readonly CrossAccountApi[]): string[] {
  return crs.map((cr) => `  ${cr.metadata.namespace}/${cr.metadata.name}: ${costLine(costEstimate({ azCount: new Set(cr.spec.consumer.subnetIds).size, sharedBy: 1 }))}`);
}

export async function synth(flags: SynthFlags): Promise<{ outdir: string; files: number; costs: string[] }> {
  const underCdk8s = !flags.out && process.env.CDK8S_OUTDIR;
  // Checked before anything is read, so a wrong --out fails fast and nothing is touched.
  const out = flags.out ?? process.env.CDK8S_OUTDIR ?? 'manifests';
  const label = flags.out ? `--out ${out}` : underCdk8s ? `CDK8S_OUTDIR=${out}` : `--out ${out} (the default)`;
  const outdir = checkOutDir(out, { label, input: flags.input });
  const crs = await readCrossAccountApis(flags.input);
  const observed = flags.observed ? await readObserved(flags.observed, crs) : undefined;
  const replicas = Number(flags.replicas);
  if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`--replicas must be a positive integer, got ${flags.replicas}`);
  // Under `cdk8s synth` the CLI owns the folder (it empties it first); otherwise build beside it and swap.
  const target = underCdk8s ? outdir : await mkdtemp(join(dirname(outdir), `.${basename(outdir)}.tmp-`));
  try {
    const app = buildApp(crs, {
      outdir: target,
      ...(observed && { observed }),
      operator: { namespace: flags.operatorNamespace, image: flags.image, replicas },
      argocd: { repoUrl: flags.repoUrl, targetRevision: flags.revision, basePath: flags.manifestsPath, namespace: flags.argocdNamespace, project: flags.argocdProject },
    });
    app.synth();
    await writeFile(join(target, MARKER), MARKER_TEXT);
    // mkdtemp makes the folder 0700; output is meant to be read (by git, Argo CD, colleagues)
    await chmod(target, 0o755);
    const files = app.charts.reduce((n, c) => n + c.toJson().length, 0) + (await writeAckValues(target));
    if (!underCdk8s) {
      const old = existsSync(outdir) ? `${target}.old` : undefined;
      if (old) await rename(outdir, old);
      await rename(target, outdir);
      if (old) await rm(old, { recursive: true, force: true });
    }
    return { outdir, files, costs: costSummary(crs) };
  } catch (err) {
    if (!underCdk8s) await rm(target, { recursive: true, force: true });
    throw err;
  }
}

export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('render CrossAccountApi YAML into ACK manifests per cluster, the CRD, the operator install and Argo CD Applications')
    .option('--input <path>', 'file or folder of CrossAccountApi YAML', 'examples')
    .option('--out <dir>', `output folder, replaced whole: it must be new, empty, or earlier synth output (holding ${MARKER}), and hold neither --input nor the current directory (default: $CDK8S_OUTDIR, else manifests)`)
    .option('--observed <file>', `IDs AWS assigned, YAML or JSON {"namespace/name": {${OBSERVED_KEYS.join(', ')}}} (allowedEndpointIds a list), for a complete static render`)
    .option('--image <ref>', 'operator container image', DEFAULT_IMAGE)
    .option('--operator-namespace <ns>', 'namespace of the operator install', 'xapi-system')
    .option('--replicas <n>', 'operator replicas (leader election picks one)', '2')
    .option('--repo-url <url>', 'Git repository Argo CD syncs from', DEFAULT_REPO_URL)
    .option('--revision <rev>', 'Git revision Argo CD syncs', 'HEAD')
    .option('--manifests-path <path>', 'path of the output folder inside that repository', 'manifests')
    .option('--argocd-namespace <ns>', 'namespace Argo CD runs in', 'argocd')
    .option('--argocd-project <name>', 'Argo CD project of the Applications', 'default')
    .action(async (flags: SynthFlags) => {
      const { outdir, files, costs } = await synth(flags);
      process.stdout.write(`xapi synth: wrote ${files} objects to ${outdir}\n`);
      if (costs.length > 0) process.stdout.write(`monthly estimate per endpoint (${RATES_SOURCE}):\n${costs.join('\n')}\n`);
    });
}
