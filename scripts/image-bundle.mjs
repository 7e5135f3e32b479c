// Part of scripts/image.sh: bundles the compiled CLI (APP/dist/src/cli/main.js, tsc output) with
// the production node_modules of APP into one ES module, so the image carries ~4 MB of JavaScript
// instead of ~37 MB of node_modules as npm installs them (type declarations, CommonJS and ES
// twins, every generated Kubernetes model). Identifiers are kept (whitespace and syntax minified
// only) so stack traces in the operator's logs still name the functions.
// Also writes, for the packages that went into the bundle: OUT/licenses/<package>/<licence files>
// and OUT/licenses/packages.txt ("name version licence", sorted), the image's list of npm packages.
//   node scripts/image-bundle.mjs APP OUT      (OUT/dist/src/cli/main.js is the bundle)
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const [app, out] = process.argv.slice(2).map((p) => resolve(p));
if (!app || !out) throw new Error('usage: node scripts/image-bundle.mjs APP OUT');
const outfile = join(out, 'dist/src/cli/main.js');

const result = await build({
  absWorkingDir: app,
  entryPoints: [join(app, 'dist/src/cli/main.js')],
  bundle: true, platform: 'node', target: 'node20', format: 'esm', outfile,
  minifyWhitespace: true, minifySyntax: true, legalComments: 'none', metafile: true, logLevel: 'warning',
  // CommonJS dependencies call require() for Node built-ins; an ES module has no require of its own.
  banner: { js: "import { createRequire as __xapiRequire } from 'node:module'; const require = __xapiRequire(import.meta.url);" },
});
if (result.errors.length || result.warnings.length) throw new Error(`esbuild: ${result.errors.length} errors, ${result.warnings.length} warnings (above)`);

// Package folder of every bundled input: the path up to its last node_modules/<name> (or @scope/name).
const dirs = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (m) dirs.add(join(app, m[1]));
}
const lines = [];
for (const dir of [...dirs].sort()) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const licence = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? 'see files');
  lines.push(`${pkg.name} ${pkg.version} ${licence}`);
  const files = readdirSync(dir).filter((f) => /^(licen[cs]e|notice|copying|authors)/i.test(f)).sort();
  const dest = join(out, 'licenses', pkg.name, pkg.version);
  mkdirSync(dest, { recursive: true });
  for (const f of files) copyFileSync(join(dir, f), join(dest, f));
  if (!files.length && !existsSync(join(dest, 'package.json'))) copyFileSync(join(dir, 'package.json'), join(dest, 'package.json')); // the licence field is all there is
}
const unique = [...new Set(lines)].sort();
mkdirSync(dirname(outfile), { recursive: true });
writeFileSync(join(out, 'licenses', 'packages.txt'), `${unique.join('\n')}\n`);
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.error(`[image] bundle ${(bytes / 1e6).toFixed(1)} MB from ${Object.keys(result.metafile.inputs).length} files of dist/ and ${unique.length} npm packages`);
