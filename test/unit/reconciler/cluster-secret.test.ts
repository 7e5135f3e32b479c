import { parse } from 'yaml';
import { parseClusterSecret, ClusterSecretError } from '../../../src/reconciler/cluster-secret.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('parseClusterSecret', () => {
  it('returns the kubeconfig under the default or the named key', () => {
    expect(parseClusterSecret({ data: { kubeconfig: b64('apiVersion: v1\n') } })).toEqual({ kind: 'kubeconfig', kubeconfig: 'apiVersion: v1\n' });
    expect(parseClusterSecret({ data: { other: b64('x: 1') } }, 'other').kubeconfig).toBe('x: 1');
  });

  it('builds a kubeconfig from an Argo CD cluster Secret', () => {
    const config = { bearerToken: 'tok', tlsClientConfig: { caData: 'Q0E=', certData: 'Q0VSVA==', keyData: 'S0VZ', insecure: false } };
    const r = parseClusterSecret({
      metadata: { name: 'b', labels: { 'argocd.argoproj.io/secret-type': 'cluster' } },
      data: { server: b64('https://b.example:6443'), name: b64('cluster-b'), config: b64(JSON.stringify(config)) },
    });
    expect(r.kind).toBe('argocd');
    if (r.kind !== 'argocd') return;
    expect(r.server).toBe('https://b.example:6443');
    expect(r.name).toBe('cluster-b');
    const kc = parse(r.kubeconfig);
    expect(kc.clusters[0].cluster).toEqual({ server: 'https://b.example:6443', 'certificate-authority-data': 'Q0E=' });
    expect(kc.users[0].user).toEqual({ token: 'tok', 'client-certificate-data': 'Q0VSVA==', 'client-key-data': 'S0VZ' });
    expect(kc['current-context']).toBe('remote');
  });

  it('honours insecure', () => {
    const r = parseClusterSecret({ stringData: { server: 'https://x', config: JSON.stringify({ tlsClientConfig: { insecure: true } }) } });
    expect(parse(r.kubeconfig).clusters[0].cluster['insecure-skip-tls-verify']).toBe(true);
  });

  it('rejects a Secret that is neither, and bad Argo config, with the reason', () => {
    expect(() => parseClusterSecret({ metadata: { name: 's', namespace: 'n' }, data: {} })).toThrow(/Secret n\/s has no key "kubeconfig"/);
    expect(() => parseClusterSecret({ stringData: { server: 'https://x', config: '{nope' } })).toThrow(ClusterSecretError);
    expect(() => parseClusterSecret({ metadata: { labels: { 'argocd.argoproj.io/secret-type': 'cluster' } }, data: {} })).toThrow(/without "server"/);
  });
});
