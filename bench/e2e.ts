// End to end with the real ACK controllers and the AWS emulator, two clusters as the example has
// them: the time from `kubectl apply -f examples/orders.yaml` to Ready, then N endpoint rotations,
// each measured from the new endpoint ID appearing in ACK's VPCEndpoint status (cluster A) to the
// RestAPI policy stored in the emulator (account B) naming it. The controllers run with the
// settings under manifests/ack-controllers; the operator is the `xapi operator` process.
// Last line: `e2e ready_s=<s> rotation_p50_ms=<ms> rotation_p99_ms=<ms> n=<count>`.
//
// Env: KUBEBUILDER_ASSETS, XAPI_CRDS_DIR, XAPI_ACK_CONTROLLERS_DIR (npm run bench:e2e sets them);
// XAPI_BENCH_ROTATIONS (default 20).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APIGatewayClient, GetRestApiCommand } from '@aws-sdk/client-api-gateway';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { ACK } from '../src/api/ack.js';
import { crossAccountApiCrd } from '../src/api/crd.js';
import type { CrossAccountApi } from '../src/api/types.js';
import { objectNames } from '../src/charts/names.js';
import { EMULATOR_CREDENTIALS, carmRoleArn, createNetwork, networkFor, startAwsEmulator } from '../src/envtest/aws.js';
import { controllerBinaries, startAckControllers } from '../src/envtest/controllers.js';
import { envtestAssets, startControlPlane } from '../src/envtest/index.js';
import { freePort } from '../src/envtest/ports.js';
import { startLogged, stopGroup } from '../src/envtest/processes.js';

const ROOT = new URL('../../', import.meta.url).pathname; // dist/bench → repo root
const ROTATIONS = Number(process.env.XAPI_BENCH_ROTATIONS ?? 20);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function main(): Promise<void> {
  const controllersDir = process.env.XAPI_ACK_CONTROLLERS_DIR;
  const crdDir = process.env.XAPI_CRDS_DIR;
  if (!controllersDir || !crdDir) throw new Error('XAPI_ACK_CONTROLLERS_DIR and XAPI_CRDS_DIR must be set (npm run bench:e2e sets them)');
  const cr = parse(readFileSync(join(ROOT, 'examples', 'orders.yaml'), 'utf8')) as CrossAccountApi;
  const names = objectNames(cr);
  const dir = mkdtempSync(join(tmpdir(), 'xapi-bench-e2e-'));
  const stops: Array<() => Promise<void>> = [];
  try {
    const assets = envtestAssets();
    const bins = controllerBinaries(controllersDir, ['ec2', 'apigateway', 'iam']);
    const emulator = await startAwsEmulator({ root: ROOT, dir, region: cr.spec.region });
    stops.push(emulator.stop);
    const [a, b] = await Promise.all(['a', 'b'].map((l) => startControlPlane({ name: `xapi-bench-${l}`, crdDirs: [crdDir], crds: [crossAccountApiCrd()], assets, timeoutMs: 180_000 })));
    stops.push(a!.stop, b!.stop);
    const common = { endpoint: emulator.endpoint, region: cr.spec.region, timeoutMs: 180_000 };
    const [ca, cb] = await Promise.all([
      startAckControllers({ ...common, name: 'A', kubeconfigPath: a!.kubeconfigPath, dir: join(dir, 'a'), binaries: { ec2: bins.ec2, iam: bins.iam }, accounts: { [cr.spec.consumer.accountId]: carmRoleArn(cr.spec.consumer.accountId) } }),
      startAckControllers({ ...common, name: 'B', kubeconfigPath: b!.kubeconfigPath, dir: join(dir, 'b'), binaries: { apigateway: bins.apigateway }, accounts: { [cr.spec.provider.accountId]: carmRoleArn(cr.spec.provider.accountId) } }),
    ]);
    stops.push(ca!.stop, cb!.stop);
    await createNetwork(emulator.endpoint, networkFor(cr));

    const kcA = new KubeConfig();
    kcA.loadFromFile(a!.kubeconfigPath);
    const core = kcA.makeApiClient(CoreV1Api);
    const custom = kcA.makeApiClient(CustomObjectsApi);
    const ns = cr.metadata.namespace!;
    await core.createNamespace({ body: { metadata: { name: ns } } });
    for (const [name, file] of [
      [cr.spec.consumer.cluster!.secretName, a!.kubeconfigPath],
      [cr.spec.provider.cluster!.secretName, b!.kubeconfigPath],
    ] as const) {
      await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name, namespace: ns }, stringData: { kubeconfig: readFileSync(file, 'utf8') } } });
    }
    const health = await freePort();
    const op = startLogged(process.execPath, [join(ROOT, 'bin', 'xapi.js'), 'operator', '--kubeconfig', a!.kubeconfigPath, '--namespace', ns, '--metrics-port', '-1', '--health-port', String(health)], join(dir, 'operator.log'));
    stops.push(() => stopGroup(op.pid));
    await until('the operator', async () => (await fetch(`http://127.0.0.1:${health}/readyz`)).ok, 60_000, 200);

    const getCr = async () => (await custom.getNamespacedCustomObject({ group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis', namespace: ns, name: cr.metadata.name })) as CrossAccountApi;
    const t0 = Date.now();
    execFileSync(assets.kubectl, ['--kubeconfig', a!.kubeconfigPath, 'apply', '-f', join(ROOT, 'examples', 'orders.yaml')], { stdio: 'ignore' });
    await until('Ready', async () => (await getCr()).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), 15 * 60_000, 100);
    const readyS = (Date.now() - t0) / 1000;
    process.stderr.write(`ready after ${readyS.toFixed(1)} s\n`);

    const vpce = ACK.VPCEndpoint;
    const consumerNs = cr.spec.consumer.namespace;
    const endpointId = async () =>
      (((await custom.getNamespacedCustomObject({ group: vpce.group, version: vpce.version, plural: vpce.plural, namespace: consumerNs, name: names.vpcEndpoint })) as { status?: { vpcEndpointID?: string } }).status?.vpcEndpointID);
    const sts = new STSClient({ endpoint: emulator.endpoint, region: cr.spec.region, credentials: EMULATOR_CREDENTIALS });
    const assumed = (await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${cr.spec.provider.accountId}:role/xapi-bench`, RoleSessionName: 'xapi-bench' }))).Credentials!;
    const apigw = new APIGatewayClient({ endpoint: emulator.endpoint, region: cr.spec.region, credentials: { accessKeyId: assumed.AccessKeyId!, secretAccessKey: assumed.SecretAccessKey!, sessionToken: assumed.SessionToken! } });
    const apiId = (await getCr()).status!.api!.id!;

    const latencies: number[] = [];
    for (let i = 0; i < ROTATIONS; i++) {
      const old = await endpointId();
      await custom.deleteNamespacedCustomObject({ group: vpce.group, version: vpce.version, plural: vpce.plural, namespace: consumerNs, name: names.vpcEndpoint });
      const fresh = await until(`rotation ${i + 1}: a new endpoint ID in ACK status`, async () => {
        const id = await endpointId().catch(() => undefined);
        return id && id !== old ? id : undefined;
      }, 5 * 60_000, 20);
      const seen = Date.now();
      await until(`rotation ${i + 1}: ${fresh} in the stored policy`, async () => ((await apigw.send(new GetRestApiCommand({ restApiId: apiId }))).policy ?? '').includes(fresh), 5 * 60_000, 20);
      latencies.push(Date.now() - seen);
      process.stderr.write(`rotation ${i + 1}/${ROTATIONS}: ${latencies[latencies.length - 1]} ms\n`);
    }
    const sorted = [...latencies].sort((x, y) => x - y);
    console.log(`e2e ready_s=${readyS.toFixed(1)} rotation_p50_ms=${percentile(sorted, 50)} rotation_p99_ms=${percentile(sorted, 99)} n=${sorted.length}`);
  } finally {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench:e2e failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
