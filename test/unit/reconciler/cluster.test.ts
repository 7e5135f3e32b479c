import { covers, upToDate } from '../../../src/reconciler/cluster.js';
import type { KubeObject } from '../../../src/api/types.js';

const desired: KubeObject = {
  apiVersion: 'apigateway.services.k8s.aws/v1alpha1',
  kind: 'RestAPI',
  metadata: { name: 'a', namespace: 'b', labels: { 'xapi.dev/owner': 'n.a' }, annotations: { 'xapi.dev/applied-hash': 'h1' } },
  spec: { name: 'api', policy: '{"x":1}', endpointConfiguration: { types: ['PRIVATE'] }, tags: { Project: 'p' } },
};
const live = () => ({
  apiVersion: 'apigateway.services.k8s.aws/v1alpha1',
  kind: 'RestAPI',
  metadata: { name: 'a', namespace: 'b', resourceVersion: '7', labels: { 'xapi.dev/owner': 'n.a', other: 'x' }, annotations: { 'xapi.dev/applied-hash': 'h1' } },
  spec: { name: 'api', policy: '{"x":1}', endpointConfiguration: { types: ['PRIVATE'] }, tags: { Project: 'p' }, extra: 'defaulted' },
  status: { id: 'abc' },
});

describe('upToDate', () => {
  it('is true when the live object holds every rendered field (extra fields allowed)', () => {
    expect(upToDate(live(), desired)).toBe(true);
  });
  it('is false for a changed field, a changed list, a missing label or another applied hash', () => {
    const l1 = live();
    l1.spec.policy = '{"x":2}';
    expect(upToDate(l1, desired)).toBe(false);
    const l2 = live();
    l2.spec.endpointConfiguration.types = ['PRIVATE', 'REGIONAL'];
    expect(upToDate(l2, desired)).toBe(false);
    const l3 = live();
    delete (l3.metadata.labels as Record<string, string>)['xapi.dev/owner'];
    expect(upToDate(l3, desired)).toBe(false);
    const l4 = live();
    l4.metadata.annotations['xapi.dev/applied-hash'] = 'h0';
    expect(upToDate(l4, desired)).toBe(false);
    expect(upToDate(undefined, desired)).toBe(false);
  });
  it('covers compares arrays element-wise and scalars exactly', () => {
    expect(covers([{ a: 1, b: 2 }], [{ a: 1 }])).toBe(true);
    expect(covers([{ a: 1 }], [{ a: 1 }, { a: 2 }])).toBe(false);
    expect(covers(1, '1')).toBe(false);
  });
});
