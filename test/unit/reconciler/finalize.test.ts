import { finalize, stageHeld, stagePinned } from '../../../src/reconciler/finalize.js';
import { FakeCluster } from './fakes.js';
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

describe('stagePinned', () => {
  const withId = (o: LiveObject, id: string): LiveObject => ({ ...o, status: { ...(o.status ?? {}), id } });
  const api = withId(obj('RestAPI', 'orders-api', synced('True')), 'a1b2c3d4e5');
  const deployment = withId(obj('Deployment', 'orders-deploy-1', synced('True')), 'dep123');

  it('replaces both references with the IDs ACK reports', () => {
    expect(stagePinned(stage, [stage, api, deployment])).toEqual({ restAPIRef: null, deploymentRef: null, restAPIID: 'a1b2c3d4e5', deploymentID: 'dep123' });
  });

  it('leaves the Stage as it is when an ID is not reported, or it names no reference', () => {
    expect(stagePinned(stage, [stage, api, obj('Deployment', 'orders-deploy-1', synced('True'))])).toBeUndefined();
    expect(stagePinned(stage, [stage, deployment])).toBeUndefined();
    // a Deployment of the same name in another namespace is not the one referenced
    expect(stagePinned(stage, [stage, api, { ...deployment, metadata: { name: 'orders-deploy-1', namespace: 'elsewhere' } }])).toBeUndefined();
    expect(stagePinned(obj('Stage', 'orders-stage', synced('True'), { stageName: 'prod', restAPIID: 'a1b2c3d4e5', deploymentID: 'dep123' }), [api, deployment])).toBeUndefined();
    expect(stagePinned(deployment, [stage, api, deployment])).toBeUndefined();
  });

  it('a deletion pass pins the Stage, then deletes it; a Stage without IDs is deleted as it is', async () => {
    const cr = { apiVersion: 'xapi.dev/v1alpha1', kind: 'CrossAccountApi', metadata: { name: 'orders', namespace: 'team-a', finalizers: ['xapi.dev/finalizer'] }, spec: {} } as never;
    const owned = (o: LiveObject): LiveObject => ({ ...o, metadata: { ...o.metadata, labels: { 'xapi.dev/owner': 'team-a.orders' } } });
    const writer = { removeFinalizer: async (c: never) => c, writeStatus: async () => undefined };
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const b = new FakeCluster('b');
    for (const o of [stage, api, deployment]) b.put(owned(structuredClone(o)));
    const sides = [{ side: 'provider', resolution: { state: 'ready', cluster: b, deps: [] } }] as never;
    const result = await finalize(cr, sides, writer as never, log, new Date());
    expect(result.done).toBe(false);
    expect(b.writes).toEqual([`patch Stage/${NS}/orders-stage`, `delete Stage/${NS}/orders-stage`]);

    const c = new FakeCluster('c');
    for (const o of [stage, api, obj('Deployment', 'orders-deploy-1', synced('True'))]) c.put(owned(structuredClone(o)));
    await finalize(cr, [{ side: 'provider', resolution: { state: 'ready', cluster: c, deps: [] } }] as never, writer as never, log, new Date());
    expect(c.writes).toEqual([`delete Stage/${NS}/orders-stage`]);
  });
});
