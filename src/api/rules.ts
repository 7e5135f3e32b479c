// Field rules shared by the code validator (validate.ts) and the CRD's schema/CEL (crd.ts), so
// that admission and the operator reject the same inputs with the same words. Patterns are
// written in the common subset of ECMAScript and RE2 (CEL's `matches`).

export interface FieldRule {
  pattern: string;
  message: string;
  maxLength: number;
}

export const RULES = {
  accountId: { pattern: '^[0-9]{12}$', message: 'must be a 12-digit AWS account ID', maxLength: 12 },
  region: {
    pattern: '^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$',
    message: 'must be an AWS region such as us-east-1',
    maxLength: 32,
  },
  project: {
    pattern: '^[A-Za-z0-9][A-Za-z0-9._:/=+@-]{0,127}$',
    message: 'must be 1-128 characters of letters, digits and ._:/=+@- (a tag value), starting with a letter or digit',
    maxLength: 128,
  },
  namespace: {
    pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$',
    message: 'must be a Kubernetes namespace name (lowercase DNS label)',
    maxLength: 63,
  },
  secretName: {
    pattern: '^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$',
    message: 'must be a Kubernetes Secret name (lowercase DNS subdomain)',
    maxLength: 253,
  },
  vpcId: { pattern: '^vpc-[0-9a-f]{8,17}$', message: 'must be a VPC ID such as vpc-0a1b2c3d', maxLength: 21 },
  subnetId: {
    pattern: '^subnet-[0-9a-f]{8,17}$',
    message: 'must be a subnet ID such as subnet-0a1b2c3d',
    maxLength: 24,
  },
  roleName: {
    pattern: '^[A-Za-z0-9+=,.@_-]{1,64}$',
    message: 'must be an IAM role name: 1-64 characters of letters, digits and +=,.@_-',
    maxLength: 64,
  },
  roleArn: {
    pattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:role/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$',
    message: 'must be an IAM role ARN such as arn:aws:iam::111111111111:role/name',
    maxLength: 2048,
  },
  functionName: {
    pattern: '^[A-Za-z0-9_-]{1,64}$',
    message: 'must be a Lambda function name: 1-64 characters of letters, digits, - and _',
    maxLength: 64,
  },
  apiName: {
    pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$',
    message: 'must be 1-128 characters of letters, digits, space and ._-',
    maxLength: 128,
  },
  stage: {
    pattern: '^[A-Za-z0-9_-]{1,128}$',
    message: 'stage name must be 1-128 characters of letters, digits, - and _',
    maxLength: 128,
  },
  // Literal segments, or one {param} per segment; no greedy {proxy+}, no '*'.
  path: {
    pattern: '^/$|^(/([A-Za-z0-9._~-]+|[{][A-Za-z][A-Za-z0-9_]*[}]))+$',
    message:
      'path must start with "/" and hold segments of letters, digits and ._~- or a single {param}; no wildcards, no {proxy+}, no trailing or double slash',
    maxLength: 512,
  },
} as const satisfies Record<string, FieldRule>;

export const WILDCARD_PATH_MESSAGE = 'route paths must not contain wildcards (* or {proxy+})';
export const DISTINCT_ACCOUNTS_MESSAGE = 'consumer.accountId and provider.accountId must be different accounts';
export const MIN_SUBNETS = 2;
export const MAX_SUBNETS = 16;
export const MAX_ROUTES = 64;
export const SUBNETS_MESSAGE = `subnetIds must list at least ${MIN_SUBNETS} distinct subnets (in 2+ Availability Zones)`;
export const DISTINCT_SUBNETS_MESSAGE = 'subnetIds must be distinct';
export const DISTINCT_ROUTES_MESSAGE = 'routes must be distinct (method + path)';
export const MAX_GRACE_PERIOD_SECONDS = 86400;
