// The shipped example CR against the real API server with our CRD: `kubectl apply` accepts it
// and `kubectl get xapi` shows the printer columns.
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { clients, ensureNamespace, EXAMPLE_PATH, exampleCr, kubectl, runSuffix } from '../helpers.js';

const NS = `envtest-example-${runSuffix()}`;
const a = clients('A');

beforeAll(async () => {
  await ensureNamespace(a.core, NS);
});
afterAll(async () => {
  await a.custom.deleteNamespacedCustomObject({ group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis', namespace: NS, name: 'orders' }).catch(() => undefined);
  await a.core.deleteNamespace({ name: NS }).catch(() => undefined);
});

describe('examples/orders.yaml', () => {
  it('passes a server-side dry run of the file as shipped (its own namespace)', async () => {
    const ns = exampleCr().metadata.namespace!;
    await ensureNamespace(a.core, ns);
    const r = await kubectl('A', ['apply', '--server-side', '--dry-run=server', '--validate=strict', '-f', EXAMPLE_PATH]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/crossaccountapi\.xapi\.dev\/orders serverside-applied \(server dry run\)/);
  });

  it('is accepted by kubectl apply, and kubectl get xapi shows Ready, Endpoint, API, Layers, Age', async () => {
    const cr = exampleCr();
    // Same content, this test file's namespace (the clusters are shared by parallel test files).
    const manifest = stringify({ ...cr, metadata: { ...cr.metadata, namespace: NS } });
    expect(readFileSync(EXAMPLE_PATH, 'utf8')).toContain('kind: CrossAccountApi');
    const applied = await kubectl('A', ['apply', '--validate=strict', '-f', '-'], manifest);
    expect(applied.stderr).toBe('');
    expect(applied.stdout.trim()).toBe('crossaccountapi.xapi.dev/orders created');

    const before = await kubectl('A', ['get', 'xapi', '-n', NS]);
    expect(before.code).toBe(0);
    const [header, row] = before.stdout.trimEnd().split('\n');
    expect(header!.split(/\s+/)).toEqual(['NAME', 'READY', 'ENDPOINT', 'API', 'LAYERS', 'AGE']);
    expect(row).toMatch(/^orders\s+\S+$/); // no status yet: only the age column has a value

    // What the operator would write; the columns read it from the status subresource.
    const status = {
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: '', lastTransitionTime: new Date().toISOString() }],
        endpoint: { id: 'vpce-0123456789abcdef0' },
        api: { id: 'a1b2c3d4e5' },
        layers: '4/4',
      },
    };
    const patched = await kubectl('A', ['patch', 'xapi', 'orders', '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    expect(patched.stderr).toBe('');
    const after = await kubectl('A', ['get', 'xapi', '-n', NS, '--no-headers']);
    expect(after.stdout.trim().split(/\s+/).slice(0, 5)).toEqual(['orders', 'True', 'vpce-0123456789abcdef0', 'a1b2c3d4e5', '4/4']);
  });
});
