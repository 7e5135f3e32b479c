// remember() takes the answer to the operator's own write into the cache without a watch event
// (the event for that version comes later and is dropped as an echo). onRemember tells the
// operator what changed that way: an ID ACK reported meanwhile may arrive only in that answer.
import { KubeConfig } from '@kubernetes/client-node';
import { statusMovedUnseen, type LiveObject } from '../../../src/reconciler/observed.js';
import { ListWatch } from '../../../src/reconciler/watch.js';

const sg = (rv: string, id?: string): LiveObject => ({
  apiVersion: 'ec2.services.k8s.aws/v1alpha1',
  kind: 'SecurityGroup',
  metadata: { name: 'caller', namespace: 'team-a', resourceVersion: rv },
  spec: { name: 'caller' },
  status: id ? { id } : {},
});

/** A security group watch that is never started: only remember() feeds it. */
const sgWatch = (onRemember: (obj: LiveObject, old: LiveObject | undefined) => void) =>
  new ListWatch({
    kc: new KubeConfig(),
    path: '/apis/ec2.services.k8s.aws/v1alpha1/securitygroups',
    list: async () => ({ items: [] }),
    kind: 'SecurityGroup',
    apiVersion: 'ec2.services.k8s.aws/v1alpha1',
    onRemember,
  });

it('remember() reports what it took and what it replaced; an older answer is neither taken nor reported', () => {
  const seen: Array<[string | undefined, string | undefined]> = [];
  const lw = sgWatch((obj, old) => seen.push([obj.status?.id as string | undefined, old?.status?.id as string | undefined]));
  lw.remember(sg('5'));
  lw.remember(sg('9', 'sg-1')); // the answer to a later write carries the ID ACK wrote at 8
  lw.remember(sg('7')); // an older answer arriving late
  expect(seen).toEqual([
    [undefined, undefined],
    ['sg-1', undefined],
  ]);
  expect(lw.get('team-a', 'caller')?.status?.id).toBe('sg-1');
});

it("an answer whose status the cache had not seen tells the owner's pass to run again; the operator's ordinary writes do not", () => {
  const moved: boolean[] = [];
  const lw = sgWatch((obj, old) => moved.push(statusMovedUnseen(obj, old)));
  lw.remember(sg('5')); // the create's answer: nothing cached before
  lw.remember(sg('6')); // a spec write: the status is the cached one
  lw.remember(sg('9', 'sg-1')); // ACK wrote the ID at 8; its event will be dropped as an echo
  lw.remember(sg('10', 'sg-1')); // the next own write: that status is known now
  expect(moved).toEqual([false, false, true, false]);
});

it('statusMovedUnseen compares whole statuses, conditions included', () => {
  const ready = (status: string): LiveObject => ({ ...sg('3', 'sg-1'), status: { id: 'sg-1', conditions: [{ type: 'ACK.ResourceSynced', status }] } });
  expect(statusMovedUnseen(ready('True'), ready('False'))).toBe(true);
  expect(statusMovedUnseen(ready('True'), ready('True'))).toBe(false);
  expect(statusMovedUnseen(sg('4'), { ...sg('3'), status: undefined } as LiveObject)).toBe(false); // {} and absent are one
});
