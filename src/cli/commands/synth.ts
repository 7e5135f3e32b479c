// `xapi synth`: CrossAccountApi YAML in (examples/ by default), manifests out (manifests/ by
// default; CDK8S_OUTDIR when `cdk8s synth` runs us). Everything is read and validated before
// anything is written, and the output folder is replaced whole only once the new one is complete.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { API_VERSION, KIND, type CrossAccountApi, type ObservedIds } from '../../api/types.js';
import { formatErrors, validateSpec } from '../../api/validate.js';
import { buildApp } from '../../charts/app.js';
import { loadManifests } from '../load-manifests.js';
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

/** Reads and validates the CRs; throws one error naming every problem. */
export async function readCrossAccountApis(input: string): Promise<CrossAccountApi[]> {
  const loaded = await loadManifests(input).catch((err: Error) => {
    throw new Error(`--input ${input}: ${err.message.replace(/^cannot read manifests at \S+: /, '')}; nothing written`);
  });
  const problems: string[] = [];
  const crs: CrossAccountApi[] = [];
  const seen = new Map<string, string>();
  for (const { object, file, index } of loaded) {
    if (object.kind !== KIND) continue;
    const where = `${file} (document ${index + 1}, ${object.metadata.name})`;
    if (object.apiVersion !== API_VERSION) {
      problems.push(`${where}: apiVersion must be ${API_VERSION}, got ${object.apiVersion}`);
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
    crs.push({ ...(object as unknown as CrossAccountApi), metadata: { ...object.metadata, namespace: object.metadata.namespace ?? 'default' } });
  }
  if (problems.length > 0) throw new Error(`invalid CrossAccountApi input, nothing written:\n  ${problems.join('\n  ')}`);
  if (crs.length === 0) throw new Error(`no ${KIND} objects under ${input}, nothing written`);
  return crs.sort((x, y) => `${x.metadata.namespace}/${x.metadata.name}`.localeCompare(`${y.metadata.namespace}/${y.metadata.name}`));
}

/** `--observed FILE`: `{"NAMESPACE/NAME": {vpcEndpointId, restApiId, ...}}` for a second static pass. */
async function readObserved(path: string): Promise<Record<string, ObservedIds>> {
  const text = await readFile(path, 'utf8').catch((err: Error) => {
    throw new Error(`cannot read --observed ${path}: ${err.message}`);
  });
  const value: unknown = parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`--observed ${path}: expected a map of "namespace/name" to observed IDs`);
  return value as Record<string, ObservedIds>;
}

export async function synth(flags: SynthFlags): Promise<{ outdir: string; files: number }> {
  const crs = await readCrossAccountApis(flags.input);
  const observed = flags.observed ? await readObserved(flags.observed) : undefined;
  const replicas = Number(flags.replicas);
  if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`--replicas must be a positive integer, got ${flags.replicas}`);
  const underCdk8s = !flags.out && process.env.CDK8S_OUTDIR;
  const outdir = resolve(flags.out ?? process.env.CDK8S_OUTDIR ?? 'manifests');
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
    const files = app.charts.reduce((n, c) => n + c.toJson().length, 0) + (await writeAckValues(target));
    if (!underCdk8s) {
      const old = existsSync(outdir) ? `${target}.old` : undefined;
      if (old) await rename(outdir, old);
      await rename(target, outdir);
      if (old) await rm(old, { recursive: true, force: true });
    }
    return { outdir, files };
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
    .option('--out <dir>', 'output folder, replaced whole (default: $CDK8S_OUTDIR, else manifests)')
    .option('--observed <file>', 'IDs AWS assigned, {"ns/name": {vpcEndpointId, restApiId, rootResourceId, callerSecurityGroupId, endpointSecurityGroupId, allowedEndpointIds}}, for a complete static render')
    .option('--image <ref>', 'operator container image', DEFAULT_IMAGE)
    .option('--operator-namespace <ns>', 'namespace of the operator install', 'xapi-system')
    .option('--replicas <n>', 'operator replicas (leader election picks one)', '2')
    .option('--repo-url <url>', 'Git repository Argo CD syncs from', DEFAULT_REPO_URL)
    .option('--revision <rev>', 'Git revision Argo CD syncs', 'HEAD')
    .option('--manifests-path <path>', 'path of the output folder inside that repository', 'manifests')
    .option('--argocd-namespace <ns>', 'namespace Argo CD runs in', 'argocd')
    .option('--argocd-project <name>', 'Argo CD project of the Applications', 'default')
    .action(async (flags: SynthFlags) => {
      const { outdir, files } = await synth(flags);
      process.stdout.write(`xapi synth: wrote ${files} objects to ${outdir}\n`);
    });
}
