// Where the envtest binaries live: KUBEBUILDER_ASSETS (a folder with all three), with the
// per-binary TEST_ASSET_* overrides winning, as controller-runtime's envtest does.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

export interface EnvtestAssets {
  kubeApiserver: string;
  etcd: string;
  kubectl: string;
}

const BINARIES = [
  { key: 'kubeApiserver', file: 'kube-apiserver', override: 'TEST_ASSET_KUBE_APISERVER' },
  { key: 'etcd', file: 'etcd', override: 'TEST_ASSET_ETCD' },
  { key: 'kubectl', file: 'kubectl', override: 'TEST_ASSET_KUBECTL' },
] as const;

export function envtestAssets(env: NodeJS.ProcessEnv = process.env): EnvtestAssets {
  const folder = env.KUBEBUILDER_ASSETS;
  const found: Partial<EnvtestAssets> = {};
  const problems: string[] = [];
  for (const b of BINARIES) {
    const path = env[b.override] || (folder ? join(folder, b.file) : undefined);
    if (!path) {
      problems.push(`${b.file}: neither ${b.override} nor KUBEBUILDER_ASSETS is set`);
      continue;
    }
    try {
      accessSync(path, constants.X_OK);
      found[b.key] = path;
    } catch {
      problems.push(`${b.file}: ${path} is missing or not executable`);
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `envtest binaries not found (${problems.join('; ')}). ` +
        'Run `bash scripts/envtest-assets.sh` (it builds them once) and export KUBEBUILDER_ASSETS="$(bash scripts/envtest-assets.sh | tail -n 1)".',
    );
  }
  return found as EnvtestAssets;
}
