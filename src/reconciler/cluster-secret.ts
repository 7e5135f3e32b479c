// Turn a cluster Secret into a kubeconfig: either a Secret holding a kubeconfig under a key
// (default `kubeconfig`), or an Argo CD cluster Secret (data `server`, `name`, `config` JSON).

export const ARGOCD_SECRET_TYPE_LABEL = 'argocd.argoproj.io/secret-type';

export interface SecretLike {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  /** Base64 values, as the API returns them. */
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export type ClusterConfig = { kind: 'kubeconfig'; kubeconfig: string } | { kind: 'argocd'; kubeconfig: string; server: string; name: string };

export class ClusterSecretError extends Error {}

function value(secret: SecretLike, key: string): string | undefined {
  const plain = secret.stringData?.[key];
  if (plain !== undefined) return plain;
  const encoded = secret.data?.[key];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
}

interface ArgoConfig {
  bearerToken?: string;
  username?: string;
  password?: string;
  tlsClientConfig?: { caData?: string; certData?: string; keyData?: string; insecure?: boolean; serverName?: string };
}

/** Parse the Secret; `key` is the kubeconfig key the CR names. Throws ClusterSecretError with a reason. */
export function parseClusterSecret(secret: SecretLike, key = 'kubeconfig'): ClusterConfig {
  const where = `Secret ${secret.metadata?.namespace ?? ''}/${secret.metadata?.name ?? ''}`;
  const kubeconfig = value(secret, key);
  if (kubeconfig !== undefined && kubeconfig.trim() !== '') return { kind: 'kubeconfig', kubeconfig };

  const server = value(secret, 'server');
  const isArgo = secret.metadata?.labels?.[ARGOCD_SECRET_TYPE_LABEL] === 'cluster' || server !== undefined;
  if (!isArgo) throw new ClusterSecretError(`${where} has no key "${key}" and is not an Argo CD cluster Secret (keys server, config)`);
  if (!server) throw new ClusterSecretError(`${where} is an Argo CD cluster Secret without "server"`);
  const name = value(secret, 'name') ?? server;
  const rawConfig = value(secret, 'config') ?? '{}';
  let config: ArgoConfig;
  try {
    config = JSON.parse(rawConfig) as ArgoConfig;
  } catch (err) {
    throw new ClusterSecretError(`${where}: "config" is not JSON (${(err as Error).message})`);
  }
  if (config === null || typeof config !== 'object') throw new ClusterSecretError(`${where}: "config" must be a JSON object`);
  const tls = config.tlsClientConfig ?? {};
  const cluster: Record<string, unknown> = { server };
  if (tls.caData) cluster['certificate-authority-data'] = tls.caData;
  if (tls.insecure) cluster['insecure-skip-tls-verify'] = true;
  if (tls.serverName) cluster['tls-server-name'] = tls.serverName;
  const user: Record<string, unknown> = {};
  if (config.bearerToken) user.token = config.bearerToken;
  if (config.username) user.username = config.username;
  if (config.password) user.password = config.password;
  if (tls.certData) user['client-certificate-data'] = tls.certData;
  if (tls.keyData) user['client-key-data'] = tls.keyData;
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'remote', cluster }],
    users: [{ name: 'remote', user }],
    contexts: [{ name: 'remote', context: { cluster: 'remote', user: 'remote' } }],
    'current-context': 'remote',
  };
  // JSON is valid YAML, and KubeConfig.loadFromString accepts it.
  return { kind: 'argocd', kubeconfig: JSON.stringify(doc), server, name };
}
