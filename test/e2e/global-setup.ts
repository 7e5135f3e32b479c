// Jest global setup of the e2e project (TESTING.md tier 3): the AWS emulator, two control planes
// standing for account A's and account B's clusters, and the real ACK controllers in each, with
// the settings xapi ships (src/charts/ack-controllers.ts):
//   cluster A: ec2, iam, apigateway and cloudwatchlogs (the flow logs' group); CARM maps the two-cluster test's account A and both
//              accounts of the one-cluster test;
//   cluster B: apigateway; CARM maps the two-cluster test's account B.
// Test files find everything through XAPI_E2E_* variables; the handles stay on globalThis for
// global-teardown.ts. Nothing here is optional: a missing part fails the run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Harness from '../../src/envtest/index.js';
import type * as Aws from '../../src/envtest/aws.js';
import type * as Controllers from '../../src/envtest/controllers.js';
import type * as Crd from '../../src/api/crd.js';
import type * as Accounts from './accounts.js';
import { ROOT, loadTs } from '../load-ts.mjs';

type Loaded = typeof Harness & typeof Aws & typeof Controllers & typeof Crd & typeof Accounts;

const loadHarness = () =>
  loadTs<Loaded>('e2e-harness', [
    "export * from './src/envtest/index.ts';",
    "export * from './src/envtest/aws.ts';",
    "export * from './src/envtest/controllers.ts';",
    "export { crossAccountApiCrd } from './src/api/crd.ts';",
    "export { E2E_ACCOUNTS } from './test/e2e/accounts.ts';",
  ]);

declare global {
  // eslint-disable-next-line no-var
  var __xapiE2e: { stop: () => Promise<void>; dir: string } | undefined;
}

export default async function globalSetup(): Promise<void> {
  const crdDir = process.env.XAPI_CRDS_DIR;
  if (!crdDir) throw new Error('XAPI_CRDS_DIR is not set: run `npm test` (scripts/test.sh sets it)');
  const controllersDir = process.env.XAPI_ACK_CONTROLLERS_DIR;
  if (!controllersDir) {
    throw new Error('XAPI_ACK_CONTROLLERS_DIR is not set: run `npm test` (scripts/test.sh builds the controllers), or export XAPI_ACK_CONTROLLERS_DIR="$(bash scripts/ack-controllers.sh ec2 apigateway iam cloudwatchlogs | tail -n 1)"');
  }
  const h = await loadHarness();
  const E2E_ACCOUNTS = h.E2E_ACCOUNTS;
  const assets = h.envtestAssets();
  // cloudtrail is not run: the emulator has no CloudTrail Lake (docs/audit.md)
  const bins = h.controllerBinaries(controllersDir, ['ec2', 'apigateway', 'iam', 'cloudwatchlogs']);
  const dir = mkdtempSync(join(tmpdir(), 'xapi-e2e-'));
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  globalThis.__xapiE2e = { stop, dir };
  try {
    const region = 'us-east-1';
    const emulator = await h.startAwsEmulator({ root: ROOT, dir, region });
    stops.push(emulator.stop);
    const planes = await Promise.all(
      ['a', 'b'].map((l) => h.startControlPlane({ name: `xapi-e2e-${l}`, crdDirs: [crdDir], crds: [h.crossAccountApiCrd()], assets, timeoutMs: 180_000 })),
    );
    for (const p of planes) stops.push(p.stop);
    const [a, b] = planes as [Harness.ControlPlane, Harness.ControlPlane];
    const carm = (ids: string[]) => Object.fromEntries(ids.map((id) => [id, h.carmRoleArn(id)]));
    const [ctlA, ctlB] = await Promise.all([
      h.startAckControllers({
        name: 'cluster A',
        kubeconfigPath: a.kubeconfigPath,
        dir: join(dir, 'controllers-a'),
        endpoint: emulator.endpoint,
        region,
        binaries: bins,
        accounts: carm([E2E_ACCOUNTS.twoClusters.consumer, E2E_ACCOUNTS.oneCluster.consumer, E2E_ACCOUNTS.oneCluster.provider]),
        timeoutMs: 180_000,
      }),
      h.startAckControllers({
        name: 'cluster B',
        kubeconfigPath: b.kubeconfigPath,
        dir: join(dir, 'controllers-b'),
        endpoint: emulator.endpoint,
        region,
        binaries: { apigateway: bins.apigateway },
        accounts: carm([E2E_ACCOUNTS.twoClusters.provider]),
        timeoutMs: 180_000,
      }),
    ]);
    stops.push(ctlA!.stop, ctlB!.stop);
    process.env.XAPI_E2E_DIR = dir;
    process.env.XAPI_E2E_KUBECONFIG_A = a.kubeconfigPath;
    process.env.XAPI_E2E_KUBECONFIG_B = b.kubeconfigPath;
    process.env.XAPI_E2E_KUBECTL = assets.kubectl;
    process.env.XAPI_E2E_AWS_ENDPOINT = emulator.endpoint;
    process.env.XAPI_E2E_AWS_REGION = region;
    process.env.XAPI_E2E_CONTROLLER_ARGS = JSON.stringify([...ctlA!.controllers, ...ctlB!.controllers].map((c) => ({ name: c.name, args: c.args, pid: c.pid, logPath: c.logPath })));
    process.env.KUBECACHEDIR ??= mkdtempSync(join(tmpdir(), 'xapi-e2e-kubecache-'));
    writeFileSync(join(dir, 'README'), `xapi e2e run: emulator ${emulator.endpoint} (patches: ${emulator.patches.map((p) => p.name).join(', ')})\n`);
  } catch (err) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    globalThis.__xapiE2e = undefined;
    throw err;
  }
}
