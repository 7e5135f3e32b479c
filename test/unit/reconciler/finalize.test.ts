import { stageHeld } from '../../../src/reconciler/finalize.js';
import type { LiveObject } from '../../../src/reconciler/observed.js';

const NS = 'team-b';
const obj = (kind: string, name: string, conditions?: Array<{ type: string; status: string }>, spec: Record<string, unknown> = {}): LiveObject => ({
  apiVersion: kind === 'RestAPI' || kind === 'Deployment' || kind === 'Stage' ? 'apigateway.services.k8s.aws/v1alpha1' : 'v1',
  kind,
  metadata: { name, namespace: NS },
  spec,
  ...(conditions && { status: { conditions } }),
});
const synced = (s: string) => [{ type: 'ACK.ResourceSynced', status: s }];
const stage = obj('Stage', 'orders-stage', synced('True'), { stageName: 'prod', restAPIRef: { from: { name: 'orders-api' } }, deploymentRef: { from: { name: 'orders-deploy-1' } } });

describe('stageHeld', () => {
  it('lets a Stage go when ACK reports its RestAPI and Deployment synced', () => {
    expect(stageHeld(stage, [stage, obj('RestAPI', 'orders-api', synced('True')), obj('Deployment', 'orders-deploy-1', synced('True'))])).toBeUndefined();
  });

  it('holds it while its RestAPI is being updated (ACK would skip DeleteStage)', () => {
    expect(stageHeld(stage, [stage, obj('RestAPI', 'orders-api', synced('False')), obj('Deployment', 'orders-deploy-1', synced('True'))])).toBe(
      "RestAPI/orders-api to be synced in ACK (ACK resolves the Stage's references before deleting it)",
    );
  });

  it('holds it while the Deployment it serves is Terminal or unsynced', () => {
    const terminal = [{ type: 'ACK.Terminal', status: 'True' }, { type: 'ACK.ResourceSynced', status: 'True' }];
    expect(stageHeld(stage, [stage, obj('RestAPI', 'orders-api', synced('True')), obj('Deployment', 'orders-deploy-1', terminal)])).toMatch(/^Deployment\/orders-deploy-1 /);
    expect(stageHeld(stage, [stage, obj('RestAPI', 'orders-api', synced('True')), obj('Deployment', 'orders-deploy-1', synced('False'))])).toMatch(/^Deployment\/orders-deploy-1 /);
  });

  it('does not hold for what ACK does not report, for references gone, or for other kinds', () => {
    expect(stageHeld(stage, [stage, obj('RestAPI', 'orders-api'), obj('Deployment', 'orders-deploy-1', [{ type: 'Ready', status: 'True' }])])).toBeUndefined();
    expect(stageHeld(stage, [stage])).toBeUndefined();
    expect(stageHeld(obj('Deployment', 'orders-deploy-1', synced('False')), [obj('RestAPI', 'orders-api', synced('False'))])).toBeUndefined();
  });
});
