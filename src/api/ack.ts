// The ACK kinds xapi renders, in one table, so that charts, the reconciler, lint and status agree
// on group, version, kind and plural without importing each other.

export interface KindRef {
  group: string;
  version: string;
  kind: string;
  plural: string;
  apiVersion: string;
}

function kind(group: string, kindName: string, plural: string): KindRef {
  return { group, version: 'v1alpha1', kind: kindName, plural, apiVersion: `${group}/v1alpha1` };
}

const EC2 = 'ec2.services.k8s.aws';
const APIGW = 'apigateway.services.k8s.aws';
const IAM = 'iam.services.k8s.aws';
const LAMBDA = 'lambda.services.k8s.aws';
const LOGS = 'cloudwatchlogs.services.k8s.aws';
const CLOUDTRAIL = 'cloudtrail.services.k8s.aws';

export const ACK = {
  SecurityGroup: kind(EC2, 'SecurityGroup', 'securitygroups'),
  VPCEndpoint: kind(EC2, 'VPCEndpoint', 'vpcendpoints'),
  Role: kind(IAM, 'Role', 'roles'),
  Function: kind(LAMBDA, 'Function', 'functions'),
  RestAPI: kind(APIGW, 'RestAPI', 'restapis'),
  Resource: kind(APIGW, 'Resource', 'resources'),
  Method: kind(APIGW, 'Method', 'methods'),
  Integration: kind(APIGW, 'Integration', 'integrations'),
  Deployment: kind(APIGW, 'Deployment', 'deployments'),
  Stage: kind(APIGW, 'Stage', 'stages'),
  // the audit trail (docs/audit.md)
  FlowLog: kind(EC2, 'FlowLog', 'flowlogs'),
  LogGroup: kind(LOGS, 'LogGroup', 'loggroups'),
  EventDataStore: kind(CLOUDTRAIL, 'EventDataStore', 'eventdatastores'),
} as const;

export type AckKindName = keyof typeof ACK;

/** The ACK kind of an object by its apiVersion and kind; undefined for anything else. */
export function ackKindOf(obj: { apiVersion?: string; kind?: string }): AckKindName | undefined {
  return (Object.keys(ACK) as AckKindName[]).find((k) => ACK[k].kind === obj.kind && ACK[k].apiVersion === obj.apiVersion);
}

/** Kinds in account A's cluster and in account B's, in the order they are applied (LogGroup is on both sides). */
export const CONSUMER_KINDS: readonly AckKindName[] = ['SecurityGroup', 'VPCEndpoint', 'Role', 'Function', 'LogGroup', 'FlowLog'];
export const PROVIDER_KINDS: readonly AckKindName[] = ['RestAPI', 'Resource', 'Method', 'Integration', 'Deployment', 'Stage', 'LogGroup', 'EventDataStore'];
/** The kinds of the audit trail: not one of the four layers, reported as AuditReady. */
export const AUDIT_KINDS: readonly AckKindName[] = ['FlowLog', 'LogGroup', 'EventDataStore'];

/** ACK's annotations (ACK.md). */
export const ACK_ANNOTATION = {
  ownerAccountId: 'services.k8s.aws/owner-account-id',
  defaultRegion: 'services.k8s.aws/default-region',
  region: 'services.k8s.aws/region',
  deletionPolicy: 'services.k8s.aws/deletion-policy',
  adoptionPolicy: 'services.k8s.aws/adoption-policy',
  adoptionFields: 'services.k8s.aws/adoption-fields',
} as const;

/** ACK condition types; `Ready` is the readiness signal. */
export const ACK_CONDITION = {
  Ready: 'Ready',
  Synced: 'ACK.ResourceSynced',
  Terminal: 'ACK.Terminal',
  Recoverable: 'ACK.Recoverable',
  ReferencesResolved: 'ACK.ReferencesResolved',
  Advisory: 'ACK.Advisory',
} as const;
