// remember() takes the answer to the operator's own write into the cache without a watch event
// (the event for that version comes later and is dropped as an echo). onRemember tells the
// operator what changed that way: an ID ACK reported meanwhile may arrive only in that answer.
import { KubeConfig } from '@kubernetes/client-node';
import type { LiveObject } from '../../../src/reconciler/observed.js';
import { ListWatch } from '../../../src/reconciler/watch.js';

const sg = (rv: string, id?: string): LiveObject => ({
  apiVersion: 'ec2.services.k8s.aws/v1alpha1',
  kind: 'SecurityGroup',
  metadata: { name: 'caller', namespace: 'team-a', resourceVersion: rv },
  spec: { name: 'caller' },
  status: id ? { id } : {},
});

it('remember() reports what it took and what it replaced; an older answer is neither taken nor reported', () => {
  const seen: Array<[string | undefined, string | undefined]> = [];
  const lw = new ListWatch({
    kc: new KubeConfig(),
    path: '/apis/ec2.services.k8s.aws/v1alpha1/securitygroups',
    list: async () => ({ items: [] }),
    kind: 'SecurityGroup',
    apiVersion: 'ec2.services.k8s.aws/v1alpha1',
    onRemember: (obj, old) => seen.push([obj.status?.id as string | undefined, old?.status?.id as string | undefined]),
  });
  lw.remember(sg('5'));
  lw.remember(sg('9', 'sg-1')); // the answer to a later write carries the ID ACK wrote at 8
  lw.remember(sg('7')); // an older answer arriving late
  expect(seen).toEqual([
    [undefined, undefined],
    ['sg-1', undefined],
  ]);
  expect(lw.get('team-a', 'caller')?.status?.id).toBe('sg-1');
});
