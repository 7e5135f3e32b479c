// The CrossAccountApi resource (xapi.dev/v1alpha1). Shapes only; defaults live in defaults.ts,
// checks in validate.ts, the CRD schema in crd.ts.

export const GROUP = 'xapi.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'CrossAccountApi';
export const PLURAL = 'crossaccountapis';
export const SINGULAR = 'crossaccountapi';
export const SHORT_NAME = 'xapi';

/** Label on every object rendered for one CR: `<namespace>.<name>` of the CR. */
export const OWNER_LABEL = 'xapi.dev/owner';
export const FINALIZER = 'xapi.dev/finalizer';
export const FIELD_MANAGER = 'xapi';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export const INTEGRATION_TYPES = ['MOCK', 'HTTP_PROXY', 'AWS_PROXY'] as const;
export type IntegrationType = (typeof INTEGRATION_TYPES)[number];

/**
 * Where one side's ACK objects live. Absent = the operator's own cluster. The Secret holds a
 * kubeconfig under `key` (default `kubeconfig`), or is an Argo CD cluster Secret
 * (label `argocd.argoproj.io/secret-type: cluster`, keys `server`, `config`).
 */
export interface ClusterRef {
  secretName: string;
  /** Namespace of the Secret; defaults to the CR's namespace. */
  namespace?: string;
  key?: string;
}

export interface FunctionSpec {
  name: string;
  runtime?: string; // default nodejs20.x
  handler?: string; // default index.handler
  code: { s3Bucket: string; s3Key: string };
  memorySize?: number;
  timeout?: number;
  environment?: Record<string, string>;
}

/**
 * The execute-api interface endpoint the caller goes through. Absent fields: the VPC's shared
 * endpoint that xapi manages, with private DNS.
 */
export interface EndpointSpec {
  /** Use this existing endpoint (brownfield, e.g. owned by a network team): xapi creates none and never modifies it. */
  id?: string;
  /**
   * Default true: the caller calls `{api-id}.execute-api.REGION.amazonaws.com`. false: the endpoint
   * has no private DNS; the caller calls the endpoint-specific hostname
   * `{api-id}-{vpce-id}.execute-api.REGION.amazonaws.com`, which needs the endpoint associated
   * with the API (RestAPI endpointConfiguration.vpcEndpointIDs).
   */
  privateDns?: boolean;
}

export interface ConsumerSpec {
  accountId: string;
  namespace: string;
  cluster?: ClusterRef;
  vpcId: string;
  subnetIds: string[];
  /** Name of the Lambda execution role xapi creates. */
  roleName: string;
  /** Use an existing role instead of creating one; its name must match roleName. */
  roleArn?: string;
  function?: FunctionSpec;
  endpoint?: EndpointSpec;
}

export interface Route {
  method: HttpMethod;
  path: string;
}

export interface IntegrationSpec {
  type: IntegrationType;
  /** Required for HTTP_PROXY (https URL) and AWS_PROXY (Lambda invocation ARN). */
  uri?: string;
}

export interface ProviderSpec {
  accountId: string;
  namespace: string;
  cluster?: ClusterRef;
  apiName: string;
  stage: string;
  routes: Route[];
  integration?: IntegrationSpec;
}

export interface RotationSpec {
  gracePeriodSeconds?: number;
}

/** Where VPC Flow Logs go: AWS's LogDestinationType values. */
export const FLOW_LOG_DESTINATIONS = ['cloud-watch-logs', 's3'] as const;
export type FlowLogDestination = (typeof FLOW_LOG_DESTINATIONS)[number];
export const FLOW_LOG_TRAFFIC_TYPES = ['ALL', 'ACCEPT', 'REJECT'] as const;

/** The audit trail (docs/audit.md). Every part is on unless switched off. */
export interface AuditSpec {
  /** VPC Flow Logs on the endpoint's network interfaces (account A). */
  flowLogs?: {
    enabled?: boolean;
    destination?: FlowLogDestination;
    /** Required for destination s3: `arn:aws:s3:::bucket[/prefix]` (its bucket policy is yours). */
    s3BucketArn?: string;
    /** CloudWatch Logs retention of the flow-log group (one of CloudWatch's allowed values). */
    retentionDays?: number;
    trafficType?: (typeof FLOW_LOG_TRAFFIC_TYPES)[number];
  };
  /** The stage's access log group in account B and the format that records caller, endpoint, route, status, request ID. */
  accessLogs?: { enabled?: boolean; retentionDays?: number };
  /** A CloudTrail Lake event data store in account B recording write management events. */
  cloudTrail?: { enabled?: boolean; retentionDays?: number };
}

export interface CrossAccountApiSpec {
  region: string;
  /** Value of the `Project` tag; the endpoint policy only lets requests reach APIs carrying it. */
  project: string;
  /**
   * Whether the endpoint policy's Allow carries the reference architecture's condition
   * `StringEquals aws:resourceTag/Project` (default true). It works only if API Gateway puts the
   * API's tags into execute-api:Invoke's request context, which the Service Authorization
   * Reference does not list; false scopes the Allow by API ARN and role only (docs/debugging.md).
   */
  projectTagCondition?: boolean;
  consumer: ConsumerSpec;
  provider: ProviderSpec;
  rotation?: RotationSpec;
  audit?: AuditSpec;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface AllowedEndpoint {
  id: string;
  /** RFC 3339; set while the ID is being rotated out. */
  until?: string;
}

export interface CrossAccountApiStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  endpoint?: { id?: string; state?: string; dnsNames?: string[] };
  allowedEndpoints?: AllowedEndpoint[];
  api?: { id?: string; stage?: string; invokeUrl?: string };
  securityGroups?: { callerId?: string; endpointId?: string };
  /** e.g. "3/4": how many of the four layers are in place. */
  layers?: string;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  generation?: number;
  resourceVersion?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
}

export interface CrossAccountApi {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: CrossAccountApiSpec;
  status?: CrossAccountApiStatus;
}

/** Condition types the operator sets. */
export const CONDITION = {
  Ready: 'Ready',
  SecurityGroupsReady: 'SecurityGroupsReady',
  EndpointPolicyReady: 'EndpointPolicyReady',
  ResourcePolicyReady: 'ResourcePolicyReady',
  IamAuthReady: 'IamAuthReady',
  /** The audit trail (flow logs, access logs, CloudTrail); not one of the four layers and not part of Ready. */
  AuditReady: 'AuditReady',
  Degraded: 'Degraded',
} as const;

/**
 * What the render knows beyond the spec: IDs AWS assigns, as ACK reports them in status.
 * Every field is optional; a missing ID renders fail-closed (deny, or the grant left out).
 */
export interface ObservedIds {
  /** status.id of the caller and endpoint SecurityGroups (account A). */
  callerSecurityGroupId?: string;
  endpointSecurityGroupId?: string;
  /** RestAPI status.id and status.rootResourceID (account B). */
  restApiId?: string;
  rootResourceId?: string;
  /** Endpoint IDs the API's resource policy admits (current + those in their grace period). */
  allowedEndpointIds?: string[];
  /** ARN of the caller role, when known from the Role's status (else derived from account + name). */
  roleArn?: string;
  /**
   * Routes ("GET /items") whose Method, and whose Integration, ACK has created in AWS. API Gateway
   * refuses an Integration before its Method and a Deployment before every Integration, and ACK
   * marks such a failure Terminal; so when these are observed (the operator), an Integration waits
   * for its Method and the Deployment for every Integration. Undefined (a static render): all
   * are rendered, and the order is left to sync waves.
   */
  createdMethods?: string[];
  createdIntegrations?: string[];
  /** VPCEndpoint status.networkInterfaceIDs (account A): what the flow logs attach to. */
  endpointNetworkInterfaceIds?: string[];
}

/**
 * A plain Kubernetes manifest as the charts render it and the reconciler applies it (ACK objects,
 * namespaces, the operator's install). `spec` is whatever the kind takes.
 */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  [field: string]: unknown;
}

/** Annotations the charts put on API objects so tools can read routes without walking ACK refs. */
export const ROUTE_ANNOTATION = 'xapi.dev/route'; // on Method and Integration: "GET /items/{id}"
export const PATH_ANNOTATION = 'xapi.dev/path'; // on Resource: "/items/{id}"
