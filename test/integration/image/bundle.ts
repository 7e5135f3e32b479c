// The operator image as a container: build (or find cached) with scripts/image.sh, read its OCI
// config, unpack it with umoci into an OCI runtime bundle and run it with crun the way the
// rendered Deployment runs it (UID 65532, read-only root, no capabilities, args replacing Cmd).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface BuiltImage {
  dir: string;
  env: Record<string, string>;
  /** The OCI image config (Entrypoint, Cmd, User, ...). */
  config: { User?: string; Entrypoint?: string[]; Cmd?: string[]; WorkingDir?: string; Env?: string[]; Labels?: Record<string, string> };
  manifest: { config: { digest: string }; layers: Array<{ digest: string; size: number }> };
  digest: string;
}

/** XAPI_IMAGE_DIR (scripts/test.sh builds first), else `bash scripts/image.sh` (cached by content). */
export async function buildImage(): Promise<BuiltImage> {
  let dir = process.env.XAPI_IMAGE_DIR;
  if (!dir) {
    const { stdout } = await run('bash', [join(ROOT, 'scripts/image.sh')], { cwd: ROOT, maxBuffer: 64 << 20, timeout: 20 * 60_000 });
    dir = stdout.trim().split('\n').pop()!;
  }
  if (!existsSync(join(dir, 'image.env'))) throw new Error(`${dir} holds no built image (image.env missing): run bash scripts/image.sh`);
  const env = Object.fromEntries(
    readFileSync(join(dir, 'image.env'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const blob = (digest: string) => JSON.parse(readFileSync(join(dir!, 'oci', 'blobs', 'sha256', digest.replace(/^sha256:/, '')), 'utf8'));
  const index = JSON.parse(readFileSync(join(dir, 'oci', 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const digest = index.manifests[0]!.digest;
  const manifest = blob(digest) as BuiltImage['manifest'];
  const config = (blob(manifest.config.digest) as { config: BuiltImage['config'] }).config;
  return { dir, env, config, manifest, digest };
}

/** umoci unpack: the image's root filesystem plus umoci's runtime config.json for it. */
export async function unpack(image: BuiltImage, bundle: string): Promise<void> {
  await run('umoci', ['unpack', '--image', `${join(image.dir, 'oci')}:${image.env.TAG}`, bundle], { maxBuffer: 16 << 20 });
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

interface RuntimeSpec {
  process: { terminal?: boolean; args: string[]; env: string[]; user: { uid: number; gid: number }; capabilities?: Record<string, string[]>; noNewPrivileges?: boolean };
  root: { path: string; readonly?: boolean };
  mounts: Array<{ destination: string; type?: string; source?: string; options?: string[] }>;
  linux: { namespaces: Array<{ type: string }>; resources?: unknown; cgroupsPath?: string };
}

export interface RunOptions {
  bundle: string;
  /** the arguments that replace the image's Cmd, as the Deployment's `args` do */
  args: string[];
  env: Record<string, string>;
  /** host folder mounted read-only at /run/xapi (the kubeconfig, as a Secret volume would be) */
  secretDir: string;
}

/**
 * Rewrites umoci's config.json: args = Entrypoint + args; read-only root; every capability dropped;
 * the host's network namespace (the test API servers listen on 127.0.0.1); no cgroup limits
 * (crun runs with its cgroup manager disabled, below).
 */
export function prepareBundle(image: BuiltImage, o: RunOptions): RuntimeSpec {
  const path = join(o.bundle, 'config.json');
  const spec = JSON.parse(readFileSync(path, 'utf8')) as RuntimeSpec;
  spec.process.terminal = false;
  spec.process.args = [...(image.config.Entrypoint ?? []), ...o.args];
  spec.process.env = [...spec.process.env, ...Object.entries(o.env).map(([k, v]) => `${k}=${v}`)];
  spec.process.capabilities = { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] };
  spec.process.noNewPrivileges = true;
  spec.root.readonly = true;
  spec.linux.namespaces = spec.linux.namespaces.filter((n) => n.type !== 'network');
  delete spec.linux.resources;
  delete spec.linux.cgroupsPath;
  spec.mounts.push({ destination: '/run/xapi', type: 'bind', source: o.secretDir, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] });
  writeFileSync(path, JSON.stringify(spec, null, 2));
  return spec;
}

/** A kubeconfig the container's UID can read, in a folder of its own to mount. */
export function secretFolder(dir: string, kubeconfig: string): string {
  mkdirSync(dir, { recursive: true });
  copyFileSync(kubeconfig, join(dir, 'kubeconfig'));
  chmodSync(join(dir, 'kubeconfig'), 0o644);
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * crun 1.8 (Debian bookworm) refuses a host whose cgroup v2 hierarchy has controllers next to v1
 * ("cgroups in hybrid mode not supported"), as these machines do. It runs in a private mount
 * namespace where /sys/fs/cgroup is an empty tmpfs, with its cgroup manager disabled: every other
 * isolation (pid, mount, ipc, uts namespaces, read-only root, no capabilities) is crun's own.
 */
export function startContainer(stateDir: string, bundle: string, id: string): ChildProcess {
  mkdirSync(stateDir, { recursive: true });
  return spawn(
    'unshare',
    ['--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t tmpfs xapi-no-cgroups /sys/fs/cgroup && exec crun --cgroup-manager=disabled --root "$1" run --bundle "$2" "$3"', 'sh', stateDir, bundle, id],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

export async function containerPid(stateDir: string, id: string): Promise<number | undefined> {
  try {
    const { stdout } = await run('crun', ['--root', stateDir, 'state', id]);
    const state = JSON.parse(stdout) as { pid?: number; status?: string };
    return state.status === 'running' ? state.pid : undefined;
  } catch {
    return undefined;
  }
}

export async function killContainer(stateDir: string, id: string, signal: string): Promise<void> {
  await run('crun', ['--root', stateDir, 'kill', id, signal]);
}

export async function deleteContainer(stateDir: string, id: string): Promise<void> {
  await run('crun', ['--root', stateDir, 'delete', '--force', id]).catch(() => undefined);
}
