// Writes to a CrossAccountApi itself. Each is a patch of the one field the operator owns — never
// a PUT of a cached copy, which would undo a user's edit made meanwhile — and none is sent when
// the value would not change.

import { CONDITION, FINALIZER, GROUP, PLURAL, VERSION, type CrossAccountApi, type CrossAccountApiStatus } from '../api/types.js';
import { errText, resourcePath, type ConnectedKubeConfig } from './kube.js';
import type { Logger } from './apply.js';
import { eventTransitions, statusChanged } from './status.js';

export type CrWrite = 'finalizer' | 'status' | 'event';

const CRS = { group: GROUP, version: VERSION, plural: PLURAL };
const EVENTS = { group: '', version: 'v1', plural: 'events' };
const JSON_PATCH = 'application/json-patch+json';

export class CrWriter {
  constructor(
    private readonly kc: ConnectedKubeConfig,
    private readonly log: Logger,
    private readonly now: () => Date,
    /** Every write made, so a cache can take the new object at once. */
    private readonly written: (cr: CrossAccountApi) => void,
    private readonly count: (what: CrWrite) => void = () => {},
  ) {}

  /** Add the finalizer (JSON patch: a concurrent change to the list fails the test, and is retried). */
  async addFinalizer(cr: CrossAccountApi): Promise<CrossAccountApi> {
    const list = cr.metadata.finalizers;
    if (list?.includes(FINALIZER)) return cr;
    const ops = list && list.length > 0
      ? [{ op: 'test', path: '/metadata/finalizers', value: list }, { op: 'add', path: '/metadata/finalizers/-', value: FINALIZER }]
      : [{ op: 'add', path: '/metadata/finalizers', value: [FINALIZER] }];
    return this.patch(cr, ops, 'finalizer');
  }

  async removeFinalizer(cr: CrossAccountApi): Promise<CrossAccountApi> {
    const list = cr.metadata.finalizers ?? [];
    const i = list.indexOf(FINALIZER);
    if (i < 0) return cr;
    return this.patch(cr, [{ op: 'test', path: `/metadata/finalizers/${i}`, value: FINALIZER }, { op: 'remove', path: `/metadata/finalizers/${i}` }], 'finalizer');
  }

  private async patch(cr: CrossAccountApi, ops: object[], what: CrWrite): Promise<CrossAccountApi> {
    this.count(what);
    const res = await this.kc.write<CrossAccountApi>({ method: 'PATCH', path: resourcePath(CRS, cr.metadata.namespace!, cr.metadata.name), body: ops, contentType: JSON_PATCH });
    this.written(res);
    return res;
  }

  /** Replace the status (the operator owns all of it) when it differs; Events for flipped conditions. */
  async writeStatus(cr: CrossAccountApi, status: CrossAccountApiStatus): Promise<CrossAccountApi> {
    if (!statusChanged(cr.status, status)) return cr;
    this.count('status');
    const res = await this.kc.write<CrossAccountApi>({
      method: 'PATCH',
      path: resourcePath(CRS, cr.metadata.namespace!, cr.metadata.name, 'status'),
      body: [{ op: 'add', path: '/status', value: status }],
      contentType: JSON_PATCH,
    });
    this.written(res);
    for (const c of eventTransitions(cr.status, status)) {
      const warn = (c.type === CONDITION.Ready && c.status === 'False') || (c.type === CONDITION.Degraded && c.status === 'True');
      await this.event(res, warn ? 'Warning' : 'Normal', c.reason, `${c.type}=${c.status}: ${c.message}`);
    }
    return res;
  }

  private async event(cr: CrossAccountApi, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = this.now();
    this.count('event');
    try {
      await this.kc.write({
        method: 'POST',
        path: resourcePath(EVENTS, cr.metadata.namespace!),
        contentType: 'application/json',
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { generateName: `${cr.metadata.name}.`, namespace: cr.metadata.namespace },
          involvedObject: { apiVersion: cr.apiVersion, kind: cr.kind, name: cr.metadata.name, namespace: cr.metadata.namespace, uid: cr.metadata.uid },
          type,
          reason,
          message: message.slice(0, 1024),
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          source: { component: 'xapi-operator' },
          reportingComponent: 'xapi-operator',
        },
      });
    } catch (err) {
      this.log.warn({ err: errText(err) }, 'could not record event');
    }
  }
}
