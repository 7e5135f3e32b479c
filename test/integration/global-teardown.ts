// Stops the control planes global-setup.ts started (processes gone, temp folders removed).
import { rmSync } from 'node:fs';
import type { ControlPlane } from '../../src/envtest/index.js';

declare global {
  // eslint-disable-next-line no-var
  var __xapiControlPlanes: ControlPlane[] | undefined;
}

export default async function globalTeardown(): Promise<void> {
  const planes = globalThis.__xapiControlPlanes ?? [];
  globalThis.__xapiControlPlanes = undefined;
  await Promise.all(planes.map((p) => p.stop()));
  if (process.env.KUBECACHEDIR?.includes('xapi-test-kubecache-')) rmSync(process.env.KUBECACHEDIR, { recursive: true, force: true });
}
