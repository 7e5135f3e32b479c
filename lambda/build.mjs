// Bundles the handler into one file and prints its size.
import { build } from 'esbuild';
import { statSync } from 'node:fs';
const outfile = new URL('./dist/handler.mjs', import.meta.url).pathname;
await build({
  entryPoints: [new URL('./src/handler.ts', import.meta.url).pathname],
  bundle: true, minify: true, platform: 'node', target: 'node20', format: 'esm', outfile,
});
console.log(`lambda bundle: ${outfile} ${statSync(outfile).size} bytes`);
