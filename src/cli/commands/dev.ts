import type { Command } from 'commander';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crossAccountApiCrd } from '../../api/crd.js';
import {
  allRunning,
  CLUSTER_LETTERS,
  devCluster,
  provisionAssets,
  provisionCrdDir,
  readState,
  startControlPlane,
  tearDown,
  writeState,
  type ControlPlane,
  type DevState,
} from '../../envtest/index.js';
import { createDevClusterSecrets } from '../dev-secrets.js';
import { beginDevExtras, startDevExtras, stopDevExtras } from '../../envtest/dev-aws.js';

/** The package root (holds scripts/), found upward from this module in src/ or dist/src/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'xapi') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the xapi package root (package.json)');
    dir = up;
  }
}

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

function usage(state: DevState): string {
  const lines = [`xapi dev: ${state.clusters.length === 1 ? 'a local control plane is' : `${state.clusters.length} local control planes are`} running (started ${state.startedAt})`];
  for (const c of state.clusters) lines.push(`  ${c.name}: ${c.server}  kubeconfig ${shown(c.kubeconfig)}`);
  const first = state.clusters[0]!;
  lines.push(
    '',
    'Try it (kubectl from the envtest assets; any kubectl 1.34+ works):',
    `  export KUBECONFIG=${resolve(first.kubeconfig)}`,
    `  alias kubectl=${state.kubectl}`,
    '  kubectl apply -f examples/orders.yaml',
    '  kubectl get xapi -A',
    '',
    `Stop and remove the data: xapi dev down${state.clusters.length ? ` --dir ${shown(dirname(first.kubeconfig))}` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

async function up(opts: { clusters: string; dir: string; crds?: string; aws?: boolean; operator?: boolean }, cmd: Command): Promise<void> {
  const count = Number(opts.clusters);
  if (count !== 1 && count !== 2) throw new Error(`--clusters must be 1 or 2, got ${opts.clusters}`);
  const dir = resolve(opts.dir);
  const existing = readState(dir);
  if (existing) {
    if (allRunning(existing) && cmd.getOptionValueSource('clusters') !== 'default' && existing.clusters.length !== count) {
      throw new Error(`${existing.clusters.length} control plane(s) already running in ${shown(dir)}, not ${count}: run \`xapi dev down --dir ${shown(dir)}\`, then \`xapi dev up --clusters ${count}\``);
    }
    if (allRunning(existing)) {
      process.stdout.write(`xapi dev: already running in ${shown(dir)}; \`xapi dev down --dir ${shown(dir)}\` stops it\n\n${usage(existing)}`);
      return;
    }
    process.stderr.write(`xapi dev: ${shown(dir)} holds a stopped or half-stopped run; cleaning it up\n`);
    await stopDevExtras(dir);
    await tearDown(dir, existing);
  }

  // Resolve everything that can fail before starting anything.
  const root = packageRoot();
  const assets = provisionAssets(root);
  const crdDir = opts.crds ? resolve(opts.crds) : provisionCrdDir(root);
  if (!existsSync(crdDir)) throw new Error(`--crds ${crdDir} does not exist`);
  mkdirSync(dir, { recursive: true });
  const extras = { aws: !!opts.aws, operator: !!opts.operator };
  const progress = (line: string) => process.stderr.write(`xapi dev: ${line}\n`);
  const controllers = beginDevExtras(root, extras, progress); // a first build overlaps the start

  const started = Date.now();
  const letters = CLUSTER_LETTERS.slice(0, count);
  const results = await Promise.allSettled(
    letters.map((l) => startControlPlane({ name: `xapi-dev-${l}`, dir: join(dir, l), crdDirs: [crdDir], crds: [crossAccountApiCrd()], assets, detach: true, timeoutMs: 120_000 })),
  );
  const planes = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  if (failures.length > 0) {
    await Promise.all(planes.map((p: ControlPlane) => p.stop()));
    await tearDown(dir, undefined);
    throw new Error(`could not start the control plane(s):\n${failures.join('\n\n')}`);
  }
  const state: DevState = {
    version: 1,
    startedAt: new Date().toISOString(),
    kubectl: assets.kubectl,
    clusters: planes.map((p, i) => {
      const kubeconfig = join(dir, `kubeconfig-${letters[i]}`);
      copyFileSync(p.kubeconfigPath, kubeconfig);
      return devCluster(p, kubeconfig, { etcd: assets.etcd, apiserver: assets.kubeApiserver });
    }),
  };
  writeState(dir, state);
  const secrets = await createDevClusterSecrets(state.clusters.map((c) => c.kubeconfig));
  let extraLines: string[] = [];
  try {
    extraLines = await startDevExtras(root, dir, state, extras, controllers, progress);
  } catch (err) {
    await stopDevExtras(dir);
    await tearDown(dir, state);
    throw err;
  }
  process.stdout.write(
    `${usage(state)}\nCluster Secrets for examples/orders.yaml (the operator reads them), in ${state.clusters[0]!.name}:\n${secrets.map((l) => `  ${l.secret}: kubeconfig of ${shown(l.file)}`).join('\n')}\n${extraLines.map((l) => `${l}\n`).join('')}\n(ready in ${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
  );
}

async function down(opts: { dir: string }): Promise<void> {
  const dir = resolve(opts.dir);
  const state = readState(dir);
  if (!state) {
    process.stdout.write(`xapi dev: nothing running in ${shown(dir)} (no ${shown(join(dir, 'state.json'))})\n`);
    return;
  }
  const extras = await stopDevExtras(dir);
  await tearDown(dir, state);
  process.stdout.write(`xapi dev: stopped ${[...extras, ...state.clusters.map((c) => c.name)].join(', ')} and removed their data\n`);
}

// A local playground without AWS: the same control planes the integration tests use, with the
// ACK, Argo CD and xapi CRDs installed, running in the background until `xapi dev down`.
export function registerDev(program: Command): void {
  const dev = program.command('dev').description('local Kubernetes control plane(s) with the ACK and xapi CRDs, no AWS needed');
  dev
    .command('up')
    .description('start the control plane(s) in the background and write DIR/kubeconfig-a (and -b)')
    .option('--clusters <n>', '1, or 2 for account A and account B', '1')
    .option('--dir <dir>', 'folder for data, logs, kubeconfigs and state', '.xapi-dev')
    .option('--crds <dir>', 'folder of ACK + Argo CD CRD YAML files (default: XAPI_CRDS_DIR, else scripts/ack-crds.sh)')
    .option('--aws', 'also the AWS emulator and the real ACK controllers (built once into ~/.cache/xapi/ack); writes DIR/aws-endpoint and DIR/aws-region')
    .option('--operator', "also run xapi's operator against cluster A")
    .action(up);
  dev
    .command('down')
    .description('stop the control plane(s) started by `xapi dev up` and remove their data')
    .option('--dir <dir>', 'folder given to `xapi dev up`', '.xapi-dev')
    .action(down);
}
