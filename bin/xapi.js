#!/usr/bin/env node
// Compiled by `npm ci` (prepare) or `npm run build`.
import('../dist/src/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  process.stderr.write(`xapi: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
