// Builders for the three policy documents of the reference architecture, plus the Lambda trust
// policy. Each is a pure function of the spec and the IDs observed so far; an ID that is not
// known yet makes the document narrower (deny, or the grant left out), never wider.
import type { CrossAccountApiSpec, ObservedIds, Route } from '../api/types.js';
import { partitionOf } from '../api/partition.js';

export type StringOrList = string | string[];
export type ConditionBlock = Record<string, Record<string, StringOrList | boolean>>;
export type PrincipalValue = '*' | { AWS?: StringOrList; Service?: StringOrList };

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: PrincipalValue;
  NotPrincipal?: PrincipalValue;
  Action?: StringOrList;
  NotAction?: StringOrList;
  Resource?: StringOrList;
  NotResource?: StringOrList;
  Condition?: ConditionBlock;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Id?: string;
  Statement: Statement[];
}

export const INVOKE = 'execute-api:Invoke';
/** The AWS managed policy a VPC Lambda's role needs, in the region's partition. */
export function lambdaVpcAccessPolicyArn(region: string): string {
  return `arn:${partitionOf(region)}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole`;
}
/** Condition key API Gateway sets to the interface endpoint a private API request came through. */
export const SOURCE_VPCE_KEY = 'aws:sourceVpce';
export const PROJECT_TAG_KEY = 'aws:resourceTag/Project';

export const SID = {
  endpointAllow: 'AllowCallerRoleToInvokeProjectApi',
  endpointDenyOtherApis: 'DenyAllOtherApis',
  endpointDenyOtherPrincipals: 'DenyAllOtherPrincipals',
  endpointDenyAll: 'DenyAllUntilApiIsKnown',
  resourceDenyUnlessVpce: 'DenyUnlessFromAllowedEndpoints',
  resourceAllowRole: 'AllowCallerRoleFromAllowedEndpoints',
  roleInvoke: 'InvokeDeclaredRoutes',
  trust: 'LambdaAssumesRole',
} as const;

const partition = partitionOf;

/** arn:aws:execute-api:REGION:ACCOUNT:API-ID/<rest>; `rest` is e.g. "*" or "prod/GET/items". */
export function executeApiArn(region: string, accountId: string, apiId: string, rest: string): string {
  return `arn:${partition(region)}:execute-api:${region}:${accountId}:${apiId}/${rest}`;
}

/** The role the caller runs as: the spec's roleArn, the ARN ACK reported, or the one IAM will give it. */
export function callerRoleArn(spec: CrossAccountApiSpec, ids: ObservedIds = {}): string {
  return spec.consumer.roleArn ?? ids.roleArn ?? `arn:${partition(spec.region)}:iam::${spec.consumer.accountId}:role/${spec.consumer.roleName}`;
}

/**
 * The resource part of a route's ARN: STAGE/METHOD/path, with each {param} segment as '*'
 * (a request for /items/42 is authorized against .../GET/items/42). The root path is "STAGE/METHOD/".
 */
export function routeResource(stage: string, route: Route): string {
  const segments = route.path.split('/').filter(Boolean).map((s) => (s.startsWith('{') ? '*' : s));
  return `${stage}/${route.method}/${segments.join('/')}`;
}

/** Layer 2: the VPC endpoint policy in account A. */
export function endpointPolicy(spec: CrossAccountApiSpec, ids: ObservedIds): PolicyDocument {
  if (!ids.restApiId) {
    // Without the API ID no grant can be scoped; the endpoint carries nothing until it is known.
    return {
      Version: '2012-10-17',
      Statement: [{ Sid: SID.endpointDenyAll, Effect: 'Deny', Principal: '*', Action: 'execute-api:*', Resource: '*' }],
    };
  }
  const apiArn = executeApiArn(spec.region, spec.provider.accountId, ids.restApiId, '*');
  const role = callerRoleArn(spec, ids);
  return {
    Version: '2012-10-17',
    Statement: [
      // Deny first: the explicit denies win whatever the Allow says.
      { Sid: SID.endpointDenyOtherApis, Effect: 'Deny', Principal: '*', Action: 'execute-api:*', NotResource: apiArn },
      {
        Sid: SID.endpointDenyOtherPrincipals,
        Effect: 'Deny',
        Principal: '*',
        Action: 'execute-api:*',
        Resource: apiArn,
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': role } },
      },
      {
        Sid: SID.endpointAllow,
        Effect: 'Allow',
        Principal: { AWS: role },
        Action: INVOKE,
        Resource: apiArn,
        Condition: { StringEquals: { [PROJECT_TAG_KEY]: spec.project } },
      },
    ],
  };
}

/**
 * Layer 3: the private API's resource policy in account B. With no allowed endpoint yet it
 * denies every invocation; otherwise a deny unless aws:sourceVpce is one of the allowed
 * endpoints, then the grant for the caller role from those endpoints only.
 */
export function resourcePolicy(spec: CrossAccountApiSpec, ids: ObservedIds): PolicyDocument {
  // Before the API exists its ID is unknown; "execute-api:/" is API Gateway's own-API shorthand.
  const apiPrefix = ids.restApiId ? executeApiArn(spec.region, spec.provider.accountId, ids.restApiId, '') : 'execute-api:/';
  const endpoints = [...new Set(ids.allowedEndpointIds ?? [])].sort();
  if (endpoints.length === 0) {
    return {
      Version: '2012-10-17',
      Statement: [{ Sid: SID.resourceDenyUnlessVpce, Effect: 'Deny', Principal: '*', Action: INVOKE, Resource: `${apiPrefix}*` }],
    };
  }
  const vpce = endpoints.length === 1 ? endpoints[0]! : endpoints;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: SID.resourceDenyUnlessVpce,
        Effect: 'Deny',
        Principal: '*',
        Action: INVOKE,
        Resource: `${apiPrefix}*`,
        Condition: { StringNotEquals: { [SOURCE_VPCE_KEY]: vpce } },
      },
      {
        Sid: SID.resourceAllowRole,
        Effect: 'Allow',
        Principal: { AWS: callerRoleArn(spec, ids) },
        Action: INVOKE,
        Resource: `${apiPrefix}${spec.provider.stage}/*`,
        Condition: { StringEquals: { [SOURCE_VPCE_KEY]: vpce } },
      },
    ],
  };
}

/**
 * Layer 4 (identity side): the caller role's inline policy, exact STAGE/METHOD/path ARNs.
 * Undefined until the API ID is known: IAM rejects an empty policy, and no grant is the safe state.
 */
export function roleInvokePolicy(spec: CrossAccountApiSpec, ids: ObservedIds): PolicyDocument | undefined {
  if (!ids.restApiId) return undefined;
  const apiId = ids.restApiId;
  const resources = [...new Set(spec.provider.routes.map((r) => routeResource(spec.provider.stage, r)))]
    .sort()
    .map((rest) => executeApiArn(spec.region, spec.provider.accountId, apiId, rest));
  return {
    Version: '2012-10-17',
    Statement: [{ Sid: SID.roleInvoke, Effect: 'Allow', Action: INVOKE, Resource: resources.length === 1 ? resources[0]! : resources }],
  };
}

export function lambdaTrustPolicy(): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [{ Sid: SID.trust, Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  };
}

const STATEMENT_KEYS = ['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'] as const;

function sortedObject<T>(o: Record<string, T>, map: (v: T) => unknown = (v) => v): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) out[k] = map(o[k]!);
  return out;
}

/**
 * Deterministic JSON of a policy: fixed key order, condition operators and keys sorted.
 * ACK compares IAM inline policies as exact strings, so the same input must give the same bytes.
 */
export function policyJson(doc: PolicyDocument): string {
  const statements = doc.Statement.map((s) => {
    const out: Record<string, unknown> = {};
    for (const k of STATEMENT_KEYS) {
      const v = s[k];
      if (v === undefined) continue;
      if (k === 'Condition') out[k] = sortedObject(v as ConditionBlock, (keys) => sortedObject(keys));
      else if (k === 'Principal' || k === 'NotPrincipal') out[k] = typeof v === 'string' ? v : sortedObject(v as Record<string, StringOrList>);
      else out[k] = v;
    }
    return out;
  });
  return JSON.stringify({ Version: doc.Version, ...(doc.Id && { Id: doc.Id }), Statement: statements });
}
