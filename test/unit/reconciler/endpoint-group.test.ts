import { ACK } from '../../../src/api/ack.js';
import { changesGroup, readByGroup } from '../../../src/reconciler/endpoint-group.js';
import type { LiveObject } from '../../../src/reconciler/observed.js';

const obj = (kind: keyof typeof ACK, status: Record<string, unknown>, spec: Record<string, unknown> = {}): LiveObject => ({
  apiVersion: ACK[kind].apiVersion,
  kind: ACK[kind].kind,
  metadata: { name: 'x', namespace: 'team-a' },
  spec,
  status,
});
const synced = (at: string) => ({ conditions: [{ type: 'ACK.ResourceSynced', status: 'True', lastTransitionTime: at }] });

describe('changesGroup (which member events wake its endpoint group)', () => {
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
    expect(changesGroup('MODIFIED', after, before)).toBe(false);
  });

  it('wakes the group when an ID it reads appears or changes', () => {
    expect(changesGroup('MODIFIED', obj('RestAPI', { id: 'abc123' }), obj('RestAPI', {}))).toBe(true);
    expect(changesGroup('MODIFIED', obj('RestAPI', { id: 'def456' }), obj('RestAPI', { id: 'abc123' }))).toBe(true);
    expect(changesGroup('MODIFIED', obj('Role', { ackResourceMetadata: { arn: 'arn:aws:iam::1:role/r' } }), obj('Role', {}))).toBe(true);
    expect(changesGroup('MODIFIED', obj('SecurityGroup', { id: 'sg-2' }), obj('SecurityGroup', { id: 'sg-1' }))).toBe(true);
    expect(changesGroup('MODIFIED', obj('SecurityGroup', { id: 'sg-1', ...synced('t2') }), obj('SecurityGroup', { id: 'sg-1' }))).toBe(false);
  });

  it('wakes the group when a member object comes or goes, whatever its status', () => {
    const api = obj('RestAPI', { id: 'abc123' });
    expect(changesGroup('ADDED', api, undefined)).toBe(true);
    expect(changesGroup('DELETED', api, api)).toBe(true);
    // A cache that had not seen it before: treated as new.
    expect(changesGroup('MODIFIED', api, undefined)).toBe(true);
  });

  it('never for kinds the group reads nothing from', () => {
    expect(changesGroup('ADDED', obj('VPCEndpoint', { vpcEndpointID: 'vpce-1' }), undefined)).toBe(false);
    expect(changesGroup('DELETED', obj('Stage', {}), obj('Stage', {}))).toBe(false);
  });
});
