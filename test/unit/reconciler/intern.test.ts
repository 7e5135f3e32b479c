import { INTERN_MAX_LENGTH, StringPool } from '../../../src/reconciler/intern.js';

// Two strings with equal text from two JSON.parse calls are two heap objects; the pool makes the
// second the first. Identity of strings is not observable in JS, so the test counts pool entries.
const objectText = (name: string) =>
  JSON.stringify({
    apiVersion: 'ec2.services.k8s.aws/v1alpha1',
    kind: 'SecurityGroup',
    metadata: { name, namespace: 'account-a', uid: `uid-${name}`, resourceVersion: `${name.length}7`, labels: { 'xapi.dev/owner': 'xapi-system.orders' } },
    spec: { description: 'x'.repeat(INTERN_MAX_LENGTH + 1), ingressRules: [{ fromPort: 443, userIDGroupPairs: [{ groupID: 'sg-1' }] }], tags: ['a', 'a'] },
    status: { conditions: [{ type: 'ACK.ResourceSynced', status: 'True', lastTransitionTime: `2026-11-26T00:00:0${name.length % 10}Z` }] },
  });

describe('StringPool', () => {
  it('keeps one entry per repeated short value, skips unique fields and long strings, and changes no value', () => {
    const pool = new StringPool();
    const a = pool.intern(JSON.parse(objectText('one')));
    const sizeAfterOne = pool.size;
    const b = pool.intern(JSON.parse(objectText('two')));
    // the second object adds only its name: everything else it holds was pooled already
    expect(pool.size).toBe(sizeAfterOne + 1);
    expect(a).toEqual(JSON.parse(objectText('one')));
    expect(b).toEqual(JSON.parse(objectText('two')));
    // apiVersion, kind, name, namespace, the label value, the group ID, 'a', the condition's type
    // and status: uid, resourceVersion, lastTransitionTime and the long description stay out
    expect(sizeAfterOne).toBe(9);
  });

  it('starts over past its bound', () => {
    const pool = new StringPool(10);
    for (let i = 0; i < 25; i++) pool.string(`s${i}`);
    expect(pool.size).toBeLessThanOrEqual(10);
  });
});
