// Writes the recommended ACK controller settings (src/charts/ack-controllers.ts) as Helm values
// files, one per controller, into the synth output: manifests/ack-controllers/NAME-controller.values.yaml.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ACK_CONTROLLER_NAMES, ACK_CONTROLLER_TAGS, controllerFlags, helmValues } from '../charts/ack-controllers.js';

export const ACK_VALUES_FOLDER = 'ack-controllers';

export function ackValuesYaml(name: (typeof ACK_CONTROLLER_NAMES)[number]): string {
  const tag = ACK_CONTROLLER_TAGS[name];
  const header = [
    `# Helm values xapi recommends for ACK's ${name} controller ${tag}, chart`,
    `# oci://public.ecr.aws/aws-controllers-k8s/${name}-chart --version ${tag.replace(/^v/, '')}.`,
    '# Written by `xapi synth` from src/charts/ack-controllers.ts; the end-to-end tests run the',
    '# controller with exactly these settings, as flags:',
    ...controllerFlags(name).map((f) => `#   ${f}`),
  ];
  return `${header.join('\n')}\n${stringify(helmValues(name))}`;
}

export async function writeAckValues(outdir: string): Promise<number> {
  const dir = join(outdir, ACK_VALUES_FOLDER);
  await mkdir(dir, { recursive: true });
  for (const name of ACK_CONTROLLER_NAMES) await writeFile(join(dir, `${name}-controller.values.yaml`), ackValuesYaml(name));
  return ACK_CONTROLLER_NAMES.length;
}
