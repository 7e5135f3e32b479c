// `xapi synth` end to end on files: the committed manifests/ must equal a fresh render of
// examples/, the operator install must be hardened and least-privilege, Argo CD must leave the
// operator's fields alone, and bad input must write nothing.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { synth, type SynthFlags } from '../../../src/cli/commands/synth.js';

const root = new URL('../../../', import.meta.url).pathname;
const defaults: Omit<SynthFlags, 'out' | 'input'> = {
  image: 'ghcr.io/xapi-dev/xapi:0.1.0',
  operatorNamespace: 'xapi-system',
  replicas: '2',
  repoUrl: 'https://github.com/xapi-dev/xapi.git',
  revision: 'HEAD',
  manifestsPath: 'manifests',
  argocdNamespace: 'argocd',
  argocdProject: 'default',
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

let out: string;
let work: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'xapi-synth-'));
  out = join(work, 'manifests');
  await synth({ ...defaults, input: join(root, 'examples'), out });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const load = (rel: string) => parse(readFileSync(join(out, rel), 'utf8')) as Record<string, any>;

describe('manifests/', () => {
  it('is up to date with examples/ (run `npm run synth` and commit when this fails)', () => {
    const committed = join(root, 'manifests');
    expect(files(committed)).toEqual(files(out));
    for (const f of files(out)) expect(`${f}:\n${readFileSync(join(committed, f), 'utf8')}`).toBe(`${f}:\n${readFileSync(join(out, f), 'utf8')}`);
  });

  it('has one folder per cluster plus crds, operator, apis, argocd, the ACK controller settings and the marker of synth output', () => {
    expect(readdirSync(out).sort()).toEqual(['.xapi-synth', 'ack-controllers', 'apis', 'argocd', 'cluster-a', 'cluster-b', 'crds', 'operator']);
    expect(files(join(out, 'cluster-a')).map((f) => f.split('.')[0]).sort()).toEqual(['LogGroup', 'Namespace', 'Role', 'Role', 'SecurityGroup', 'SecurityGroup', 'VPCEndpoint']);
    expect(files(join(out, 'cluster-b')).map((f) => f.split('.')[0]).sort()).toEqual(['EventDataStore', 'LogGroup', 'Namespace', 'RestAPI']);
  });

  it('annotates each account namespace for ACK CARM (owner account) and region', () => {
    expect(load('cluster-a/Namespace.account-a.k8s.yaml').metadata.annotations).toMatchObject({
      'services.k8s.aws/owner-account-id': '111111111111',
      'services.k8s.aws/default-region': 'us-east-1',
    });
    expect(load('cluster-b/Namespace.account-b.k8s.yaml').metadata.annotations['services.k8s.aws/owner-account-id']).toBe('222222222222');
  });
});

describe('operator install', () => {
  it('runs non-root with a read-only root FS, no capabilities, probes and resources', () => {
    const d = load('operator/Deployment.xapi-operator.k8s.yaml');
    const pod = d.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(pod.serviceAccountName).toBe('xapi-operator');
    const [c] = pod.containers;
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ['ALL'] } });
    expect(c.livenessProbe.httpGet).toMatchObject({ path: '/healthz', port: 8081 });
    expect(c.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 8081 });
    expect(c.resources.requests).toBeDefined();
    expect(c.resources.limits).toBeDefined();
    expect(c.args).toContain('--leader-elect');
    expect(d.spec.replicas).toBe(2);
    const svc = load('operator/Service.xapi-operator-metrics.k8s.yaml');
    expect(svc.spec.ports).toEqual([expect.objectContaining({ name: 'metrics', port: 8080 })]);
  });

  it('sets memory options that node accepts and applies (a bad NODE_OPTIONS would stop every pod from starting)', () => {
    const [c] = load('operator/Deployment.xapi-operator.k8s.yaml').spec.template.spec.containers;
    const env = Object.fromEntries((c.env as Array<{ name: string; value?: string }>).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    expect(env.MALLOC_ARENA_MAX).toBe('2');
    // V8's heap limit is the old generation's cap plus room for the young generation.
    const limit = (nodeOptions: string) => Number(execFileSync(process.execPath, ['-e', "console.log(require('v8').getHeapStatistics().heap_size_limit)"], { env: { ...process.env, NODE_OPTIONS: nodeOptions }, encoding: 'utf8' }));
    const MiB = 2 ** 20;
    const set = limit(env.NODE_OPTIONS!);
    expect(set).toBeGreaterThanOrEqual(192 * MiB);
    expect(set - 192 * MiB).toBeLessThanOrEqual(16 * MiB);
    // Without the semi-space option the young generation's room is larger; without any, the heap is the machine's.
    expect(limit('--max-old-space-size=192')).toBeGreaterThan(set);
    expect(limit('')).toBeGreaterThan(set);
  });

  it('RBAC names every verb, group and resource (no "*"), and reads only the named cluster Secrets', () => {
    const rbac = files(join(out, 'operator')).filter((f) => /^(Cluster)?Role\./.test(f)).map((f) => load(join('operator', f)));
    expect(rbac.length).toBeGreaterThanOrEqual(3);
    for (const r of rbac) {
      for (const rule of r.rules) {
        for (const v of [...rule.verbs, ...rule.resources, ...rule.apiGroups]) expect(v).not.toContain('*');
      }
    }
    const secrets = rbac.flatMap((r) => r.rules).filter((rule: any) => rule.resources.includes('secrets'));
    expect(secrets.length).toBeGreaterThan(0);
    for (const rule of secrets) {
      expect(rule.verbs).toEqual(['get', 'list', 'watch']);
      expect(rule.resourceNames.length).toBeGreaterThan(0);
    }
    expect(rbac.filter((r) => r.kind === 'ClusterRole').flatMap((r) => r.rules).some((rule: any) => rule.resources.includes('secrets'))).toBe(false);
  });
});

describe('Argo CD', () => {
  const apps = () => files(join(out, 'argocd')).map((f) => load(join('argocd', f)));
  const wave = (a: any) => Number(a.metadata.annotations['argocd.argoproj.io/sync-wave']);

  it('syncs CRDs first, then the operator, the CRs, then the ACK objects', () => {
    const byName = new Map<string, any>(apps().map((a) => [a.metadata.name, a]));
    expect(wave(byName.get('xapi-crds'))).toBeLessThan(wave(byName.get('xapi-operator')));
    expect(wave(byName.get('xapi-operator'))).toBeLessThan(wave(byName.get('xapi-apis')));
    expect(wave(byName.get('xapi-apis'))).toBeLessThan(wave(byName.get('xapi-cluster-a')));
    expect(byName.get('xapi-cluster-a').spec.destination).toEqual({ name: 'cluster-a' });
    expect(byName.get('xapi-cluster-b').spec.source.path).toBe('manifests/cluster-b');
  });

  it('never reverts the operator: RestAPI /spec/policy and the fields xapi owns are ignored and respected', () => {
    for (const name of ['xapi-cluster-a', 'xapi-cluster-b']) {
      const app = apps().find((a) => a.metadata.name === name)!;
      expect(app.spec.syncPolicy.syncOptions).toEqual(expect.arrayContaining(['RespectIgnoreDifferences=true', 'ServerSideApply=true']));
      expect(app.spec.ignoreDifferences).toContainEqual({ group: 'apigateway.services.k8s.aws', kind: 'RestAPI', jsonPointers: ['/spec/policy'] });
      expect(app.spec.ignoreDifferences).toContainEqual({ group: 'ec2.services.k8s.aws', kind: 'SecurityGroup', managedFieldsManagers: ['xapi'] });
      // deletion of ACK objects is the operator's (dependants first), never Argo CD's prune
      expect(app.spec.syncPolicy.automated).toEqual({ prune: false, selfHeal: true });
    }
    expect(apps().find((a) => a.metadata.name === 'xapi-apis')!.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
  });

  it('ships an app of apps that syncs exactly the child Applications (not itself, not argocd-cm)', () => {
    const all = files(join(out, 'argocd'));
    const root = load(join('argocd', 'Application.xapi.k8s.yaml'));
    expect(root.spec.source.path).toBe('manifests/argocd');
    const glob = new RegExp(`^${root.spec.source.directory.include.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`);
    const children = all.filter((f) => glob.test(f)).map((f) => load(join('argocd', f)).metadata.name).sort();
    expect(children).toEqual(['xapi-apis', 'xapi-cluster-a', 'xapi-cluster-b', 'xapi-crds', 'xapi-operator']);
    expect(root.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
  });

  it('writes the CRD as the API server stores it (no empty required lists, which Argo CD would diff forever)', () => {
    const text = readFileSync(join(out, 'crds', 'CustomResourceDefinition.crossaccountapis.xapi.dev.k8s.yaml'), 'utf8');
    expect(text).toContain('required:');
    expect(text).not.toMatch(/required: \[\]/);
  });

  it('adds health checks to argocd-cm for the CR, every ACK kind and child Applications', () => {
    const cm = load(join('argocd', 'ConfigMap.argocd-cm.k8s.yaml'));
    expect(cm.metadata).toMatchObject({ name: 'argocd-cm', namespace: 'argocd', labels: { 'app.kubernetes.io/part-of': 'argocd' } });
    const keys = Object.keys(cm.data).sort();
    expect(keys).toContain('resource.customizations.health.xapi.dev_CrossAccountApi');
    expect(keys).toContain('resource.customizations.health.argoproj.io_Application');
    for (const k of ['ec2.services.k8s.aws_SecurityGroup', 'ec2.services.k8s.aws_VPCEndpoint', 'iam.services.k8s.aws_Role', 'lambda.services.k8s.aws_Function', 'apigateway.services.k8s.aws_RestAPI', 'apigateway.services.k8s.aws_Stage', 'apigateway.services.k8s.aws_Method']) {
      expect(keys).toContain(`resource.customizations.health.${k}`);
    }
    expect(cm.data['resource.customizations.health.xapi.dev_CrossAccountApi']).toContain('"Ready"');
    expect(cm.data['resource.customizations.health.apigateway.services.k8s.aws_Method']).toContain('ownerAccountID');
    expect(cm.data['resource.customizations.health.apigateway.services.k8s.aws_RestAPI']).not.toContain('ownerAccountID');
  });
});

describe('bad input', () => {
  it('names every problem and leaves the output folder as it was', async () => {
    const input = join(work, 'bad');
    mkdirSync(input);
    const cr = parse(readFileSync(join(root, 'examples/orders.yaml'), 'utf8'));
    cr.spec.consumer.subnetIds = ['subnet-0aa11bb22cc33dd44'];
    cr.spec.provider.accountId = '12345';
    writeFileSync(join(input, 'bad.yaml'), JSON.stringify(cr));
    const before = files(out);
    await expect(synth({ ...defaults, input, out })).rejects.toThrow(/nothing written[\s\S]*subnetIds[\s\S]*accountId|nothing written[\s\S]*accountId[\s\S]*subnetIds/);
    expect(files(out)).toEqual(before);
    expect(readdirSync(work).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('names a missing --input', async () => {
    await expect(synth({ ...defaults, input: join(work, 'nope'), out: join(work, 'never') })).rejects.toThrow(/^--input \S+nope: no such file or directory; nothing written$/);
    expect(existsSync(join(work, 'never'))).toBe(false);
  });

  it('refuses an input without CrossAccountApi objects', async () => {
    const input = join(work, 'empty');
    mkdirSync(input);
    writeFileSync(join(input, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    await expect(synth({ ...defaults, input, out: join(work, 'never') })).rejects.toThrow(/no CrossAccountApi objects/);
    expect(existsSync(join(work, 'never'))).toBe(false);
  });

  it('the longest names the rules allow fit Kubernetes (253, labels 63) and the filesystem (255-byte file names)', async () => {
    const input = join(work, 'long');
    mkdirSync(input);
    const cr = parse(readFileSync(join(root, 'examples/orders.yaml'), 'utf8'));
    const name = `o${'x'.repeat(61)}o`; // 63: the longest metadata.name
    cr.metadata.name = name;
    const seg = (c: string) => c.repeat(15); // 8 segments of 15 = 128 characters: the longest path
    cr.spec.provider.routes = [
      { method: 'OPTIONS', path: `/${[...'abcdefgh'].map(seg).join('/')}` },
      { method: 'DELETE', path: `/${[...'abcdefg'].map(seg).join('/')}/{${'p'.repeat(13)}}` },
    ];
    writeFileSync(join(input, 'long.yaml'), JSON.stringify(cr));
    const obs = join(work, 'long-observed.yaml');
    writeFileSync(obs, JSON.stringify({ [`xapi-system/${name}`]: { callerSecurityGroupId: 'sg-0123456789abcdef0', endpointSecurityGroupId: 'sg-0fedcba9876543210', restApiId: 'a1b2c3d4e5', rootResourceId: 'r00t1d', allowedEndpointIds: ['vpce-0123456789abcdef0'] } }));
    const longOut = join(work, 'long-out');
    await synth({ ...defaults, input, out: longOut, observed: obs });
    const written = files(longOut);
    expect(written.some((f) => f.startsWith('cluster-b/Integration.'))).toBe(true);
    for (const f of written) {
      expect(Buffer.byteLength(f.split('/').pop()!)).toBeLessThanOrEqual(255);
      if (!f.endsWith('.yaml')) continue;
      const o = parse(readFileSync(join(longOut, f), 'utf8'));
      if (f.startsWith('ack-controllers/')) continue; // Helm values for the controllers, not objects
      expect(o.metadata.name.length).toBeLessThanOrEqual(253);
      for (const v of Object.values(o.metadata.labels ?? {})) expect(String(v).length).toBeLessThanOrEqual(63);
    }
  });

  it('renders the IDs of --observed into a complete second pass', async () => {
    const obs = join(work, 'observed.yaml');
    writeFileSync(obs, JSON.stringify({ 'xapi-system/orders': { callerSecurityGroupId: 'sg-0123456789abcdef0', endpointSecurityGroupId: 'sg-0fedcba9876543210', restApiId: 'a1b2c3d4e5', rootResourceId: 'r00t1d', allowedEndpointIds: ['vpce-0123456789abcdef0'] } }));
    const second = join(work, 'second');
    await synth({ ...defaults, input: join(root, 'examples'), out: second, observed: obs });
    const kinds = files(join(second, 'cluster-b')).map((f) => f.split('.')[0]);
    expect(kinds).toEqual(expect.arrayContaining(['Resource', 'Method', 'Integration', 'Deployment', 'Stage']));
  });
});
