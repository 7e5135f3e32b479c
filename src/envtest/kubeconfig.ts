// The admin kubeconfig of a control plane: the API server's self-signed serving certificate as the
// CA (it is issued for 127.0.0.1 and localhost) and a bearer token from --token-auth-file whose
// user is in system:masters.
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

export function kubeconfigYaml(name: string, server: string, caPem: string, token: string): string {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: `${name}-admin`, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: `${name}-admin`, namespace: 'default' } }],
    'current-context': name,
  };
  return stringify(config);
}

export function writeKubeconfig(path: string, name: string, server: string, caPem: string, token: string): void {
  writeFileSync(path, kubeconfigYaml(name, server, caPem, token), { mode: 0o600 });
}
