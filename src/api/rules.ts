// The rules of a CrossAccountApi, stated once. crd.ts turns them into the CRD's CEL rules and
// validate.ts runs them offline (synth, the operator), so admission and synth refuse the same
// inputs with the same words. Patterns are written in the common subset of ECMAScript and RE2
// (CEL's `matches`). Every rule's length limit is checked by CEL together with its pattern, so
// the message is ours; the schema's own maxLength (`cap`) is only the bound CEL's cost estimate
// needs, set well above the limit (a schema error makes the API server skip every CEL rule).
import { DEFAULT_PARTITION, PARTITIONS, partitionOf, partitionOfCel } from './partition.js';

export interface FieldRule {
  pattern: string;
  message: string;
  maxLength: number;
  /** Schema maxLength; default capFor(maxLength). */
  cap?: number;
}

/** The schema's hard bound for a rule: far enough above the limit that typos get our message. */
export function capFor(rule: FieldRule): number {
  return rule.cap ?? Math.max(256, rule.maxLength * 2);
}

export const MAX_PATH_SEGMENTS = 8;
export const MAX_PATH_LENGTH = 128;
/** Folder names `xapi synth` writes besides the cluster folders (named after cluster Secrets). */
export const RESERVED_FOLDERS = ['crds', 'operator', 'apis', 'argocd', 'local'] as const;
const HTTP_PROXY_URI = '^https://[^\\s/]+';
const LAMBDA_INVOCATION_URI = '^arn:aws(-cn|-us-gov)?:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/arn:aws(-cn|-us-gov)?:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?/invocations$';

export const RULES = {
  // CR names: a DNS label, short enough that every name derived from it (<name>-integration-...)
  // and every file synth writes (<Kind>.<name>.k8s.yaml) stays within Kubernetes' and filesystems' limits.
  crName: {
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
    message: 'metadata.name must be a lowercase DNS label (a-z, 0-9 and -, starting and ending with a letter or digit) of at most 63 characters',
    maxLength: 63,
  },
  accountId: { pattern: '^[0-9]{12}$', message: 'must be a 12-digit AWS account ID', maxLength: 12 },
  region: {
    pattern: '^[a-z]{2}(-gov)?-[a-z]+-[0-9]{1,2}$',
    message: 'must be an AWS region such as us-east-1 (partitions aws, aws-cn and aws-us-gov; isolated regions such as us-iso-east-1 are not supported)',
    maxLength: 32,
  },
  project: {
    pattern: '^[A-Za-z0-9][A-Za-z0-9._:/=+@-]*$',
    message: 'must be 1-128 characters of letters, digits and ._:/=+@- (a tag value), starting with a letter or digit',
    maxLength: 128,
  },
  namespace: {
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
    message: 'must be a Kubernetes namespace name (lowercase DNS label of at most 63 characters)',
    maxLength: 63,
  },
  secretName: {
    pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
    message: 'must be a Kubernetes Secret name (lowercase DNS subdomain of at most 253 characters)',
    maxLength: 253,
    cap: 253,
  },
  secretKey: {
    pattern: '^[-._a-zA-Z0-9]+$',
    message: 'must be a Secret key: at most 253 letters, digits, -, _ and .',
    maxLength: 253,
    cap: 253,
  },
  vpcId: { pattern: '^vpc-([0-9a-f]{8}|[0-9a-f]{17})$', message: 'must be a VPC ID such as vpc-0a1b2c3d', maxLength: 21 },
  vpcEndpointId: {
    pattern: '^vpce-([0-9a-f]{8}|[0-9a-f]{17})$',
    message: 'must be a VPC endpoint ID such as vpce-0a1b2c3d4e5f60718',
    maxLength: 22,
  },
  subnetId: {
    pattern: '^subnet-([0-9a-f]{8}|[0-9a-f]{17})$',
    message: 'must be a subnet ID such as subnet-0a1b2c3d',
    maxLength: 24,
  },
  roleName: {
    pattern: '^[A-Za-z0-9+=,.@_-]+$',
    message: 'must be an IAM role name: 1-64 characters of letters, digits and +=,.@_-',
    maxLength: 64,
  },
  roleArn: {
    pattern: '^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$',
    message: 'must be an IAM role ARN such as arn:aws:iam::111111111111:role/name',
    maxLength: 2048,
    cap: 2048,
  },
  functionName: {
    pattern: '^[A-Za-z0-9_-]+$',
    message: 'must be a Lambda function name: 1-64 characters of letters, digits, - and _',
    maxLength: 64,
  },
  runtime: {
    pattern: '^[a-z][a-z0-9.]*$',
    message: 'must be a Lambda runtime identifier such as nodejs20.x (at most 32 characters)',
    maxLength: 32,
  },
  handler: {
    pattern: '^[^\\s]+$',
    message: 'must be a Lambda handler such as index.handler: at most 128 characters, no spaces',
    maxLength: 128,
  },
  s3Bucket: {
    pattern: '^[a-z0-9][a-z0-9.-]*[a-z0-9]$',
    message: 'must be an S3 bucket name: 3-63 lowercase letters, digits, . and -',
    maxLength: 63,
  },
  s3Key: { pattern: '^[^\\x00-\\x1f]+$', message: 'must be an S3 object key of at most 1024 characters', maxLength: 1024, cap: 1024 },
  apiName: {
    pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]*$',
    message: 'must be 1-128 characters of letters, digits, space and ._-',
    maxLength: 128,
  },
  stage: {
    pattern: '^[A-Za-z0-9_-]+$',
    message: 'stage name must be 1-128 characters of letters, digits, - and _',
    maxLength: 128,
  },
  // API Gateway's path parts: a-zA-Z0-9._- or one {param}; greedy {proxy+} and '*' are refused
  // (WILDCARD_PATH_MESSAGE) because the role's policy names exact paths. The cap equals the limit:
  // the sibling-parameter rule's cost estimate needs it that small.
  path: {
    pattern: `^/$|^(/([A-Za-z0-9._-]+|[{][A-Za-z][A-Za-z0-9_]*[}])){1,${MAX_PATH_SEGMENTS}}$`,
    message: `path must start with "/" and hold at most ${MAX_PATH_SEGMENTS} segments of letters, digits and ._- or a single {param}, at most ${MAX_PATH_LENGTH} characters; no wildcards, no {proxy+}, no trailing or double slash`,
    maxLength: MAX_PATH_LENGTH,
    cap: MAX_PATH_LENGTH,
  },
  uri: { pattern: '^[^\\s]+$', message: 'must be a URI of at most 2048 characters without spaces', maxLength: 2048, cap: 2048 },
  s3BucketArn: {
    pattern: '^arn:aws(-cn|-us-gov)?:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[!-~]*)?$',
    message: 'must be an S3 bucket ARN, optionally with a folder, such as arn:aws:s3:::my-flow-logs/xapi',
    maxLength: 1024,
    cap: 1024,
  },
} as const satisfies Record<string, FieldRule>;

/** CloudWatch Logs accepts only these retention periods (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
export const LOG_RETENTION_MESSAGE = `must be one of CloudWatch Logs' retention periods: ${LOG_RETENTION_DAYS.join(', ')}`;
/** CloudTrail Lake's retention range for an event data store (days, one-year extendable pricing). */
export const MIN_TRAIL_RETENTION_DAYS = 7;
export const MAX_TRAIL_RETENTION_DAYS = 3653;
export const S3_DESTINATION_MESSAGE = 'flow logs to s3 need s3BucketArn (the bucket and its policy are yours; xapi creates no bucket)';

/** JS test of a field rule, the same as CEL's `size(self) <= max && self.matches(pattern)`. */
export function fieldOk(rule: FieldRule, value: string): boolean {
  return value.length <= rule.maxLength && new RegExp(rule.pattern).test(value);
}

/** The CEL form of a field rule on `self`. */
export function fieldCel(rule: FieldRule): string {
  return `size(self) <= ${rule.maxLength} && self.matches(${celString(rule.pattern)})`;
}

export function celString(s: string): string {
  // CEL single-quoted raw string: no escape processing, so the regex reaches RE2 as written.
  if (s.includes("'")) throw new Error(`pattern cannot contain a single quote: ${s}`);
  return `r'${s}'`;
}

export const WILDCARD_PATH_MESSAGE = 'route paths must not contain wildcards (* or {proxy+})';
export const DISTINCT_ACCOUNTS_MESSAGE = 'consumer.accountId and provider.accountId must be different accounts';
export const MIN_SUBNETS = 2;
export const MAX_SUBNETS = 16;
export const MAX_ROUTES = 32;
export const SUBNETS_MESSAGE = `subnetIds must list at least ${MIN_SUBNETS} distinct subnets (in 2+ Availability Zones)`;
export const DISTINCT_SUBNETS_MESSAGE = 'subnetIds must be distinct';
export const DISTINCT_ROUTES_MESSAGE = 'routes must be distinct (method + path)';
export const MAX_GRACE_PERIOD_SECONDS = 86400;

/**
 * A rule over one object of the spec, in both languages: `cel` for the CRD (its `self` is the
 * object at `at`), `holds` for the offline validator (the same object, as parsed JSON). Both
 * treat malformed fields as passing: their own field rules report those.
 */
export interface ObjectRule {
  /** Where the rule sits: the object `self` is. "" = the whole resource (metadata included). */
  at: '' | 'spec' | 'spec.consumer' | 'spec.provider.routes' | 'spec.provider.integration';
  /** Relative path of the field the error is reported on (CEL's fieldPath), if not the object. */
  field?: string;
  message: string;
  cel: string;
  holds(self: any): boolean; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Offline only: the values involved, shown after the message in parentheses. */
  detail?(self: any): string; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const str = (v: unknown): v is string => typeof v === 'string';
const ROLE_ARN = RULES.roleArn.pattern;
const param = (seg: string | undefined) => seg !== undefined && seg.startsWith('{');

/** The first parameter clash between two paths ("/items/{id}" vs "/items/{name}"), if any. */
export function siblingParams(a: string, b: string): { parent: string; left: string; right: string } | undefined {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 1; i <= MAX_PATH_SEGMENTS && i < x.length && i < y.length; i++) {
    if (param(x[i]) && param(y[i]) && x[i] !== y[i]) return { parent: x.slice(0, i).join('/') || '/', left: x[i]!, right: y[i]! };
    if (x[i] !== y[i]) return undefined;
  }
  return undefined;
}

const SEGMENTS = Array.from({ length: MAX_PATH_SEGMENTS }, (_, i) => i + 1).join(', ');
const sameCluster = (c: any, p: any) => (c?.secretName ?? '') === (p?.secretName ?? ''); // eslint-disable-line @typescript-eslint/no-explicit-any

export const OBJECT_RULES: readonly ObjectRule[] = [
  {
    at: '',
    field: '.metadata.name',
    message: RULES.crName.message,
    // generateName leaves name empty at admission; the API server checks generated names itself
    cel: `!has(self.metadata.name) || self.metadata.name == '' || (size(self.metadata.name) <= ${RULES.crName.maxLength} && self.metadata.name.matches(${celString(RULES.crName.pattern)}))`,
    holds: (self) => str(self?.metadata?.name) && fieldOk(RULES.crName, self.metadata.name),
  },
  {
    at: 'spec',
    field: '.provider.accountId',
    message: DISTINCT_ACCOUNTS_MESSAGE,
    cel: 'self.consumer.accountId != self.provider.accountId',
    holds: (s) => !str(s.consumer?.accountId) || s.consumer.accountId !== s.provider?.accountId,
    detail: (s) => `both are ${String(s.consumer.accountId)}`,
  },
  {
    at: 'spec',
    field: '.provider.namespace',
    message: 'consumer and provider must not share a namespace in the same cluster: ACK maps a namespace to one AWS account (CARM), so each side needs its own',
    // `namespace` is a CEL reserved word: Kubernetes exposes the field as __namespace__
    cel: "!(self.consumer.__namespace__ == self.provider.__namespace__ && (has(self.consumer.cluster) ? self.consumer.cluster.secretName : '') == (has(self.provider.cluster) ? self.provider.cluster.secretName : ''))",
    holds: (s) => !(str(s.consumer?.namespace) && s.consumer.namespace === s.provider?.namespace && sameCluster(s.consumer.cluster, s.provider.cluster)),
  },
  {
    at: 'spec',
    field: '.consumer.roleArn',
    message: "roleArn must be in the region's partition (arn:aws for most regions, arn:aws-cn for cn-*, arn:aws-us-gov for us-gov-*)",
    cel: `!has(self.consumer.roleArn) || !self.consumer.roleArn.matches(${celString(ROLE_ARN)}) || self.consumer.roleArn.startsWith('arn:' + (${partitionOfCel('self.region')}) + ':')`,
    holds: (s) => !str(s.consumer?.roleArn) || !new RegExp(ROLE_ARN).test(s.consumer.roleArn) || !str(s.region) || s.consumer.roleArn.startsWith(`arn:${partitionOf(s.region)}:`),
    detail: (s) => `it is in ${String(s.consumer.roleArn.split(':')[1])}, region ${String(s.region)} is in ${partitionOf(s.region)}`,
  },
  {
    at: 'spec.consumer',
    field: '.roleArn',
    message: 'roleArn must be a role in the consumer account (consumer.accountId)',
    cel: `!has(self.roleArn) || !self.roleArn.matches(${celString(ROLE_ARN)}) || self.roleArn.split(':')[4] == self.accountId`,
    holds: (c) => !str(c.roleArn) || !new RegExp(ROLE_ARN).test(c.roleArn) || c.roleArn.split(':')[4] === c.accountId,
    detail: (c) => `it is in account ${String(c.roleArn.split(':')[4])}, not ${String(c.accountId)}`,
  },
  {
    at: 'spec.consumer',
    field: '.roleArn',
    message: 'roleArn must name the role given in roleName',
    cel: `!has(self.roleArn) || !self.roleArn.matches(${celString(ROLE_ARN)}) || self.roleArn.endsWith('/' + self.roleName)`,
    holds: (c) => !str(c.roleArn) || !new RegExp(ROLE_ARN).test(c.roleArn) || c.roleArn.endsWith(`/${String(c.roleName)}`),
    detail: (c) => `it names "${String(c.roleArn.split('/').pop())}", roleName is "${String(c.roleName)}"`,
  },
  {
    at: 'spec.provider.routes',
    message: 'a path segment can have only one {param} child: e.g. /items/{id} and /items/{name} cannot both be routes (API Gateway allows one parameter per parent resource)',
    // For each {param} segment i of route r: any route s under the same parent must use the same param.
    cel:
      `self.all(r, [${SEGMENTS}].all(i, size(r.path.split('/')) <= i || !r.path.split('/')[i].startsWith('{') || ` +
      `self.all(s, !s.path.startsWith(r.path.substring(0, r.path.indexOf('/' + r.path.split('/')[i])) + '/{') || ` +
      `(s.path + '/').startsWith(r.path.substring(0, r.path.indexOf('/' + r.path.split('/')[i])) + '/' + r.path.split('/')[i] + '/'))))`,
    holds: (routes) => !Array.isArray(routes) || !routes.some((r) => routes.some((s) => str(r?.path) && str(s?.path) && siblingParams(r.path, s.path))),
    detail: (routes) => {
      for (const r of routes) for (const s of routes) {
        const clash = str(r?.path) && str(s?.path) && siblingParams(r.path, s.path);
        if (clash) return `"${clash.parent}" has ${clash.left} (${r.path}) and ${clash.right} (${s.path})`;
      }
      return '';
    },
  },
  {
    at: 'spec.provider.integration',
    field: '.uri',
    message: 'must be empty for a MOCK integration',
    cel: "self.type != 'MOCK' || !has(self.uri)",
    holds: (i) => i.type !== 'MOCK' || i.uri === undefined,
  },
  {
    at: 'spec.provider.integration',
    field: '.uri',
    message: 'an HTTP_PROXY integration needs an https:// URI',
    cel: `self.type != 'HTTP_PROXY' || (has(self.uri) && self.uri.matches(${celString(HTTP_PROXY_URI)}))`,
    holds: (i) => i.type !== 'HTTP_PROXY' || (str(i.uri) && new RegExp(HTTP_PROXY_URI).test(i.uri)),
  },
  {
    at: 'spec.provider.integration',
    field: '.uri',
    message:
      'an AWS_PROXY integration needs a Lambda invocation URI: arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/arn:aws:lambda:REGION:ACCOUNT:function:NAME/invocations',
    cel: `self.type != 'AWS_PROXY' || (has(self.uri) && self.uri.matches(${celString(LAMBDA_INVOCATION_URI)}))`,
    holds: (i) => i.type !== 'AWS_PROXY' || (str(i.uri) && new RegExp(LAMBDA_INVOCATION_URI).test(i.uri)),
  },
];

export const RESERVED_SECRET_MESSAGE = `must not be ${RESERVED_FOLDERS.join(', ')}: xapi synth writes folders by those names next to the cluster folders`;

// exported for tests and docs
export { DEFAULT_PARTITION, PARTITIONS };

/** IDs `xapi synth --observed` accepts per CR, and their formats (as AWS assigns them). */
export const OBSERVED_ID_RULES = {
  callerSecurityGroupId: { pattern: '^sg-([0-9a-f]{8}|[0-9a-f]{17})$', message: 'must be a security group ID such as sg-0a1b2c3d', maxLength: 20 },
  endpointSecurityGroupId: { pattern: '^sg-([0-9a-f]{8}|[0-9a-f]{17})$', message: 'must be a security group ID such as sg-0a1b2c3d', maxLength: 20 },
  restApiId: { pattern: '^[a-z0-9]{10}$', message: 'must be a REST API ID: 10 lowercase letters and digits', maxLength: 10 },
  rootResourceId: { pattern: '^[a-z0-9]{6,10}$', message: 'must be an API Gateway resource ID: 6-10 lowercase letters and digits', maxLength: 10 },
} as const satisfies Record<string, FieldRule>;
export const OBSERVED_LIST_RULES = {
  allowedEndpointIds: { pattern: '^vpce-([0-9a-f]{8}|[0-9a-f]{17})$', message: 'must be a list of VPC endpoint IDs such as vpce-0a1b2c3d', maxLength: 22 },
  endpointNetworkInterfaceIds: { pattern: '^eni-([0-9a-f]{8}|[0-9a-f]{17})$', message: 'must be a list of network interface IDs such as eni-0a1b2c3d', maxLength: 21 },
} as const satisfies Record<string, FieldRule>;
