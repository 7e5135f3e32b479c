// Builders for the three policy documents of the reference architecture, plus the Lambda trust
// policy. Each is a pure function of the spec and the IDs observed so far; an ID that is not
// known yet makes the document narrower (deny, or the grant left out), never wider.
import { partitionOf } from '../api/partition.js';
import type { CrossAccountApiSpec, ObservedIds, Route } from '../api/types.js';

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
/** AWS's managed policy for a Lambda in a VPC, in the region's partition. */
export function lambdaVpcAccessPolicyArn(region: string): string {
  return `arn:${partitionOf(region)}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole`;
}
/** Condition key API Gateway sets to the interface endpoint a private API request came through. */
export const SOURCE_VPCE_KEY = 'aws:sourceVpce';
export const PROJECT_TAG_KEY = 'aws:resourceTag/Project';
/** On the VPCEndpoint: "false" when spec.projectTagCondition switched the tag condition off, so lint knows it is deliberate. */
export const PROJECT_TAG_CONDITION_ANNOTATION = 'xapi.dev/project-tag-condition';

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

/** arn:PARTITION:execute-api:REGION:ACCOUNT:API-ID/<rest>; `rest` is e.g. "*" or "prod/GET/items". */
export function executeApiArn(region: string, accountId: string, apiId: string, rest: string): string {
  return `arn:${partitionOf(region)}:execute-api:${region}:${accountId}:${apiId}/${rest}`;
}

/** The role the caller runs as: the spec's roleArn, the ARN ACK reported, or the one IAM will give it. */
export function callerRoleArn(spec: CrossAccountApiSpec, ids: ObservedIds = {}): string {
  return spec.consumer.roleArn ?? ids.roleArn ?? `arn:${partitionOf(spec.region)}:iam::${spec.consumer.accountId}:role/${spec.consumer.roleName}`;
}

/**
 * The resource part of a route's ARN: STAGE/METHOD/path, with each {param} segment as '*'
 * (a request for /items/42 is authorized against .../GET/items/42). The root path is "STAGE/METHOD/".
 */
export function routeResource(stage: string, route: Route): string {
  const segments = route.path.split('/').filter(Boolean).map((s) => (s.startsWith('{') ? '*' : s));
  return `${stage}/${route.method}/${segments.join('/')}`;
}

/** AWS's limit on a VPC endpoint policy, in characters. */
export const ENDPOINT_POLICY_MAX_CHARS = 20_480;

/** One API using an endpoint: its spec and the IDs observed for it (the API ID, the role's ARN). */
export interface EndpointMember {
  /** Unique and stable (the CR's namespace/name): the statements are ordered by it. */
  key: string;
  spec: CrossAccountApiSpec;
  ids: ObservedIds;
}

/** Layer 2: the VPC endpoint policy in account A, for one API. */
export function endpointPolicy(spec: CrossAccountApiSpec, ids: ObservedIds): PolicyDocument {
  return sharedEndpointPolicy([{ key: '', spec, ids }]);
}

/**
 * Layer 2 for an endpoint many APIs share: deny first (every API not listed; each listed API for
 * any principal but its own caller role), then one Allow per API for its caller role, with its
 * own tag condition. A member whose API ID is not known yet gets no statement (fail-closed for
 * it); with none known the endpoint denies everything. Ordered by member key; with one member
 * the Sids are the plain ones, with more each carries the member's position.
 */
export function sharedEndpointPolicy(members: readonly EndpointMember[]): PolicyDocument {
  const known = members
    .filter((m) => m.ids.restApiId)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((m) => ({
      apiArn: executeApiArn(m.spec.region, m.spec.provider.accountId, m.ids.restApiId!, '*'),
      role: callerRoleArn(m.spec, m.ids),
      spec: m.spec,
    }));
  if (known.length === 0) {
    // Without an API ID no grant can be scoped; the endpoint carries nothing until one is known.
    return {
      Version: '2012-10-17',
      Statement: [{ Sid: SID.endpointDenyAll, Effect: 'Deny', Principal: '*', Action: 'execute-api:*', Resource: '*' }],
    };
  }
  const sid = (base: string, i: number) => (known.length === 1 ? base : `${base}${i + 1}`);
  const apis = [...new Set(known.map((k) => k.apiArn))];
  return {
    Version: '2012-10-17',
    Statement: [
      // Deny first: the explicit denies win whatever an Allow says.
      { Sid: SID.endpointDenyOtherApis, Effect: 'Deny', Principal: '*', Action: 'execute-api:*', NotResource: apis.length === 1 ? apis[0]! : apis },
      ...known.map(
        (k, i): Statement => ({
          Sid: sid(SID.endpointDenyOtherPrincipals, i),
          Effect: 'Deny',
          Principal: '*',
          Action: 'execute-api:*',
          Resource: k.apiArn,
          Condition: { ArnNotEquals: { 'aws:PrincipalArn': k.role } },
        }),
      ),
      ...known.map(
        (k, i): Statement => ({
          Sid: sid(SID.endpointAllow, i),
          Effect: 'Allow',
          Principal: { AWS: k.role },
          Action: INVOKE,
          Resource: k.apiArn,
          // The reference architecture's tag condition, unless the spec switches it off (types.ts).
          ...(k.spec.projectTagCondition !== false && { Condition: { StringEquals: { [PROJECT_TAG_KEY]: k.spec.project } } }),
        }),
      ),
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
