import { ACK } from '../../../src/api/ack.js';
import { changesGroupObject, memberChangesGroup, readByGroup } from '../../../src/reconciler/endpoint-group.js';
import type { LiveObject } from '../../../src/reconciler/observed.js';

const obj = (kind: keyof typeof ACK, status: Record<string, unknown>, spec: Record<string, unknown> = {}): LiveObject => ({
  apiVersion: ACK[kind].apiVersion,
  kind: ACK[kind].kind,
  metadata: { name: 'x', namespace: 'team-a' },
  spec,
  status,
});
const synced = (at: string) => ({ conditions: [{ type: 'ACK.ResourceSynced', status: 'True', lastTransitionTime: at }] });

describe('memberChangesGroup (which member events wake its endpoint group)', () => {
  it('reads the RestAPI ID, the Role ARN and a security group ID, nothing of other kinds', () => {
    expect(readByGroup(obj('RestAPI', { id: 'abc123' }))).toEqual({ id: 'abc123' });
    expect(readByGroup(obj('Role', { ackResourceMetadata: { arn: 'arn:aws:iam::111111111111:role/r' } }))).toEqual({ id: 'arn:aws:iam::111111111111:role/r' });
    expect(readByGroup(obj('SecurityGroup', { id: 'sg-1' }))).toEqual({ id: 'sg-1' });
    expect(readByGroup(obj('RestAPI', {}))).toEqual({ id: undefined });
    expect(readByGroup(obj('VPCEndpoint', { vpcEndpointID: 'vpce-1' }))).toBeUndefined();
    expect(readByGroup(obj('Method', {}))).toBeUndefined();
  });

  it('ignores a RestAPI change that keeps its ID (a rotation rewriting the policy, an ACK sync)', () => {
    const before = obj('RestAPI', { id: 'abc123', ...synced('2026-11-27T10:00:00Z') }, { policy: '{"a":1}' });
    const after = obj('RestAPI', { id: 'abc123', ...synced('2026-11-27T10:00:05Z') }, { policy: '{"a":2}' });
    expect(memberChangesGroup('MODIFIED', after, before)).toBe(false);
  });

  it('wakes the group when an ID it reads appears or changes', () => {
    expect(memberChangesGroup('MODIFIED', obj('RestAPI', { id: 'abc123' }), obj('RestAPI', {}))).toBe(true);
    expect(memberChangesGroup('MODIFIED', obj('RestAPI', { id: 'def456' }), obj('RestAPI', { id: 'abc123' }))).toBe(true);
    expect(memberChangesGroup('MODIFIED', obj('Role', { ackResourceMetadata: { arn: 'arn:aws:iam::1:role/r' } }), obj('Role', {}))).toBe(true);
    expect(memberChangesGroup('MODIFIED', obj('SecurityGroup', { id: 'sg-2' }), obj('SecurityGroup', { id: 'sg-1' }))).toBe(true);
    expect(memberChangesGroup('MODIFIED', obj('SecurityGroup', { id: 'sg-1', ...synced('t2') }), obj('SecurityGroup', { id: 'sg-1' }))).toBe(false);
  });

  it('wakes the group when a member object comes or goes, whatever its status', () => {
    const api = obj('RestAPI', { id: 'abc123' });
    expect(memberChangesGroup('ADDED', api, undefined)).toBe(true);
    expect(memberChangesGroup('DELETED', api, api)).toBe(true);
    // A cache that had not seen it before: treated as new.
    expect(memberChangesGroup('MODIFIED', api, undefined)).toBe(true);
  });

  it('never for kinds the group reads nothing from', () => {
    expect(memberChangesGroup('ADDED', obj('VPCEndpoint', { vpcEndpointID: 'vpce-1' }), undefined)).toBe(false);
    expect(memberChangesGroup('DELETED', obj('Stage', {}), obj('Stage', {}))).toBe(false);
  });
});

describe("changesGroupObject (which events of the group's own endpoint and security group wake it)", () => {
  const vpce = (status: Record<string, unknown>, spec: Record<string, unknown> = { vpcID: 'vpc-1', policyDocument: '{"p":1}' }, rv = '1') => ({
    ...obj('VPCEndpoint', status, spec),
    metadata: { name: 'x', namespace: 'team-a', resourceVersion: rv, generation: 1, labels: { 'xapi.dev/endpoint-group': 'g' } },
  });

  it("ignores ACK's status writes: a new endpoint ID, its state, a sync stamp", () => {
    expect(changesGroupObject('MODIFIED', vpce({ vpcEndpointID: 'vpce-2', state: 'available' }, undefined, '2'), vpce({ vpcEndpointID: 'vpce-1', state: 'available' }))).toBe(false);
    expect(changesGroupObject('MODIFIED', vpce({ vpcEndpointID: 'vpce-1', ...synced('t2') }, undefined, '3'), vpce({ vpcEndpointID: 'vpce-1' }))).toBe(false);
  });

  it('wakes the group for a change to what it applies (drift: another manager edits the policy), its metadata, or coming and going', () => {
    const before = vpce({ vpcEndpointID: 'vpce-1' });
    expect(changesGroupObject('MODIFIED', vpce({ vpcEndpointID: 'vpce-1' }, { vpcID: 'vpc-1', policyDocument: '{"p":2}' }, '2'), before)).toBe(true);
    const relabelled = { ...before, metadata: { ...before.metadata, resourceVersion: '2', labels: { other: 'x' } } };
    expect(changesGroupObject('MODIFIED', relabelled, before)).toBe(true);
    const deleting = { ...before, metadata: { ...before.metadata, resourceVersion: '2', deletionTimestamp: '2026-11-27T10:00:00Z' } };
    expect(changesGroupObject('MODIFIED', deleting, before)).toBe(true);
    expect(changesGroupObject('ADDED', before, undefined)).toBe(true);
    expect(changesGroupObject('DELETED', before, before)).toBe(true);
  });

  it("wakes the group when its security group's ID appears or changes (the render reads it), not for its other status", () => {
    expect(changesGroupObject('MODIFIED', obj('SecurityGroup', { id: 'sg-1' }), obj('SecurityGroup', {}))).toBe(true);
    expect(changesGroupObject('MODIFIED', obj('SecurityGroup', { id: 'sg-1', ...synced('t2') }), obj('SecurityGroup', { id: 'sg-1' }))).toBe(false);
  });
});
