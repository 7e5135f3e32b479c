// Jest global setup of the integration project: two real control planes, A and B (account A's
// and account B's clusters), with the ACK + Argo CD CRDs (XAPI_CRDS_DIR) and our CRD installed.
// Test files find them through XAPI_TEST_KUBECONFIG_A / _B and use the real kubectl from
// XAPI_TEST_KUBECTL. The handles stay on globalThis for global-teardown.ts.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlPlane } from '../../src/envtest/index.js';
import type * as Harness from '../../src/envtest/index.js';
import type * as Crd from '../../src/api/crd.js';
import { loadTs } from '../load-ts.mjs';

const loadHarness = () =>
  loadTs<typeof Harness & typeof Crd>('harness', ["export * from './src/envtest/index.ts';", "export { crossAccountApiCrd } from './src/api/crd.ts';"]);

declare global {
  // eslint-disable-next-line no-var
  var __xapiControlPlanes: ControlPlane[] | undefined;
}

export default async function globalSetup(): Promise<void> {
  const crdDir = process.env.XAPI_CRDS_DIR;
  if (!crdDir) {
    throw new Error('XAPI_CRDS_DIR is not set: run `npm test` (scripts/test.sh sets it), or export XAPI_CRDS_DIR="$(bash scripts/ack-crds.sh | tail -n 1)"');
  }
  if (!existsSync(crdDir)) throw new Error(`XAPI_CRDS_DIR=${crdDir} does not exist; run bash scripts/ack-crds.sh`);
  const { envtestAssets, startControlPlane, crossAccountApiCrd } = await loadHarness();
  const assets = envtestAssets();

  const started = Date.now();
  const results = await Promise.allSettled(
    ['A', 'B'].map((which) =>
      startControlPlane({ name: `xapi-test-${which.toLowerCase()}`, crdDirs: [crdDir], crds: [crossAccountApiCrd()], assets, timeoutMs: 120_000 }),
    ),
  );
  const planes = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (failed.length > 0) {
    await Promise.all(planes.map((p) => p.stop()));
    throw new Error(`integration global setup: could not start the control planes:\n${failed.map((e) => e.message).join('\n\n')}`);
  }
  const [a, b] = planes as [ControlPlane, ControlPlane];
  globalThis.__xapiControlPlanes = planes;

  process.env.XAPI_TEST_KUBECONFIG_A = a.kubeconfigPath;
  process.env.XAPI_TEST_KUBECONFIG_B = b.kubeconfigPath;
  process.env.XAPI_TEST_KUBECTL = assets.kubectl;
  // kubectl caches discovery per host:port under ~/.kube/cache; ports are reused across runs, so a
  // stale cache could hide freshly installed CRDs. One cache per run.
  process.env.KUBECACHEDIR = mkdtempSync(join(tmpdir(), 'xapi-test-kubecache-'));
  if (process.env.XAPI_TEST_VERBOSE) {
    process.stderr.write(`\n[envtest] A ${a.server}, B ${b.server} ready in ${Date.now() - started} ms\n`);
  }
}
