// `xapi synth --out` through the built CLI (bin/xapi.js → dist/), as a user runs it: an output
// folder that would take the user's files with it is refused with the reason and the flag to use,
// and nothing on disk changes; a new, empty or earlier-synth folder is written (mode 0755).
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const ROOT = new URL('../../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/xapi.js');

function xapi(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.CDK8S_OUTDIR;
    execFile(process.execPath, [CLI, ...args], { cwd, timeout: 120_000, env }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0, stdout, stderr });
    });
  });
}

/** Every entry under dir (files with a content hash, folders, modes): equal trees = nothing changed. */
function tree(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .map((e) => {
      const full = join(e.parentPath, e.name);
      const st = statSync(full);
      const what = e.isFile() ? createHash('sha256').update(readFileSync(full)).digest('hex') : e.isDirectory() ? 'dir' : 'other';
      return `${relative(dir, full)} ${(st.mode & 0o7777).toString(8)} ${what}`;
    })
    .sort();
}

let work: string;
beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/src/cli/main.js'))) throw new Error('dist/ is missing: build it first (npx tsc -p tsconfig.json; scripts/test.sh does)');
  work = mkdtempSync(join(tmpdir(), 'xapi-synth-out-'));
  // a user's project: their input, their own files, a foreign non-empty folder and a plain file
  cpSync(join(ROOT, 'examples'), join(work, 'examples'), { recursive: true });
  writeFileSync(join(work, 'notes.md'), 'mine\n');
  mkdirSync(join(work, 'docs'));
  writeFileSync(join(work, 'docs', 'plan.txt'), 'also mine\n');
  writeFileSync(join(work, 'somefile'), 'a file\n');
  mkdirSync(join(work, 'sub'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('xapi synth --out refuses folders it would destroy, and changes nothing', () => {
  const cases: { name: string; cwd?: string; args: string[]; message: RegExp }[] = [
    { name: '--out . (the current directory)', args: ['--out', '.'], message: /--out \.: contains the current directory.*choose another folder with --out/ },
    { name: '--out examples (the input)', args: ['--out', 'examples'], message: /--out examples: contains --input examples.*choose another folder with --out/ },
    { name: '--out examples/out (inside the input)', args: ['--out', 'examples/out'], message: /--out examples\/out: is inside --input examples/ },
    { name: '--out .. from a subfolder (a parent of the cwd)', cwd: 'sub', args: ['--input', '../examples', '--out', '..'], message: /--out \.\.: contains the current directory/ },
    { name: '--out somefile (a file)', args: ['--out', 'somefile'], message: /--out somefile: is a file, not a folder; choose another folder with --out/ },
    { name: '--out docs (a non-empty folder synth did not write)', args: ['--out', 'docs'], message: /--out docs: is not empty and was not written by xapi synth \(it has no \.xapi-synth file\)/ },
    { name: '--out in a missing parent folder', args: ['--out', 'nope/deeper/out'], message: /--out nope\/deeper\/out: its parent folder nope\/deeper does not exist/ },
    { name: 'the default --out when ./manifests is foreign', args: [], message: /--out manifests \(the default\): is not empty and was not written by xapi synth/ },
  ];
  it.each(cases)('$name', async ({ cwd, args, message }) => {
    if (args.length === 0) {
      mkdirSync(join(work, 'manifests'));
      writeFileSync(join(work, 'manifests', 'hand-written.yaml'), 'kind: ConfigMap\n');
    }
    const before = tree(work);
    const r = await xapi(join(work, cwd ?? '.'), 'synth', ...(args.includes('--input') ? [] : ['--input', 'examples']), ...args);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/nothing written/);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
    expect(tree(work)).toEqual(before);
    if (args.length === 0) rmSync(join(work, 'manifests'), { recursive: true });
  });
});

describe('xapi synth --out writes new, empty and earlier-synth folders', () => {
  it('writes a new folder (0755, with the marker) and re-runs on its own output, replacing it whole', async () => {
    const first = await xapi(work, 'synth', '--input', 'examples', '--out', 'out');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^xapi synth: wrote \d+ objects to .*\/out\nmonthly estimate per endpoint \(.*\):\n  xapi-system\/orders: \$14\.60\/month endpoint \(2 AZ\) \+ .*\n$/);
    expect(statSync(join(work, 'out')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(work, 'out', '.xapi-synth'), 'utf8')).toMatch(/xapi synth/);
    const rendered = tree(join(work, 'out'));
    expect(rendered.some((f) => f.startsWith('crds/'))).toBe(true);

    writeFileSync(join(work, 'out', 'stale.yaml'), 'kind: Stale\n');
    const again = await xapi(work, 'synth', '--input', 'examples', '--out', 'out');
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(tree(join(work, 'out'))).toEqual(rendered);
    expect(readdirSync(work).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('writes into an existing empty folder', async () => {
    mkdirSync(join(work, 'empty'));
    const r = await xapi(work, 'synth', '--input', 'examples', '--out', 'empty');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(existsSync(join(work, 'empty', '.xapi-synth'))).toBe(true);
  });
});
