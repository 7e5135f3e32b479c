import { computeStatus, eventTransitions, statusChanged, transitions, invalidSpecStatus, type Expected } from '../../../src/reconciler/status.js';
import type { CrossAccountApi } from '../../../src/api/types.js';

const cr = { apiVersion: 'xapi.dev/v1alpha1', kind: 'CrossAccountApi', metadata: { name: 'o', namespace: 'n', generation: 3 }, spec: {} } as unknown as CrossAccountApi;
const expected: Expected[] = [
  { kind: 'SecurityGroup', name: 'sg1' },
  { kind: 'SecurityGroup', name: 'sg2' },
  { kind: 'VPCEndpoint', name: 'vpce' },
  { kind: 'RestAPI', name: 'api' },
  { kind: 'Role', name: 'role' },
  { kind: 'Method', name: 'm' },
];
const ready = (kind: string, name: string) => ({ kind, metadata: { name }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
const allLive = () => expected.map((e) => ready(e.kind, e.name));
const t1 = new Date('2026-01-01T00:00:00Z');
const t2 = new Date('2026-01-01T00:01:00Z');
const base = { cr, expected, endpoint: { id: 'vpce-1', state: 'available' }, allowed: [{ id: 'vpce-1' }], problems: [], now: t1 };
const get = (s: ReturnType<typeof computeStatus>, type: string) => s.conditions!.find((c) => c.type === type)!;

describe('computeStatus', () => {
  it('is Ready with 4/4 when every object reports Ready', () => {
    const s = computeStatus({ ...base, live: allLive() });
    expect(s.layers).toBe('4/4');
    expect(get(s, 'Ready')).toMatchObject({ status: 'True', observedGeneration: 3 });
    expect(get(s, 'Degraded').status).toBe('False');
    expect(s.observedGeneration).toBe(3);
  });

  it('names the missing or pending object per layer', () => {
    const live = allLive().filter((o) => o.kind !== 'VPCEndpoint');
    const s = computeStatus({ ...base, live });
    expect(s.layers).toBe('3/4');
    expect(get(s, 'EndpointPolicyReady')).toMatchObject({ status: 'False', reason: 'Pending', message: 'VPCEndpoint/vpce not created yet' });
    expect(get(s, 'Ready')).toMatchObject({ status: 'False', reason: 'Pending' });
    expect(get(s, 'Ready').message).toContain('EndpointPolicyReady');
  });

  it('flags an object ACK created in another account than the side names (wrong CARM mapping)', () => {
    const withAccounts = { ...cr, spec: { consumer: { accountId: '111111111111' }, provider: { accountId: '222222222222' } } } as unknown as CrossAccountApi;
    const inAccount = (o: ReturnType<typeof ready>, account: string) => ({ ...o, status: { ...o.status, ackResourceMetadata: { ownerAccountID: account } } });
    const live = allLive().map((o) => inAccount(o, o.kind === 'RestAPI' || o.kind === 'Method' ? '222222222222' : '111111111111'));
    expect(get(computeStatus({ ...base, cr: withAccounts, live }), 'Ready').status).toBe('True');
    live[3] = inAccount(ready('RestAPI', 'api'), '123456789012');
    const s = computeStatus({ ...base, cr: withAccounts, live });
    expect(get(s, 'Ready')).toMatchObject({ status: 'False', reason: 'WrongAccount' });
    expect(get(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'WrongAccount' });
    expect(get(s, 'Degraded').message).toBe(
      "RestAPI/api was created in AWS account 123456789012, not 222222222222: check the namespace's services.k8s.aws/owner-account-id annotation and ACK's ack-role-account-map",
    );
    expect(get(s, 'ResourcePolicyReady').status).toBe('False');
  });

  it('reports an ACK.Terminal object as Degraded with its message', () => {
    const live = allLive();
    live[3] = { kind: 'RestAPI', metadata: { name: 'api' }, status: { conditions: [{ type: 'ACK.Terminal', status: 'True', message: 'InvalidParameter: policy' }] } } as never;
    const s = computeStatus({ ...base, live });
    expect(get(s, 'Ready')).toMatchObject({ status: 'False', reason: 'Terminal', message: 'RestAPI/api: InvalidParameter: policy' });
    expect(get(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'Terminal' });
    expect(get(s, 'ResourcePolicyReady').status).toBe('False');
  });

  it('reports cluster problems as Degraded', () => {
    const s = computeStatus({ ...base, live: allLive(), problems: [{ reason: 'ClusterUnreachable', message: 'cluster-b: ECONNREFUSED' }] });
    expect(get(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'ClusterUnreachable', message: 'cluster-b: ECONNREFUSED' });
    expect(get(s, 'Ready')).toMatchObject({ status: 'False', reason: 'ClusterUnreachable' });
  });

  it('is not resource-policy ready while the current endpoint is not allowed', () => {
    const s = computeStatus({ ...base, live: allLive(), allowed: [{ id: 'vpce-0' }] });
    expect(get(s, 'ResourcePolicyReady')).toMatchObject({ status: 'False', reason: 'EndpointNotAllowed' });
  });

  it('keeps lastTransitionTime when nothing changed, so no write is needed', () => {
    const s1 = computeStatus({ ...base, live: allLive() });
    const s2 = computeStatus({ ...base, cr: { ...cr, status: s1 }, live: allLive(), now: t2 });
    expect(statusChanged(s1, s2)).toBe(false);
    expect(transitions(s1, s2)).toEqual([]);
    const s3 = computeStatus({ ...base, cr: { ...cr, status: s1 }, live: allLive().slice(1), now: t2 });
    expect(statusChanged(s1, s3)).toBe(true);
    expect(get(s3, 'SecurityGroupsReady').lastTransitionTime).toBe(t2.toISOString());
    expect(get(s3, 'IamAuthReady').lastTransitionTime).toBe(t1.toISOString());
    expect(transitions(s1, s3).map((c) => c.type).sort()).toEqual(['Ready', 'SecurityGroupsReady']);
  });

  it('raises Events for flips and first problems, not for the quiet first status', () => {
    const pending = computeStatus({ ...base, live: [] });
    expect(get(pending, 'Ready')).toMatchObject({ status: 'False', reason: 'Pending' });
    expect(eventTransitions(undefined, pending)).toEqual([]);
    const ready = computeStatus({ ...base, cr: { ...cr, status: pending }, live: allLive(), now: t2 });
    expect(eventTransitions(pending, ready).map((c) => `${c.type}=${c.status}`)).toEqual(['Ready=True']);
    const broken = computeStatus({ ...base, live: allLive(), problems: [{ reason: 'ClusterUnreachable', message: 'cluster-b: ECONNREFUSED' }] });
    expect(eventTransitions(undefined, broken).map((c) => `${c.type}=${c.status}`).sort()).toEqual(['Degraded=True', 'Ready=False']);
    expect(eventTransitions(ready, broken).map((c) => `${c.type}=${c.status}`).sort()).toEqual(['Degraded=True', 'Ready=False']);
  });

  it('invalidSpecStatus says InvalidSpec', () => {
    const s = invalidSpecStatus(cr, 'spec.x: bad', t1);
    expect(get(s, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec', message: 'spec.x: bad' });
  });
});

describe('AuditReady', () => {
  const auditExpected: Expected[] = [
    ...expected,
    { kind: 'LogGroup', name: 'flow-group', side: 'consumer', audit: 'flow-logs' },
    { kind: 'Role', name: 'flow-role', side: 'consumer', audit: 'flow-logs' },
    { kind: 'FlowLog', name: 'flow-1', side: 'consumer', audit: 'flow-logs' },
    { kind: 'LogGroup', name: 'access-group', side: 'provider', audit: 'access-logs' },
    { kind: 'EventDataStore', name: 'store', side: 'provider', audit: 'cloudtrail' },
  ];
  const arn = 'arn:aws:logs:us-east-1:222222222222:log-group:/xapi/access-logs/b/o';
  const audit = (over: Partial<NonNullable<Parameters<typeof computeStatus>[0]['audit']>> = {}) => ({
    enabled: { flowLogs: true, accessLogs: true, cloudTrail: true },
    flowLogsRendered: true,
    accessLog: { destinationArn: arn, stageExists: true, stageDestinationArn: arn },
    ...over,
  });
  const live = () => auditExpected.map((e) => ready(e.kind, e.name));

  it('is True when every audit object is Ready and the stage logs to the access log group', () => {
    const s = computeStatus({ ...base, expected: auditExpected, live: live(), audit: audit() });
    expect(get(s, 'AuditReady')).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(s.layers).toBe('4/4');
  });

  it('never decides Ready: a pending or terminal audit object shows in AuditReady only', () => {
    const l = live().filter((o) => o.metadata.name !== 'flow-1');
    const s = computeStatus({ ...base, expected: auditExpected, live: l, audit: audit() });
    expect(get(s, 'AuditReady')).toMatchObject({ status: 'False', reason: 'Pending', message: 'FlowLog/flow-1 not created yet' });
    expect(get(s, 'Ready').status).toBe('True');
    const t = live();
    t[t.length - 1] = { kind: 'EventDataStore', metadata: { name: 'store' }, status: { conditions: [{ type: 'ACK.Terminal', status: 'True', message: 'not supported' }] } } as never;
    const s2 = computeStatus({ ...base, expected: auditExpected, live: t, audit: audit() });
    expect(get(s2, 'AuditReady')).toMatchObject({ status: 'False', reason: 'Terminal' });
    expect(get(s2, 'Ready').status).toBe('True');
    expect(get(s2, 'Degraded').status).toBe('False');
  });

  it("the audit Role does not count in layer 4, and a LogGroup's account is its side's", () => {
    const withAccounts = { ...cr, spec: { consumer: { accountId: '111111111111' }, provider: { accountId: '222222222222' } } } as unknown as CrossAccountApi;
    const l = live().map((o) => ({ ...o, status: { ...o.status, ackResourceMetadata: { ownerAccountID: ['access-group', 'store', 'api', 'm'].includes(o.metadata.name) ? '222222222222' : '111111111111' } } }));
    const s = computeStatus({ ...base, cr: withAccounts, expected: auditExpected, live: l, audit: audit() });
    expect(get(s, 'AuditReady').status).toBe('True');
    const wrong = l.map((o) => (o.metadata.name === 'access-group' ? { ...o, status: { ...o.status, ackResourceMetadata: { ownerAccountID: '111111111111' } } } : o));
    const s2 = computeStatus({ ...base, cr: withAccounts, expected: auditExpected, live: wrong, audit: audit() });
    expect(get(s2, 'AuditReady')).toMatchObject({ status: 'False', reason: 'WrongAccount' });
    expect(get(s2, 'IamAuthReady').status).toBe('True');
  });

  it('says what is missing: ENI IDs, the stage, the access log settings (with the command), or everything switched off', () => {
    const at = (a: ReturnType<typeof audit>) => get(computeStatus({ ...base, expected: auditExpected, live: live(), audit: a }), 'AuditReady');
    expect(at(audit({ flowLogsRendered: false }))).toMatchObject({ status: 'False', reason: 'WaitingForNetworkInterfaces' });
    expect(at(audit({ accessLog: { destinationArn: arn, stageExists: false } }))).toMatchObject({ status: 'False', reason: 'Pending' });
    const notSet = at(audit({ accessLog: { destinationArn: arn, stageExists: true, command: 'aws apigateway update-stage X' } }));
    expect(notSet).toMatchObject({ status: 'False', reason: 'AccessLogsNotOnStage' });
    expect(notSet.message).toContain('aws apigateway update-stage X');
    expect(notSet.message).toContain(arn);
    expect(at(audit({ enabled: { flowLogs: false, accessLogs: false, cloudTrail: false } }))).toMatchObject({ status: 'False', reason: 'Disabled' });
    expect(at(audit({ enabled: { flowLogs: true, accessLogs: false, cloudTrail: true }, accessLog: { destinationArn: arn, stageExists: false } }))).toMatchObject({ status: 'True' });
  });
});
