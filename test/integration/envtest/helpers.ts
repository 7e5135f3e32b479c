// Shared bits of the envtest integration tests: the two API servers' kubeconfigs (from the global
// setup), the real kubectl, and the shipped example CR.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { CrossAccountApi } from '../../../src/api/types.js';

export const EXAMPLE_PATH = new URL('../../../examples/orders.yaml', import.meta.url).pathname;

export function kubeconfigPath(which: 'A' | 'B'): string {
  const p = process.env[`XAPI_TEST_KUBECONFIG_${which}`];
  if (!p) throw new Error(`XAPI_TEST_KUBECONFIG_${which} is not set: the integration global setup (test/integration/global-setup.ts) must start the API servers`);
  return p;
}

export function clients(which: 'A' | 'B') {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath(which));
  return { kc, core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real kubectl (XAPI_TEST_KUBECTL) against cluster A or B; never throws on exit code. */
export function kubectl(which: 'A' | 'B', args: string[], stdin?: string): Promise<KubectlResult> {
  const bin = process.env.XAPI_TEST_KUBECTL;
  if (!bin) throw new Error('XAPI_TEST_KUBECTL is not set by the integration global setup');
  return new Promise((resolve) => {
    const child = execFile(bin, ['--kubeconfig', kubeconfigPath(which), ...args], { timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

export function exampleCr(): CrossAccountApi {
  return parse(readFileSync(EXAMPLE_PATH, 'utf8')) as CrossAccountApi;
}

export async function ensureNamespace(core: CoreV1Api, name: string): Promise<void> {
  try {
    await core.createNamespace({ body: { metadata: { name } } });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
}

/** A fresh suffix per run: no namespace controller runs, so deleted namespaces never go away. */
export const runSuffix = () => Date.now().toString(36).slice(-5) + Math.floor(Math.random() * 1296).toString(36);
