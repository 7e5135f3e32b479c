// `xapi synth --image REPO@sha256:...` (docs/image.md): the operator Deployment runs exactly the
// pushed image by digest, with args that replace the image's Cmd (`operator`) and keep its
// Entrypoint (`node /app/bin/xapi.js`).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const run = promisify(execFile);
const root = new URL('../../../', import.meta.url).pathname;
const ref = `registry.example.com/team/xapi@sha256:${'0123456789abcdef'.repeat(4)}`;

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'xapi-synth-image-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

it('puts a digest reference given to --image into the operator Deployment unchanged', async () => {
  const out = join(work, 'manifests');
  const { stdout } = await run(process.execPath, [join(root, 'bin/xapi.js'), 'synth', '--input', join(root, 'examples'), '--out', out, '--image', ref]);
  expect(stdout).toContain('xapi synth: wrote');
  const deployment = parse(readFileSync(join(out, 'operator', 'Deployment.xapi-operator.k8s.yaml'), 'utf8')) as {
    spec: { template: { spec: { containers: Array<{ image: string; args: string[]; command?: string[] }> } } };
  };
  const [container] = deployment.spec.template.spec.containers;
  expect(container!.image).toBe(ref);
  expect(container!.command).toBeUndefined();
  expect(container!.args[0]).toBe('operator');
});
