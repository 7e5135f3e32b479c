// Where `xapi synth` may write. It replaces its output folder whole, so a wrong --out would
// delete the user's files: only a new folder, an empty one, or one that an earlier synth wrote
// (it carries MARKER) is accepted, and never one holding the input or the current directory.
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';

/** File synth writes into every output folder; its presence makes a folder replaceable. */
export const MARKER = '.xapi-synth';
export const MARKER_TEXT = 'Written by `xapi synth`, which replaces this folder whole on every run. Do not keep other files here.\n';

/** The path with symlinks resolved as far as it exists (the rest appended as written). */
function real(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(real(parent), basename(abs));
  }
}

const within = (inner: string, outer: string) => inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);

/**
 * Throws, naming the flag and what to do, when `out` must not be replaced; returns the absolute
 * folder otherwise. `label` says how the user gave it (`--out X`, `CDK8S_OUTDIR=X`, ...).
 */
export function checkOutDir(out: string, opts: { label: string; input: string; cwd?: string }): string {
  const abs = resolve(out);
  const target = real(abs);
  const cwd = real(opts.cwd ?? process.cwd());
  const input = real(opts.input);
  const why = (what: string) => new Error(`${opts.label}: ${what}; nothing written`);
  const otherFolder = `choose another folder with --out (synth replaces it whole)`;
  if (within(cwd, target)) throw why(`contains the current directory, which synth would replace; ${otherFolder}`);
  if (within(input, target)) throw why(`contains --input ${opts.input}, which synth would replace; ${otherFolder}`);
  if (within(target, input)) throw why(`is inside --input ${opts.input}, so the next synth would read its own output; ${otherFolder}`);
  let info;
  try {
    info = lstatSync(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw why(`cannot be read (${(err as NodeJS.ErrnoException).code})`);
    const parent = dirname(abs);
    let p;
    try {
      p = statSync(parent);
    } catch {
      throw why(`its parent folder ${relative(process.cwd(), parent) || '.'} does not exist; create it first or ${otherFolder}`);
    }
    if (!p.isDirectory()) throw why(`its parent ${parent} is not a folder; ${otherFolder}`);
    return abs;
  }
  if (info.isSymbolicLink()) info = statSync(abs);
  if (!info.isDirectory()) throw why(`is a file, not a folder; ${otherFolder}`);
  const entries = readdirSync(abs);
  if (entries.length > 0 && !entries.includes(MARKER)) {
    throw why(`is not empty and was not written by xapi synth (it has no ${MARKER} file); ${otherFolder}, or empty this one yourself`);
  }
  return abs;
}
