// Every manifest the project ships under manifests/ against the real API server with the ACK,
// Argo CD and xapi CRDs installed: `kubectl apply --server-side --dry-run=server --validate=strict`
// must accept each file, so a misspelled ACK field or a wrong apiVersion fails the build.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ACK } from '../../../src/api/ack.js';
import { renderObjects } from '../../../src/charts/render.js';
import { clients, ensureNamespace, exampleCr, kubectl } from '../helpers.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
// XAPI_TEST_MANIFESTS_DIR points the check at another folder (to check the check itself).
const MANIFESTS = process.env.XAPI_TEST_MANIFESTS_DIR ?? join(ROOT, 'manifests');

interface ManifestFile {
  path: string;
  objects: { kind: string; metadata: { name: string; namespace?: string } }[];
}

function walk(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return walk(full);
    // kustomization.yaml is kustomize's input and *.values.yaml Helm's, not objects for the API server
    return /\.ya?ml$/.test(name) && !/^kustomization\.ya?ml$/.test(name) && !/\.values\.ya?ml$/.test(name) ? [full] : [];
  });
}

function load(path: string): ManifestFile {
  const objects = parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${path}: ${d.errors[0]!.message}`);
      return d.toJS() as ManifestFile['objects'][number] | null;
    })
    .filter((o): o is ManifestFile['objects'][number] => o !== null && o !== undefined);
  return { path, objects };
}

// Files holding Namespaces first, then the rest in path order.
const files = walk(MANIFESTS)
  .map(load)
  .sort((a, b) => Number(b.objects.some((o) => o.kind === 'Namespace')) - Number(a.objects.some((o) => o.kind === 'Namespace')) || a.path.localeCompare(b.path));

// The manifests name their own namespaces (account-a, account-b, ...); a server dry run of a
// Namespace stores nothing, so they are created for real first (create-if-absent, never deleted:
// the clusters are shared and namespaces never finish deleting without a controller).
const namespaces = [
  ...new Set(files.flatMap((f) => f.objects.flatMap((o) => (o.kind === 'Namespace' ? [o.metadata.name] : o.metadata.namespace ? [o.metadata.namespace] : [])))),
];

describe('manifests/', () => {
  it('holds manifests to check', () => {
    if (files.length === 0) throw new Error(`no .yaml files under ${MANIFESTS}: the rendered manifests must be committed there (run the synth)`);
    expect(files.every((f) => f.objects.length > 0)).toBe(true);
  });

  if (files.length === 0) return;

  beforeAll(async () => {
    const b = clients('B');
    for (const ns of namespaces) await ensureNamespace(b.core, ns);
  });

  it.each(files.map((f) => [relative(ROOT, f.path), f] as const))('%s passes a strict server-side dry run', async (_rel, f) => {
    // --force-conflicts: the harness already created some of these objects (our CRD) with another
    // field manager; ownership conflicts say nothing about the manifest, validation still applies.
    const r = await kubectl('B', ['apply', '--server-side', '--force-conflicts', '--dry-run=server', '--validate=strict', '-f', f.path]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(f.objects.length);
    for (const line of lines) expect(line).toMatch(/ serverside-applied \(server dry run\)$/);
  });
});

// The static example leaves out what waits for AWS IDs (Resources, Methods, Integrations,
// Deployment, Stage) and has no Function; render those with every ID known and check them too.
describe('rendered objects with every ID known', () => {
  const cr = exampleCr();
  cr.spec.consumer.function = { name: 'orders-caller', code: { s3Bucket: 'artifacts', s3Key: 'caller.zip' } };
  const ids = {
    callerSecurityGroupId: 'sg-01',
    endpointSecurityGroupId: 'sg-02',
    restApiId: 'a1b2c3d4e5',
    rootResourceId: 'r00t',
    allowedEndpointIds: ['vpce-01'],
    endpointNetworkInterfaceIds: ['eni-0aaaaaaaaaaaaaaaa', 'eni-0bbbbbbbbbbbbbbbb'],
  };
  const { consumer, provider } = renderObjects(cr, ids);
  const apply = (objs: object[]) =>
    kubectl('B', ['apply', '--server-side', '--dry-run=server', '--validate=strict', '-f', '-'], objs.map((o) => JSON.stringify(o)).join('\n'));

  beforeAll(async () => {
    const b = clients('B');
    for (const ns of ['account-a', 'account-b']) await ensureNamespace(b.core, ns);
  });

  it('covers every ACK kind the charts can emit (the audit trail included)', () => {
    expect(new Set([...consumer, ...provider].map((o) => o.kind))).toEqual(new Set(Object.values(ACK).map((k) => k.kind)));
  });

  it('flow logs to S3 pass too', async () => {
    const s3 = exampleCr();
    s3.spec.audit = { flowLogs: { destination: 's3', s3BucketArn: 'arn:aws:s3:::audit-bucket/xapi' } };
    const flows = renderObjects(s3, ids).consumer.filter((o) => o.kind === 'FlowLog');
    expect(flows).toHaveLength(2);
    const r = await apply(flows);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it("a FlowLog with the construct's spelling of resourceID is rejected", async () => {
    const flow = consumer.find((o) => o.kind === 'FlowLog') as unknown as { spec: Record<string, unknown> };
    const { resourceID, ...rest } = flow.spec;
    const r = await apply([{ ...flow, spec: { ...rest, resourceId: resourceID } }]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\.spec\.resourceId: field not declared in schema/);
  });

  it('passes a strict server-side dry run', async () => {
    const r = await apply([...consumer, ...provider]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(consumer.length + provider.length);
  });

  it('a misspelled ACK field is rejected (the check can fail)', async () => {
    const vpce = consumer.find((o) => o.kind === 'VPCEndpoint') as unknown as { spec: Record<string, unknown> };
    const { privateDNSEnabled, ...rest } = vpce.spec;
    const r = await apply([{ ...vpce, spec: { ...rest, privateDnsEnabled: privateDNSEnabled } }]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\.spec\.privateDnsEnabled: field not declared in schema/);
  });
});
