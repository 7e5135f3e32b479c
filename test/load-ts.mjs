// Jest loads a project's globalSetup through Node's own ESM resolver, without the project's
// moduleNameMapper, so the `./x.js` imports of our TypeScript sources do not resolve there. This
// bundles a module that re-exports what a setup needs with esbuild (which maps .js to .ts) into
// node_modules/.cache, where the bundle's package imports resolve, and imports it. Plain
// JavaScript so that the setups can import it themselves.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export async function loadTs(tag, exportLines) {
  const outDir = join(ROOT, 'node_modules', '.cache', 'xapi-envtest');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${tag}-${process.pid}-${Date.now()}.mjs`);
  await build({
    stdin: { contents: exportLines.join('\n'), resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'error',
  });
  try {
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(outfile, { force: true });
  }
}
