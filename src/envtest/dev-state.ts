// The record `xapi dev up` leaves in its folder (state.json) so that a later `xapi dev down` — a
// different process — can find and stop the detached control planes.
import { existsSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlane } from './control-plane.js';
import { commandLine, isAlive, stopGroup } from './processes.js';

export interface DevCluster {
  name: string;
  server: string;
  kubeconfig: string;
  dir: string;
  etcd: { pid: number; port: number; bin: string };
  apiserver: { pid: number; port: number; bin: string };
}

export interface DevState {
  version: 1;
  startedAt: string;
  kubectl: string;
  clusters: DevCluster[];
}

export const STATE_FILE = 'state.json';
export const CLUSTER_LETTERS = ['a', 'b'] as const;

export function readState(dir: string): DevState | undefined {
  const path = join(dir, STATE_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as DevState;
    if (s.version !== 1 || !Array.isArray(s.clusters)) throw new Error('unknown format');
    return s;
  } catch (err) {
    throw new Error(`${path} is not a state file of xapi dev (${(err as Error).message}); remove it if nothing runs there`);
  }
}

export function writeState(dir: string, state: DevState): void {
  writeFileSync(join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
}

export function devCluster(plane: ControlPlane, kubeconfig: string, bins: { etcd: string; apiserver: string }): DevCluster {
  return {
    name: plane.name,
    server: plane.server,
    kubeconfig,
    dir: plane.dir,
    etcd: { pid: plane.etcd.pid, port: plane.etcd.port, bin: bins.etcd },
    apiserver: { pid: plane.apiserver.pid, port: plane.apiserver.port, bin: bins.apiserver },
  };
}

/** A recorded PID counts only while it still runs the recorded binary (PIDs get reused). */
function ours(p: { pid: number; bin: string }): boolean {
  if (!isAlive(p.pid)) return false;
  const cmd = commandLine(p.pid);
  return cmd === undefined || cmd.startsWith(p.bin);
}

export function runningProcesses(state: DevState): number[] {
  return state.clusters.flatMap((c) => [c.apiserver, c.etcd]).filter(ours).map((p) => p.pid);
}

export function allRunning(state: DevState): boolean {
  return state.clusters.every((c) => ours(c.apiserver) && ours(c.etcd));
}

/** Stops what still runs and removes only what `dev up` created in dir (never dir's other files). */
export async function tearDown(dir: string, state: DevState | undefined): Promise<void> {
  for (const c of state?.clusters ?? []) {
    if (ours(c.apiserver)) await stopGroup(c.apiserver.pid);
    if (ours(c.etcd)) await stopGroup(c.etcd.pid);
  }
  for (const l of CLUSTER_LETTERS) {
    rmSync(join(dir, l), { recursive: true, force: true });
    rmSync(join(dir, `kubeconfig-${l}`), { force: true });
  }
  rmSync(join(dir, STATE_FILE), { force: true });
  try {
    rmdirSync(dir); // only when empty
  } catch {
    // the user keeps other files there
  }
}
