// Two control planes side by side (account A's and account B's clusters), isolated from each
// other: distinct servers and etcds, an object created in one is absent in the other.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, VersionApi } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { crossAccountApiCrd } from '../../../src/api/crd.js';
import { kubectl } from '../helpers.js';

const RUN = Date.now().toString(36).slice(-5);
const NS = `envtest-clusters-${RUN}`;

function kubeconfig(which: 'A' | 'B'): { path: string; kc: KubeConfig } {
  const path = process.env[`XAPI_TEST_KUBECONFIG_${which}`];
  if (!path) throw new Error(`XAPI_TEST_KUBECONFIG_${which} is not set by the integration global setup`);
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return { path, kc };
}

describe('two envtest clusters', () => {
  const a = kubeconfig('A');
  const b = kubeconfig('B');
  const coreA = a.kc.makeApiClient(CoreV1Api);
  const coreB = b.kc.makeApiClient(CoreV1Api);

  afterAll(async () => {
    await coreA.deleteNamespace({ name: NS }).catch(() => undefined);
  });

  it('serve over TLS with a CA in the kubeconfig (no insecure skip) on different servers', async () => {
    const servers = [a, b].map(({ path }) => {
      const cfg = parse(readFileSync(path, 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
      const cluster = cfg.clusters[0]!.cluster;
      expect(cluster['insecure-skip-tls-verify']).toBeUndefined();
      expect(String(cluster['certificate-authority-data'] ?? '')).not.toBe('');
      return String(cluster.server);
    });
    expect(servers[0]).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(servers[1]).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(servers[0]).not.toBe(servers[1]);
    const version = await a.kc.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe('v1.36.3');
  });

  it('keep an object created in A out of B', async () => {
    await coreA.createNamespace({ body: { metadata: { name: NS } } });
    await coreA.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'only-in-a' }, data: { side: 'A' } } });
    const inA = await coreA.readNamespacedConfigMap({ namespace: NS, name: 'only-in-a' });
    expect(inA.data).toEqual({ side: 'A' });
    await expect(coreB.readNamespace({ name: NS })).rejects.toMatchObject({ code: 404 });
    await expect(coreB.readNamespacedConfigMap({ namespace: NS, name: 'only-in-a' })).rejects.toMatchObject({ code: 404 });
  });

  it('have the ACK, Argo CD and xapi CRDs in both', async () => {
    for (const { kc } of [a, b]) {
      const ext = await import('@kubernetes/client-node').then((m) => kc.makeApiClient(m.ApiextensionsV1Api));
      const names = (await ext.listCustomResourceDefinition()).items.map((c) => c.metadata?.name);
      for (const n of ['crossaccountapis.xapi.dev', 'vpcendpoints.ec2.services.k8s.aws', 'restapis.apigateway.services.k8s.aws', 'roles.iam.services.k8s.aws', 'functions.lambda.services.k8s.aws', 'applications.argoproj.io']) {
        expect(names).toContain(n);
      }
    }
  });

  it('store the CRD schemas unchanged (x-kubernetes-* extensions included)', async () => {
    const ours = JSON.parse((await kubectl('B', ['get', 'crd', 'crossaccountapis.xapi.dev', '-o', 'json'])).stdout) as { spec: unknown };
    // the API server omits empty `required` lists; everything else comes back as sent
    const sent = JSON.parse(JSON.stringify(crossAccountApiCrd(), (k, v: unknown) => (k === 'required' && Array.isArray(v) && v.length === 0 ? undefined : v))) as { spec: { versions: object[] } };
    expect((ours.spec as { versions: unknown[] }).versions[0]).toMatchObject(sent.spec.versions[0]!);
    const crdDir = process.env.XAPI_CRDS_DIR;
    if (!crdDir) throw new Error('XAPI_CRDS_DIR is not set');
    const file = parse(readFileSync(join(crdDir, 'ec2.services.k8s.aws_vpcendpoints.yaml'), 'utf8')) as { spec: { versions: { schema: unknown }[] } };
    const stored = JSON.parse((await kubectl('B', ['get', 'crd', 'vpcendpoints.ec2.services.k8s.aws', '-o', 'json'])).stdout) as typeof file;
    expect(stored.spec.versions[0]!.schema).toEqual(file.spec.versions[0]!.schema);
    expect(JSON.stringify(stored.spec.versions[0]!.schema)).toContain('x-kubernetes-');
  });
});
