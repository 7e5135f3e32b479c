// Stops what global-setup.ts started (emulator, control planes, controllers). The run's folder
// (logs) is kept when XAPI_E2E_KEEP=1, to read after a failure.
import { rmSync } from 'node:fs';

declare global {
  // eslint-disable-next-line no-var
  var __xapiE2e: { stop: () => Promise<void>; dir: string } | undefined;
}

export default async function globalTeardown(): Promise<void> {
  const run = globalThis.__xapiE2e;
  globalThis.__xapiE2e = undefined;
  if (!run) return;
  await run.stop();
  if (process.env.XAPI_E2E_KEEP === '1') process.stderr.write(`\n[e2e] logs kept in ${run.dir}\n`);
  else rmSync(run.dir, { recursive: true, force: true });
}
