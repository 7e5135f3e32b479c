// The audit trail of one execute-api endpoint and one API (docs/audit.md), and what they cost.
// Pure functions with explicit inputs, so that the flow logs can follow the endpoint wherever it
// is rendered (one per CR today, one per VPC once endpoints are shared). Every object carries the
// annotation AUDIT_ANNOTATION naming its part, which is how status tells the trail from the four
// layers.
import type { ApiObjectMetadata } from 'cdk8s';
import type { Construct } from 'constructs';
import { EventDataStore } from '../../imports/cloudtrail.services.k8s.aws.js';
import { LogGroup } from '../../imports/cloudwatchlogs.services.k8s.aws.js';
import { FlowLog } from '../../imports/ec2.services.k8s.aws.js';
import { Role } from '../../imports/iam.services.k8s.aws.js';
import { ACK_ANNOTATION } from '../api/ack.js';
import type { DefaultedAudit } from '../api/defaults.js';
import { partitionOf } from '../api/partition.js';
import { policyJson, type PolicyDocument } from '../policy/documents.js';
import { SYNC_WAVE, fit, shortHash } from './names.js';
import { WAVE, waveOf } from './order.js';
import { RATES, RATES_SOURCE, type Rates } from './rates.js';

export const AUDIT_ANNOTATION = 'xapi.dev/audit';
export const AUDIT_PARTS = ['flow-logs', 'access-logs', 'cloudtrail'] as const;
export type AuditPart = (typeof AUDIT_PARTS)[number];

/** What every audit object needs to know about where it lives. */
export interface AuditPlace {
  /** Kubernetes namespace of the ACK objects (the side's, CARM-mapped to its account). */
  namespace: string;
  /** Prefix of the object names: the CR's name, or the shared endpoint's. */
  baseName: string;
  region: string;
  /** The AWS account the namespace maps to (for ARNs the render derives). */
  accountId: string;
  labels: Record<string, string>;
  tags: Record<string, string>;
}

function meta(place: AuditPlace, name: string, kind: 'FlowLog' | 'LogGroup' | 'EventDataStore' | 'Role', part: AuditPart): ApiObjectMetadata {
  return {
    name,
    namespace: place.namespace,
    labels: { ...place.labels },
    // the delivery Role goes with the log group, after the layers (order.ts)
    annotations: { [ACK_ANNOTATION.region]: place.region, [SYNC_WAVE]: String(kind === 'Role' ? WAVE.audit : waveOf(kind)), [AUDIT_ANNOTATION]: part },
  };
}

const tagList = (tags: Record<string, string>) => Object.keys(tags).sort().map((key) => ({ key, value: tags[key]! }));

/** Kubernetes and AWS names of the flow-log objects of one endpoint. */
export function flowLogNames(namespace: string, baseName: string) {
  const hash = shortHash(`${namespace}/${baseName}`, 10);
  return {
    logGroup: fit(`${baseName}-flow-logs`),
    logGroupName: `/xapi/flow-logs/${namespace}/${baseName}`,
    role: fit(`${baseName}-flow-logs-role`),
    // IAM role names are at most 64 characters
    roleName: `${baseName.slice(0, 30).replace(/-+$/, '')}-flow-logs-${hash}`,
    flowLog: (eniId: string) => fit(`${baseName}-flow-log-${eniId}`),
  };
}

function logGroupArn(region: string, accountId: string, name: string): string {
  return `arn:${partitionOf(region)}:logs:${region}:${accountId}:log-group:${name}`;
}

/** The trust policy of the delivery role: VPC Flow Logs, for this account's flow logs only (confused deputy). */
export function flowLogTrustPolicy(accountId: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'VpcFlowLogsDelivery',
        Effect: 'Allow',
        Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
      },
    ],
  };
}

/** What the delivery role may do: write into the one flow-log group. */
export function flowLogDeliveryPolicy(region: string, accountId: string, logGroupName: string): PolicyDocument {
  const arn = logGroupArn(region, accountId, logGroupName);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'WriteFlowLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:DescribeLogGroups', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
        Resource: [arn, `${arn}:*`],
      },
    ],
  };
}

export interface FlowLogInput extends AuditPlace {
  /** The endpoint's network interfaces (VPCEndpoint status.networkInterfaceIDs); undefined = not reported yet. */
  eniIds: readonly string[] | undefined;
  settings: DefaultedAudit['flowLogs'];
}

/**
 * Flow logs on each of the endpoint's network interfaces, into a log group with a retention
 * (and a role VPC Flow Logs assumes to write there) or into the given S3 bucket. The flow logs
 * wait for the ENI IDs; `waiting` says so, and the caller keeps the live FlowLogs meanwhile
 * (which flow logs are wanted is unknown, not "none").
 */
export function addFlowLogObjects(scope: Construct, input: FlowLogInput): { waiting: boolean } {
  const { settings } = input;
  if (!settings.enabled) return { waiting: false };
  const names = flowLogNames(input.namespace, input.baseName);
  const toLogs = settings.destination === 'cloud-watch-logs';
  if (toLogs) {
    new LogGroup(scope, names.logGroup, {
      metadata: meta(input, names.logGroup, 'LogGroup', 'flow-logs'),
      spec: { name: names.logGroupName, retentionDays: settings.retentionDays, tags: { ...input.tags } },
    });
    new Role(scope, names.role, {
      metadata: meta(input, names.role, 'Role', 'flow-logs'),
      spec: {
        name: names.roleName,
        description: `xapi: lets VPC Flow Logs write ${names.logGroupName}`,
        assumeRolePolicyDocument: policyJson(flowLogTrustPolicy(input.accountId)),
        inlinePolicies: { 'xapi-flow-logs': policyJson(flowLogDeliveryPolicy(input.region, input.accountId, names.logGroupName)) },
        tags: tagList(input.tags),
      },
    });
  }
  if (input.eniIds === undefined || input.eniIds.length === 0) return { waiting: true };
  for (const eni of [...input.eniIds].sort()) {
    new FlowLog(scope, names.flowLog(eni), {
      metadata: meta(input, names.flowLog(eni), 'FlowLog', 'flow-logs'),
      spec: {
        resourceId: eni,
        resourceType: 'NetworkInterface',
        trafficType: settings.trafficType,
        logDestinationType: settings.destination,
        ...(toLogs
          ? { logGroupRef: { from: { name: names.logGroup } }, deliverLogsPermissionRef: { from: { name: names.role } } }
          : { logDestination: settings.s3BucketArn }),
        tags: tagList(input.tags),
      },
    });
  }
  return { waiting: false };
}

/** API Gateway `$context` variables of each access log line: who called, through which endpoint, which route, the outcome. */
export const ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTime',
  caller: '$context.identity.caller',
  userArn: '$context.identity.userArn',
  callerAccountId: '$context.identity.accountId',
  sourceVpce: '$context.identity.vpceId',
  sourceIp: '$context.identity.sourceIp',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  stage: '$context.stage',
  status: '$context.status',
  responseType: '$context.error.responseType',
};

export interface AccessLogSettings {
  logGroupName: string;
  /** The stage's accessLogSettings.destinationArn. */
  destinationArn: string;
  /** The stage's accessLogSettings.format: one JSON object per request. */
  format: string;
}

/** The access log settings of the stage of one API (account B). */
export function accessLogSettings(input: { namespace: string; baseName: string; region: string; accountId: string }): AccessLogSettings {
  const logGroupName = `/xapi/access-logs/${input.namespace}/${input.baseName}`;
  return { logGroupName, destinationArn: logGroupArn(input.region, input.accountId, logGroupName), format: JSON.stringify(ACCESS_LOG_FIELDS) };
}

export const accessLogGroupObjectName = (baseName: string) => fit(`${baseName}-access-logs`);

/**
 * The access log group in account B. ACK's apigateway controller v1.8.1 cannot set a stage's
 * accessLogSettings (the field is in the Stage's status only), so the settings are applied with
 * accessLogCommand() and status checks them in the Stage's status.
 */
export function addAccessLogObjects(scope: Construct, input: AuditPlace & { settings: DefaultedAudit['accessLogs'] }): void {
  if (!input.settings.enabled) return;
  const name = accessLogGroupObjectName(input.baseName);
  new LogGroup(scope, name, {
    metadata: meta(input, name, 'LogGroup', 'access-logs'),
    spec: { name: accessLogSettings(input).logGroupName, retentionDays: input.settings.retentionDays, tags: { ...input.tags } },
  });
}

/** The AWS CLI call that puts the access log settings on the stage (what ACK cannot do). */
export function accessLogCommand(restApiId: string, stage: string, settings: AccessLogSettings): string {
  const ops = [
    { op: 'replace', path: '/accessLogSettings/destinationArn', value: settings.destinationArn },
    { op: 'replace', path: '/accessLogSettings/format', value: settings.format },
  ];
  return `aws apigateway update-stage --rest-api-id ${restApiId} --stage-name ${stage} --patch-operations '${JSON.stringify(ops)}'`;
}

/**
 * CloudTrail's record of API Gateway is of its management API (who changed the resource policy,
 * deployed, deleted); invocations through execute-api are not CloudTrail events (docs/audit.md).
 * So the store keeps write management events, in the API's region.
 */
export const CLOUDTRAIL_SELECTORS = [
  {
    name: 'xapi: write management events (API Gateway and every other service in the account)',
    fieldSelectors: [
      { field: 'eventCategory', equals: ['Management'] },
      { field: 'readOnly', equals: ['false'] },
    ],
  },
];

export const eventDataStoreObjectName = (baseName: string) => fit(`${baseName}-cloudtrail`);

export function addCloudTrailObjects(scope: Construct, input: AuditPlace & { settings: DefaultedAudit['cloudTrail'] }): void {
  if (!input.settings.enabled) return;
  const name = eventDataStoreObjectName(input.baseName);
  new EventDataStore(scope, name, {
    metadata: meta(input, name, 'EventDataStore', 'cloudtrail'),
    spec: {
      name: fit(`xapi-${input.namespace}-${input.baseName}`, 128),
      // `equals_`: cdk8s import's name for the CRD's `equals`
      advancedEventSelectors: CLOUDTRAIL_SELECTORS.map((s) => ({ name: s.name, fieldSelectors: s.fieldSelectors.map((f) => ({ field: f.field, equals_: [...f.equals] })) })),
      multiRegionEnabled: false,
      organizationEnabled: false,
      retentionPeriod: input.settings.retentionDays,
      // The operator deletes what it created; protection would leave the store Terminal on delete.
      terminationProtectionEnabled: false,
      tags: tagList(input.tags),
    },
  });
}

export interface CostInput {
  /** Availability Zones the endpoint has a network interface in (one per subnet). */
  azCount: number;
  /** How many APIs (CRs) share the endpoint; each is shown its share. */
  sharedBy: number;
  rates?: Rates;
  /** Bytes the endpoint's log groups hold now (LogGroup status.storedBytes), when known. */
  storedBytes?: number;
}

export interface CostEstimate {
  /** Endpoint-hours × AZs for the month, for the whole endpoint. */
  endpointMonthlyUsd: number;
  /** This API's share of it (÷ sharedBy). */
  shareMonthlyUsd: number;
  sharedBy: number;
  azCount: number;
  /** Storage of what the log groups hold now, per month; null when not known. */
  logStorageMonthlyUsd: number | null;
  /** Per-GB rates: cost that depends on traffic, which xapi does not guess. */
  perGb: { endpointDataUsd: number; flowLogIngestUsd: number; accessLogIngestUsd: number; logStoragePerMonthUsd: number };
  /** A NAT gateway for the same month, for comparison (one per AZ). */
  natGatewayMonthlyUsd: number;
  rates: string;
}

const cents = (usd: number) => Math.round(usd * 100) / 100;

/** Monthly estimate of one endpoint from the rate table. Pure; never a guess at traffic. */
export function costEstimate(input: CostInput): CostEstimate {
  const r = input.rates ?? RATES;
  if (!Number.isInteger(input.azCount) || input.azCount < 1) throw new Error(`costEstimate: azCount must be a positive integer, got ${input.azCount}`);
  if (!Number.isInteger(input.sharedBy) || input.sharedBy < 1) throw new Error(`costEstimate: sharedBy must be a positive integer, got ${input.sharedBy}`);
  const endpoint = r.endpointPerAzHourUsd * r.hoursPerMonth * input.azCount;
  return {
    endpointMonthlyUsd: cents(endpoint),
    shareMonthlyUsd: cents(endpoint / input.sharedBy),
    sharedBy: input.sharedBy,
    azCount: input.azCount,
    logStorageMonthlyUsd: input.storedBytes === undefined ? null : cents((input.storedBytes / 1e9) * r.logStoragePerGbMonthUsd),
    perGb: {
      endpointDataUsd: r.endpointDataPerGbUsd,
      flowLogIngestUsd: r.flowLogIngestPerGbUsd,
      accessLogIngestUsd: r.logIngestPerGbUsd,
      logStoragePerMonthUsd: r.logStoragePerGbMonthUsd,
    },
    natGatewayMonthlyUsd: cents(r.natGatewayPerHourUsd * r.hoursPerMonth * input.azCount),
    rates: RATES_SOURCE,
  };
}

/** One line for tables and the synth summary. */
export function costLine(c: CostEstimate): string {
  const share = c.sharedBy > 1 ? `, your share $${c.shareMonthlyUsd.toFixed(2)} (shared by ${c.sharedBy})` : '';
  const storage = c.logStorageMonthlyUsd === null ? '' : ` + log storage $${c.logStorageMonthlyUsd.toFixed(2)}`;
  return `$${c.endpointMonthlyUsd.toFixed(2)}/month endpoint (${c.azCount} AZ)${share}${storage} + $${c.perGb.endpointDataUsd}/GB processed + $${c.perGb.flowLogIngestUsd}/GB flow logs`;
}
