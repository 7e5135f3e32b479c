// Where status and operator find their cluster. Without any kubeconfig, client-node falls back
// to http://localhost:8080, which fails with an HTTP error (status) or retries forever
// (operator): say what is missing instead, before anything runs.
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Throws when `path` (a flag's value) is unusable, or when nothing would be found without it. */
export function checkKubeconfig(path: string | undefined, flag = '--kubeconfig'): void {
  if (path) {
    if (!existsSync(path)) throw new Error(`${flag} ${path}: no such file`);
    if (!statSync(path).isFile()) throw new Error(`${flag} ${path}: is a folder, not a kubeconfig file`);
    return;
  }
  const env = process.env.KUBECONFIG;
  if (env) {
    const files = env.split(delimiter).filter(Boolean);
    if (files.some((f) => existsSync(f))) return;
    throw new Error(`KUBECONFIG=${env}: no such file; set --kubeconfig or KUBECONFIG to a kubeconfig file`);
  }
  if (existsSync(join(homedir(), '.kube', 'config'))) return;
  if (process.env.KUBERNETES_SERVICE_HOST) return; // in-cluster: the ServiceAccount's token
  throw new Error('no kubeconfig: set --kubeconfig or KUBECONFIG');
}
