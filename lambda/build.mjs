// Bundles the handler into one file and prints its size; then packs it as the Lambda deployment
// package (index.mjs, matching the chart's default handler `index.handler`) and prints the zip's
// size and the CodeSha256 Lambda will report, for spec.consumer.function.code (s3Bucket, s3Key).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync, statSync } from 'node:fs';
import yazl from 'yazl';

const outfile = new URL('./dist/handler.mjs', import.meta.url).pathname;
const zipfile = new URL('./dist/xapi-caller.zip', import.meta.url).pathname;
await build({
  entryPoints: [new URL('./src/handler.ts', import.meta.url).pathname],
  bundle: true, minify: true, platform: 'node', target: 'node20', format: 'esm', outfile,
  // The ES builds of the @smithy packages ("module"): imports esbuild can tree-shake. Their CommonJS
  // builds ("main", esbuild's default on Node) require all of @smithy/core, 130 KB more.
  mainFields: ['module', 'main'],
  // CommonJS dependencies call require() for Node built-ins; an ES module has no require of its own.
  banner: { js: "import { createRequire as __xapiRequire } from 'node:module'; const require = __xapiRequire(import.meta.url);" },
});
console.log(`lambda bundle: ${outfile} ${statSync(outfile).size} bytes`);

const zip = new yazl.ZipFile();
// A fixed mtime keeps the package (and its sha256) the same for the same bundle.
zip.addFile(outfile, 'index.mjs', { mtime: new Date('2020-01-01T00:00:00Z'), mode: 0o100644 });
zip.end();
await new Promise((resolve, reject) => zip.outputStream.pipe(createWriteStream(zipfile)).on('close', resolve).on('error', reject));
const sha = createHash('sha256').update(readFileSync(zipfile)).digest('base64');
console.log(`lambda package: ${zipfile} ${statSync(zipfile).size} bytes, CodeSha256 ${sha}`);
