// Finding the binaries and CRDs for `xapi dev` when the environment does not name them: the
// project's scripts build/fetch them once into a cache (progress on stderr) and print the folder.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { envtestAssets, type EnvtestAssets } from './assets.js';

function scriptFolder(root: string, script: string, env: NodeJS.ProcessEnv): string {
  const path = join(root, 'scripts', script);
  if (!existsSync(path)) throw new Error(`${path} not found: set the folder in the environment instead`);
  let out: string;
  try {
    out = execFileSync('bash', [path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env });
  } catch (err) {
    throw new Error(`${path} failed (exit ${(err as { status?: number }).status ?? '?'}); see its messages above`);
  }
  const last = out.trim().split('\n').pop() ?? '';
  if (!last || !existsSync(last)) throw new Error(`${path} did not print a folder (got "${last}")`);
  return last;
}

/** envtestAssets(), or — when nothing is configured — the cache that scripts/envtest-assets.sh fills. */
export function provisionAssets(root: string, env: NodeJS.ProcessEnv = process.env): EnvtestAssets {
  if (env.KUBEBUILDER_ASSETS || env.TEST_ASSET_KUBE_APISERVER || env.TEST_ASSET_ETCD || env.TEST_ASSET_KUBECTL) return envtestAssets(env);
  return envtestAssets({ ...env, KUBEBUILDER_ASSETS: scriptFolder(root, 'envtest-assets.sh', env) });
}

/** The ACK + Argo CD CRD folder: XAPI_CRDS_DIR, else scripts/ack-crds.sh. */
export function provisionCrdDir(root: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.XAPI_CRDS_DIR) {
    if (!existsSync(env.XAPI_CRDS_DIR)) throw new Error(`XAPI_CRDS_DIR=${env.XAPI_CRDS_DIR} does not exist`);
    return env.XAPI_CRDS_DIR;
  }
  return scriptFolder(root, 'ack-crds.sh', env);
}
