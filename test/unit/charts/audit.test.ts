// The audit trail's render (each switch), its wiring into the CR's render, and the cost estimate.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { AuditSpec, CrossAccountApi, KubeObject, ObservedIds } from '../../../src/api/types.js';
import { validateSpec } from '../../../src/api/validate.js';
import { ACCESS_LOG_FIELDS, AUDIT_ANNOTATION, CLOUDTRAIL_SELECTORS, accessLogCommand, accessLogSettings, costEstimate, flowLogNames } from '../../../src/charts/audit.js';
import { RATES } from '../../../src/charts/rates.js';
import { renderObjects } from '../../../src/charts/render.js';
import type { PolicyDocument } from '../../../src/policy/documents.js';

const root = new URL('../../../', import.meta.url);
const example = parse(readFileSync(new URL('examples/orders.yaml', root), 'utf8')) as CrossAccountApi;
const ENIS = ['eni-0bbbbbbbbbbbbbbbb', 'eni-0aaaaaaaaaaaaaaaa'];
const IDS: ObservedIds = { restApiId: 'a1b2c3d4e5', rootResourceId: 'r00tid', allowedEndpointIds: ['vpce-0aaaaaaaaaaaaaaaa'], endpointNetworkInterfaceIds: ENIS };

const withAudit = (audit: AuditSpec | undefined): CrossAccountApi => ({ ...example, spec: { ...example.spec, ...(audit && { audit }) } });
const audited = (objs: KubeObject[]) => objs.filter((o) => o.metadata.annotations?.[AUDIT_ANNOTATION]);
const kinds = (objs: KubeObject[]) => objs.map((o) => `${o.kind}/${o.metadata.annotations?.[AUDIT_ANNOTATION]}`).sort();
const spec = (o: KubeObject) => o.spec as Record<string, any>;
const byKind = (objs: KubeObject[], kind: string) => objs.filter((o) => o.kind === kind);

describe('spec.audit render', () => {
  it('by default: flow logs on every ENI into a log group with a retention, the access log group, the CloudTrail store', () => {
    const r = renderObjects(withAudit(undefined), IDS);
    expect(kinds(audited(r.consumer))).toEqual(['FlowLog/flow-logs', 'FlowLog/flow-logs', 'LogGroup/flow-logs', 'Role/flow-logs']);
    expect(kinds(audited(r.provider))).toEqual(['EventDataStore/cloudtrail', 'LogGroup/access-logs']);
    expect(r.undecided?.consumer).toEqual([]);
    const group = spec(byKind(r.consumer, 'LogGroup')[0]!);
    expect(group).toEqual({ name: '/xapi/flow-logs/account-a/orders', retentionDays: 90, tags: { Project: 'orders' } });
    const flows = byKind(r.consumer, 'FlowLog').map(spec);
    expect(flows.map((f) => f.resourceID).sort()).toEqual([...ENIS].sort());
    for (const f of flows) {
      expect(f).toMatchObject({ resourceType: 'NetworkInterface', trafficType: 'ALL', logDestinationType: 'cloud-watch-logs' });
      expect(f.logGroupRef).toEqual({ from: { name: byKind(r.consumer, 'LogGroup')[0]!.metadata.name } });
      expect(f.deliverLogsPermissionRef).toEqual({ from: { name: 'orders-flow-logs-role' } });
      expect(f.logDestination).toBeUndefined();
    }
  });

  it('the delivery role: VPC Flow Logs of account A only, writing that one log group', () => {
    const r = renderObjects(withAudit(undefined), IDS);
    const role = spec(byKind(r.consumer, 'Role').find((o) => o.metadata.annotations?.[AUDIT_ANNOTATION])!);
    expect(role.name.length).toBeLessThanOrEqual(64);
    const trust = JSON.parse(role.assumeRolePolicyDocument) as PolicyDocument;
    expect(trust.Statement).toEqual([expect.objectContaining({ Principal: { Service: 'vpc-flow-logs.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } } })]);
    const write = JSON.parse(role.inlinePolicies['xapi-flow-logs']) as PolicyDocument;
    expect(write.Statement[0]!.Resource).toEqual([
      'arn:aws:logs:us-east-1:111111111111:log-group:/xapi/flow-logs/account-a/orders',
      'arn:aws:logs:us-east-1:111111111111:log-group:/xapi/flow-logs/account-a/orders:*',
    ]);
    expect(JSON.stringify(write)).not.toContain('"*"');
  });

  it('flow logs wait for the ENI IDs, and the render says FlowLog is undecided meanwhile (live ones are kept)', () => {
    const { endpointNetworkInterfaceIds: _, ...noEnis } = IDS;
    const r = renderObjects(withAudit(undefined), noEnis);
    expect(byKind(r.consumer, 'FlowLog')).toEqual([]);
    expect(byKind(r.consumer, 'LogGroup')).toHaveLength(1); // the log group goes first
    expect(r.undecided).toEqual({ consumer: ['FlowLog'], provider: [] });
    expect(r.complete.consumer).toBe(true); // everything else may be pruned as usual
    expect(renderObjects(withAudit(undefined), IDS).undecided).toEqual({ consumer: [], provider: [] });
    expect(renderObjects(withAudit({ flowLogs: { enabled: false } }), noEnis).undecided).toEqual({ consumer: [], provider: [] });
  });

  it('a log group before the flow log, the trail after every layer object (a static sync never waits on it)', () => {
    const r = renderObjects(withAudit(undefined), IDS);
    const wave = (o: KubeObject) => Number(o.metadata.annotations!['argocd.argoproj.io/sync-wave']);
    const [trailA, layersA] = [audited(r.consumer), r.consumer.filter((o) => !o.metadata.annotations?.[AUDIT_ANNOTATION])];
    const group = byKind(trailA, 'LogGroup')[0]!;
    const role = byKind(trailA, 'Role')[0]!;
    for (const flow of byKind(r.consumer, 'FlowLog')) {
      expect(wave(group)).toBeLessThan(wave(flow));
      expect(wave(role)).toBeLessThan(wave(flow));
    }
    const all = [...r.consumer, ...r.provider];
    const lastLayer = Math.max(...all.filter((o) => !o.metadata.annotations?.[AUDIT_ANNOTATION]).map(wave));
    expect(Math.min(...audited(all).map(wave))).toBeGreaterThan(lastLayer);
    expect(layersA.length).toBeGreaterThan(0);
  });

  it('flowLogs to s3: no log group, no role, the bucket ARN as destination', () => {
    const arn = 'arn:aws:s3:::audit-bucket/xapi';
    const r = renderObjects(withAudit({ flowLogs: { destination: 's3', s3BucketArn: arn } }), IDS);
    expect(kinds(audited(r.consumer))).toEqual(['FlowLog/flow-logs', 'FlowLog/flow-logs']);
    for (const f of byKind(r.consumer, 'FlowLog').map(spec)) {
      expect(f).toMatchObject({ logDestinationType: 's3', logDestination: arn });
      expect(f.logGroupRef).toBeUndefined();
      expect(f.deliverLogsPermissionRef).toBeUndefined();
    }
  });

  it.each([
    ['flowLogs', { flowLogs: { enabled: false } }, ['EventDataStore/cloudtrail', 'LogGroup/access-logs']],
    ['accessLogs', { accessLogs: { enabled: false } }, ['EventDataStore/cloudtrail', 'FlowLog/flow-logs', 'FlowLog/flow-logs', 'LogGroup/flow-logs', 'Role/flow-logs']],
    ['cloudTrail', { cloudTrail: { enabled: false } }, ['FlowLog/flow-logs', 'FlowLog/flow-logs', 'LogGroup/access-logs', 'LogGroup/flow-logs', 'Role/flow-logs']],
    ['all', { flowLogs: { enabled: false }, accessLogs: { enabled: false }, cloudTrail: { enabled: false } }, []],
  ] as const)('switching off %s leaves the rest', (_, audit, want) => {
    const r = renderObjects(withAudit(audit as AuditSpec), IDS);
    expect(kinds(audited([...r.consumer, ...r.provider]))).toEqual(want);
  });

  it('switching the trail off changes none of the four layers', () => {
    const on = renderObjects(withAudit(undefined), IDS);
    const off = renderObjects(withAudit({ flowLogs: { enabled: false }, accessLogs: { enabled: false }, cloudTrail: { enabled: false } }), IDS);
    const layers = (objs: KubeObject[]) => objs.filter((o) => !o.metadata.annotations?.[AUDIT_ANNOTATION]);
    expect(layers(off.consumer)).toEqual(layers(on.consumer));
    expect(layers(off.provider)).toEqual(layers(on.provider));
  });

  it('retention and traffic type come from the spec', () => {
    const r = renderObjects(withAudit({ flowLogs: { retentionDays: 365, trafficType: 'REJECT' }, accessLogs: { retentionDays: 30 }, cloudTrail: { retentionDays: 400 } }), IDS);
    expect(spec(byKind(r.consumer, 'LogGroup')[0]!).retentionDays).toBe(365);
    expect(byKind(r.consumer, 'FlowLog').map((o) => spec(o).trafficType)).toEqual(['REJECT', 'REJECT']);
    expect(spec(byKind(r.provider, 'LogGroup')[0]!).retentionDays).toBe(30);
    expect(spec(byKind(r.provider, 'EventDataStore')[0]!).retentionPeriod).toBe(400);
  });

  it('CloudTrail: a regional store of write management events, deletable by the operator', () => {
    const r = renderObjects(withAudit(undefined), IDS);
    const store = spec(byKind(r.provider, 'EventDataStore')[0]!);
    expect(store.advancedEventSelectors).toEqual(CLOUDTRAIL_SELECTORS);
    expect(store.advancedEventSelectors[0].fieldSelectors).toEqual([
      { field: 'eventCategory', equals: ['Management'] },
      { field: 'readOnly', equals: ['false'] },
    ]);
    expect(store).toMatchObject({ multiRegionEnabled: false, organizationEnabled: false, terminationProtectionEnabled: false });
    expect(store.name).toMatch(/^[A-Za-z0-9._-]{3,128}$/);
  });
});

describe('access logs', () => {
  const settings = accessLogSettings({ namespace: 'account-b', baseName: 'orders', region: 'us-east-1', accountId: '222222222222' });

  it('name the log group the render creates in account B', () => {
    const r = renderObjects(withAudit(undefined), IDS);
    expect(spec(byKind(r.provider, 'LogGroup')[0]!).name).toBe(settings.logGroupName);
    expect(settings.destinationArn).toBe(`arn:aws:logs:us-east-1:222222222222:log-group:${settings.logGroupName}`);
  });

  it('record the caller principal, source VPC endpoint, route, status and request ID, as JSON', () => {
    const format = JSON.parse(settings.format) as Record<string, string>;
    expect(format).toEqual(ACCESS_LOG_FIELDS);
    for (const v of ['$context.identity.userArn', '$context.identity.vpceId', '$context.httpMethod', '$context.resourcePath', '$context.status', '$context.requestId']) {
      expect(Object.values(format)).toContain(v);
    }
  });

  it('the update-stage command carries both settings as JSON patch operations', () => {
    const cmd = accessLogCommand('a1b2c3d4e5', 'prod', settings);
    expect(cmd).toMatch(/^aws apigateway update-stage --rest-api-id a1b2c3d4e5 --stage-name prod --patch-operations '/);
    const ops = JSON.parse(cmd.slice(cmd.indexOf("'") + 1, -1)) as Array<{ path: string; value: string }>;
    expect(ops.map((o) => [o.path, o.value])).toEqual([
      ['/accessLogSettings/destinationArn', settings.destinationArn],
      ['/accessLogSettings/format', settings.format],
    ]);
  });
});

describe('spec.audit validation', () => {
  const errors = (audit: unknown) => {
    const v = validateSpec({ ...example.spec, audit });
    return v.ok ? [] : v.errors.map((e) => `${e.path}: ${e.message}`);
  };
  it('accepts the documented shape', () => {
    expect(errors({ flowLogs: { destination: 's3', s3BucketArn: 'arn:aws:s3:::b-1/x' }, accessLogs: { retentionDays: 365 }, cloudTrail: { enabled: false } })).toEqual([]);
  });
  it('refuses s3 without a bucket, a retention CloudWatch does not offer, unknown fields and values', () => {
    expect(errors({ flowLogs: { destination: 's3' } })).toEqual(['spec.audit.flowLogs.s3BucketArn: flow logs to s3 need s3BucketArn (the bucket and its policy are yours; xapi creates no bucket)']);
    expect(errors({ accessLogs: { retentionDays: 10 } })[0]).toMatch(/^spec\.audit\.accessLogs\.retentionDays: must be one of CloudWatch Logs' retention periods: 1, 3, 5, .* \(got 10\)$/);
    expect(errors({ cloudTrail: { retentionDays: 3 } })).toEqual(['spec.audit.cloudTrail.retentionDays: must be an integer from 7 to 3653']);
    expect(errors({ flowLogs: { trafficType: 'SOME' } })).toEqual(['spec.audit.flowLogs.trafficType: must be one of ALL, ACCEPT, REJECT (got "SOME")']);
    expect(errors({ flowLogs: { s3BucketArn: 'my-bucket' } })[0]).toMatch(/^spec\.audit\.flowLogs\.s3BucketArn: must be an S3 bucket ARN/);
    expect(errors({ cloudtrail: {} })[0]).toMatch(/^spec\.audit\.cloudtrail: unknown field/);
  });
});

describe('cost estimate', () => {
  it('endpoint-hours × AZs, shared by the APIs that use the endpoint; data and logs as per-GB rates', () => {
    const one = costEstimate({ azCount: 2, sharedBy: 1 });
    expect(one.endpointMonthlyUsd).toBeCloseTo(RATES.endpointPerAzHourUsd * RATES.hoursPerMonth * 2, 2);
    expect(one.shareMonthlyUsd).toBe(one.endpointMonthlyUsd);
    expect(one.logStorageMonthlyUsd).toBeNull();
    expect(one.perGb.endpointDataUsd).toBe(RATES.endpointDataPerGbUsd);
    const three = costEstimate({ azCount: 3, sharedBy: 4, storedBytes: 10e9 });
    expect(three.endpointMonthlyUsd).toBeCloseTo(RATES.endpointPerAzHourUsd * RATES.hoursPerMonth * 3, 2);
    // rounded to the cent
    expect(Math.abs(three.shareMonthlyUsd - (RATES.endpointPerAzHourUsd * RATES.hoursPerMonth * 3) / 4)).toBeLessThanOrEqual(0.005 + 1e-9);
    expect(three.logStorageMonthlyUsd).toBeCloseTo(10 * RATES.logStoragePerGbMonthUsd, 2);
    const custom = costEstimate({ azCount: 1, sharedBy: 1, rates: { ...RATES, endpointPerAzHourUsd: 1, hoursPerMonth: 10 } });
    expect(custom.endpointMonthlyUsd).toBe(10);
    expect(() => costEstimate({ azCount: 0, sharedBy: 1 })).toThrow(/azCount/);
    expect(() => costEstimate({ azCount: 2, sharedBy: 0 })).toThrow(/sharedBy/);
  });

  it("docs/audit.md's rate table states the rates the code uses", () => {
    const doc = readFileSync(new URL('docs/audit.md', root), 'utf8');
    for (const [key, value] of Object.entries(RATES)) {
      const row = doc.split('\n').find((l) => l.includes(`\`${key}\``));
      expect(row).toBeDefined();
      expect(row).toContain(`| ${value} |`);
    }
  });
});

describe('names', () => {
  it('stay within AWS and Kubernetes limits for the longest CR names', () => {
    const n = flowLogNames('a'.repeat(63), 'b'.repeat(63));
    expect(n.roleName.length).toBeLessThanOrEqual(64);
    expect(n.flowLog('eni-0aaaaaaaaaaaaaaaa').length).toBeLessThanOrEqual(253);
    expect(n.logGroupName.length).toBeLessThanOrEqual(512);
  });
});
