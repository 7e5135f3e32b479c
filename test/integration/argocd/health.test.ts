// The argocd-cm health checks xapi ships, run by Argo CD's own Lua engine (`argocd admin settings
// resource-overrides health`) on objects as ACK and the operator leave them. No cluster needed:
// the answer is what the application controller would show, and what holds a sync wave back.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { ACK, type AckKindName } from '../../../src/api/ack.js';
import { API_VERSION, KIND } from '../../../src/api/types.js';
import { healthChecks } from '../../../src/charts/argocd-health.js';
import { argoCdAssets } from '../../../src/envtest/index.js';

const run = promisify(execFile);
const { argocd } = argoCdAssets();
let dir: string;
let cmPath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xapi-health-'));
  cmPath = join(dir, 'argocd-cm.yaml');
  writeFileSync(cmPath, stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'argocd-cm', namespace: 'argocd' }, data: healthChecks() }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function health(obj: Record<string, unknown>): Promise<{ status: string; message: string }> {
  const file = join(dir, `obj-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(obj));
  const { stdout } = await run(argocd, ['admin', 'settings', 'resource-overrides', 'health', file, '--argocd-cm-path', cmPath], { timeout: 60_000 });
  const status = /^STATUS: (.*)$/m.exec(stdout)?.[1] ?? '';
  const message = /^MESSAGE: (.*)$/m.exec(stdout)?.[1] ?? '';
  return { status, message };
}

const ack = (kind: AckKindName, status: Record<string, unknown>) => ({
  apiVersion: `${ACK[kind].group}/${ACK[kind].version}`,
  kind: ACK[kind].kind,
  metadata: { name: 'x', namespace: 'b' },
  status,
});
const owner = { ackResourceMetadata: { ownerAccountID: '222222222222', region: 'us-east-1' } };
const cond = (type: string, status: string, message?: string) => ({ type, status, ...(message && { message }) });

describe('Argo CD health of ACK objects (Argo CD v3.5.1 Lua engine)', () => {
  it('a Method AWS created (owner account, no error) is Healthy: the next wave may start', async () => {
    await expect(health(ack('Method', { ...owner, conditions: [cond('ACK.ResourceSynced', 'False')] }))).resolves.toEqual({ status: 'Healthy', message: 'created in AWS' });
  });

  it('a Method whose create AWS refused is not Healthy, although ACK wrote the owner account', async () => {
    const h = await health(ack('Method', { ...owner, conditions: [cond('ACK.Recoverable', 'True', 'NotFoundException: Invalid Resource identifier specified')] }));
    expect(h).toEqual({ status: 'Progressing', message: 'NotFoundException: Invalid Resource identifier specified' });
  });

  it('a Terminal Integration is Degraded with ACK\'s message', async () => {
    const h = await health(ack('Integration', { ...owner, conditions: [cond('ACK.Terminal', 'True', 'BadRequestException: No integration defined for method')] }));
    expect(h).toEqual({ status: 'Degraded', message: 'BadRequestException: No integration defined for method' });
  });

  it('a VPCEndpoint needs Ready, not only the owner account (it is not a "created is enough" kind)', async () => {
    await expect(health(ack('VPCEndpoint', { ...owner }))).resolves.toMatchObject({ status: 'Progressing' });
    await expect(health(ack('VPCEndpoint', { ...owner, conditions: [cond('Ready', 'True')] }))).resolves.toEqual({ status: 'Healthy', message: 'in sync with AWS' });
  });
});

describe('Argo CD health of a CrossAccountApi', () => {
  const cr = (generation: number, status: Record<string, unknown>) => ({ apiVersion: API_VERSION, kind: KIND, metadata: { name: 'orders', namespace: 'xapi-system', generation }, spec: {}, status });

  it('Healthy only when Ready for the current generation', async () => {
    const ready = { observedGeneration: 2, layers: '4/4', conditions: [cond('Ready', 'True')] };
    await expect(health(cr(2, ready))).resolves.toEqual({ status: 'Healthy', message: 'Ready, layers 4/4' });
    await expect(health(cr(3, ready))).resolves.toEqual({ status: 'Progressing', message: 'the operator has not seen this generation yet' });
  });

  it('Degraded on a spec the operator rejects', async () => {
    const h = await health(cr(1, { observedGeneration: 1, conditions: [{ ...cond('Ready', 'False', 'spec.region: must be an AWS region'), reason: 'InvalidSpec' }] }));
    expect(h).toEqual({ status: 'Degraded', message: 'spec.region: must be an AWS region' });
  });
});
