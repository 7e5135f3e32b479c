// `xapi dev up` knows every local cluster's kubeconfig, so it creates the cluster Secrets that
// examples/orders.yaml names (cluster-a, cluster-b in xapi-system of cluster A), which the operator
// reads to reach each side. With one control plane both Secrets point at it.
import { readFileSync } from 'node:fs';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

export const DEV_SECRET_NAMESPACE = 'xapi-system';
export const DEV_SECRETS = ['cluster-a', 'cluster-b'] as const;

/** Creates (or replaces) the Secrets in cluster A; returns each Secret (namespace/name) and its kubeconfig file. */
export async function createDevClusterSecrets(kubeconfigs: readonly string[]): Promise<{ secret: string; file: string }[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigs[0]!);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: DEV_SECRET_NAMESPACE } } }).catch((err: { code?: number }) => {
    if (err.code !== 409) throw err;
  });
  const lines: { secret: string; file: string }[] = [];
  for (const [i, name] of DEV_SECRETS.entries()) {
    const file = kubeconfigs[Math.min(i, kubeconfigs.length - 1)]!;
    const body = { metadata: { name, namespace: DEV_SECRET_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'xapi-dev' } }, stringData: { kubeconfig: readFileSync(file, 'utf8') } };
    await core.createNamespacedSecret({ namespace: DEV_SECRET_NAMESPACE, body }).catch(async (err: { code?: number }) => {
      if (err.code !== 409) throw err;
      await core.replaceNamespacedSecret({ name, namespace: DEV_SECRET_NAMESPACE, body });
    });
    lines.push({ secret: `${DEV_SECRET_NAMESPACE}/${name}`, file });
  }
  return lines;
}
