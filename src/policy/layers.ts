// The four-layer access model behind `xapi explain`: given the rendered objects of both accounts
// and one request, say what API Gateway would answer and which layer (and statement) decided.
// Pure: plain objects in, a verdict out. The order follows the path of a request: the security
// groups decide whether a connection exists at all; API Gateway then matches the route, checks
// the SigV4 signature (AWS_IAM methods), and evaluates the endpoint policy, the resource policy
// and the caller's identity policy together.
import { ACK_ANNOTATION, type AckKindName } from '../api/ack.js';
import { ackObject, type AckSpec, type AckStatus, type SecurityGroupRule } from '../api/ack-wire.js';
import { API_ID_HEADER, PRIVATE_DNS_ANNOTATION, UNMANAGED_ENDPOINT_ANNOTATION, invokeTargets, parseExecuteApiHost, type InvokeTarget } from '../api/endpoint.js';
import { partitionOf } from '../api/partition.js';
import type { KubeObject } from '../api/types.js';
import { ROUTE_ANNOTATION } from '../api/types.js';
import { INVOKE, SOURCE_VPCE_KEY, executeApiArn, type PolicyDocument } from './documents.js';
import { accountOf, authorize, evaluatePolicy, type PolicyResult, type StatementRef } from './evaluate.js';
import { accessDeniedMessage, principalArnsIn, resolvePrincipal, roleArnParts } from './principal.js';

export type SignatureState = 'valid' | 'invalid' | 'missing' | 'expired-token';

export interface CallRequest {
  /** ARN of the caller's role (or an assumed-role session). */
  roleArn: string;
  method: string;
  /** Resource path without the stage, e.g. "/items/42". */
  path: string;
  /** Defaults to the (first) Stage in the manifests. */
  stage?: string;
  /** The interface endpoint the request arrives through; defaults to the first one the resource policy allows. */
  vpceId?: string;
  /** Whether the caller runs in the caller security group (default true). */
  viaCallerSecurityGroup?: boolean;
  signature?: SignatureState;
  /** Caller clock minus true time, in seconds (positive: the caller's clock is ahead). */
  clockSkewSeconds?: number;
  /** "Now" for the signature messages; default the current time. */
  now?: Date;
  /**
   * The host the caller calls: {api-id}.execute-api…, {api-id}-{vpce-id}.execute-api…, or the
   * endpoint's own DNS name (vpce-….execute-api.REGION.vpce.amazonaws.com). Unset: not checked.
   */
  host?: string;
  /** The x-apigw-api-id header, if the caller sends one. */
  apiIdHeader?: string;
}

export type ResponseType = 'ACCESS_DENIED' | 'INVALID_SIGNATURE' | 'EXPIRED_TOKEN' | 'MISSING_AUTHENTICATION_TOKEN';

export interface LayerReport {
  layer: 1 | 2 | 3 | 4;
  name: string;
  allowed: boolean;
  reason: string;
  statement?: StatementRef;
  /** The layer belongs to an endpoint xapi does not manage (consumer.endpoint.id). */
  unmanaged?: true;
}

export interface Verdict {
  /** HTTP status; null when no response arrives at all (security groups drop the connection). */
  status: number | null;
  /** API Gateway gateway response type; null when the call is allowed or never answered. */
  responseType: ResponseType | null;
  /** x-amzn-ErrorType header API Gateway sends with it. */
  errorType: string | null;
  /** The message body API Gateway would send, or a description of the timeout. */
  message: string;
  allowed: boolean;
  /**
   * "response"; "timeout" (no HTTP answer: the TCP connection never opens); "unreachable" (the
   * host does not lead to the private API: no DNS name, or not through an endpoint).
   */
  outcome: 'response' | 'timeout' | 'unreachable';
  /** Which layer decided a denial (null when allowed, or when routing decided). */
  decidedBy: 1 | 2 | 3 | 4 | null;
  /** The deciding statement, when a policy decided. */
  statement?: StatementRef;
  resourceArn: string;
  vpceId: string | null;
  stage: string | null;
  layers: LayerReport[];
  notes: string[];
  /** Where a caller in the VPC can send this request (hostnames and headers). */
  targets: InvokeTarget[];
}

export const LAYER_NAMES = {
  1: 'security groups',
  2: 'VPC endpoint policy',
  3: 'API resource policy',
  4: 'SigV4 / AWS_IAM',
} as const;

const MAX_SKEW_SECONDS = 300;
const REGION_ANNOTATION = ACK_ANNOTATION.region;
const OWNER_ACCOUNT_ANNOTATION = ACK_ANNOTATION.ownerAccountId;

/** Typed views of an ACK object's fields as stored (src/api/ack-wire.ts). */
const specOf = <K extends AckKindName>(o: KubeObject, kind: K): AckSpec<K> => ackObject(o, kind)?.spec ?? ({} as AckSpec<K>);
const statusOf = <K extends AckKindName>(o: KubeObject, kind: K): AckStatus<K> => ackObject(o, kind)?.status ?? ({} as AckStatus<K>);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function parsePolicy(text: unknown, where: string): PolicyDocument | undefined {
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as PolicyDocument;
  } catch {
    throw new Error(`${where}: policy is not valid JSON`);
  }
}

function refName(v: unknown): string | undefined {
  return str((v as { from?: { name?: unknown } } | undefined)?.from?.name);
}

/** "20261125T210000Z" */
export function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

type Rule = SecurityGroupRule;

function coversHttps(r: Rule): boolean {
  const proto = String(r.ipProtocol ?? '');
  if (proto === '-1' || proto === 'all') return true;
  if (proto !== 'tcp' && proto !== '6') return false;
  return (r.fromPort ?? -1) <= 443 && 443 <= (r.toPort ?? -1);
}

const rulesOf = (sg: KubeObject, which: 'ingressRules' | 'egressRules'): Rule[] => {
  const rules = specOf(sg, 'SecurityGroup')[which];
  return Array.isArray(rules) ? rules : [];
};

/**
 * Layer 1 when the endpoint is not xapi's: the caller group's egress is checked; the endpoint's own
 * groups' ingress is the endpoint owner's, and not in the manifests.
 */
function unmanagedLayer1(objects: readonly KubeObject[], request: CallRequest, id: string): LayerReport {
  const report = (allowed: boolean, reason: string): LayerReport => ({ layer: 1, name: LAYER_NAMES[1], allowed, reason, unmanaged: true });
  if (request.viaCallerSecurityGroup === false) return report(false, `the caller does not run in the caller security group, the one with egress tcp/443 to the groups of ${id}`);
  const observed = objects.find((o) => o.kind === 'VPCEndpoint' && str(statusOf(o, 'VPCEndpoint').vpcEndpointID) === id);
  const groups = strings(observed ? specOf(observed, 'VPCEndpoint').securityGroupIDs : undefined);
  const caller = objects.filter((o) => o.kind === 'SecurityGroup').find((sg) => rulesOf(sg, 'egressRules').some((r) => coversHttps(r) && (r.userIDGroupPairs ?? []).some((p) => p.groupID)));
  if (!caller) return report(false, `no security group has egress tcp/443 to the groups of ${id} (not known yet: ACK's report of the endpoint, or --observed endpointSecurityGroupIds): the caller's packets never leave`);
  const to = rulesOf(caller, 'egressRules').flatMap((r) => (r.userIDGroupPairs ?? []).map((p) => p.groupID)).filter((g): g is string => !!g);
  if (groups.length > 0 && !to.some((g) => groups.includes(g))) return report(false, `${caller.metadata.name} has egress only to ${to.join(', ')}, but ${id} is in ${groups.join(', ')}: connections time out`);
  return report(true, `${caller.metadata.name} egress tcp/443 → ${to.join(', ')}; the ingress of ${id}'s groups from the caller is the endpoint owner's and is not checked (not xapi's)`);
}

function layer1(objects: readonly KubeObject[], request: CallRequest): LayerReport {
  const report = (allowed: boolean, reason: string): LayerReport => ({ layer: 1, name: LAYER_NAMES[1], allowed, reason });
  if (request.viaCallerSecurityGroup === false) {
    return report(false, 'the caller does not run in the caller security group: the endpoint security group admits only that group, so the TCP connection to port 443 is never answered');
  }
  const vpce = objects.find((o) => o.kind === 'VPCEndpoint');
  const sgs = objects.filter((o) => o.kind === 'SecurityGroup');
  if (!vpce) return report(false, 'no VPCEndpoint in the manifests: there is no private path to the API');
  const endpointIds = strings(specOf(vpce, 'VPCEndpoint').securityGroupIDs);
  const refs = specOf(vpce, 'VPCEndpoint').securityGroupRefs;
  const endpointRefNames = (Array.isArray(refs) ? refs : []).map(refName).filter(Boolean);
  if (endpointIds.length === 0) {
    return report(false, `the endpoint's security group ID is not known yet (securityGroupRefs ${endpointRefNames.join(', ') || 'none'}): the group-to-group rules are not rendered, so no traffic reaches the endpoint (fail-closed)`);
  }
  const isEndpointSg = (sg: KubeObject) => endpointIds.includes(str(statusOf(sg, 'SecurityGroup').id) ?? '') || endpointRefNames.includes(sg.metadata.name);
  const caller = sgs.find((sg) => !isEndpointSg(sg) && rulesOf(sg, 'egressRules').some((r) => coversHttps(r) && (r.userIDGroupPairs ?? []).some((p) => p.groupID && endpointIds.includes(p.groupID))));
  if (!caller) return report(false, `no security group has an egress rule on tcp/443 to the endpoint's group ${endpointIds.join(', ')}: the caller's packets never leave`);
  // The caller group's ID from ACK's status when known; the Lambda's vpcConfig is checked below.
  const fn = objects.find((o) => o.kind === 'Function');
  const fnGroups = strings(fn ? specOf(fn, 'Function').vpcConfig?.securityGroupIDs : undefined);
  const callerId = str(statusOf(caller, 'SecurityGroup').id);
  const endpointSg = sgs.find((sg) => sg !== caller && (isEndpointSg(sg) || rulesOf(sg, 'ingressRules').some((r) => (r.userIDGroupPairs ?? []).length > 0)));
  if (!endpointSg) return report(false, `no endpoint security group with an ingress rule on tcp/443 in the manifests`);
  const ingress = rulesOf(endpointSg, 'ingressRules').find(
    (r) => coversHttps(r) && (r.userIDGroupPairs ?? []).some((p) => p.groupID !== undefined && (callerId === undefined || p.groupID === callerId)),
  );
  if (!ingress) {
    return report(false, `${endpointSg.metadata.name} has no ingress rule on tcp/443 from ${callerId ?? `the caller group ${caller.metadata.name}`}: connections time out`);
  }
  const from = (ingress.userIDGroupPairs ?? []).find((p) => p.groupID)!.groupID!;
  if (fn && fnGroups.length > 0 && !fnGroups.includes(from)) {
    return report(false, `Function ${fn.metadata.name} runs in ${fnGroups.join(', ')}, but ${endpointSg.metadata.name} admits tcp/443 only from ${from}: connections time out`);
  }
  return report(true, `${caller.metadata.name} egress tcp/443 → ${endpointIds.join(', ')}; ${endpointSg.metadata.name} ingress tcp/443 ← ${from}`);
}

interface ApiFacts {
  region: string;
  apiAccount: string;
  apiId: string;
  apiIdKnown: boolean;
  policy?: PolicyDocument;
  tags: Record<string, string>;
  name: string;
}

function apiFacts(api: KubeObject, objects: readonly KubeObject[], notes: string[]): ApiFacts {
  const spec = specOf(api, 'RestAPI');
  // ACK's CARM annotation on the namespace names the account that owns the API.
  const nsAccount = str(objects.find((o) => o.kind === 'Namespace' && o.metadata.name === api.metadata.namespace)?.metadata.annotations?.[OWNER_ACCOUNT_ANNOTATION]);
  const region = str(api.metadata.annotations?.[REGION_ANNOTATION]) ?? 'us-east-1';
  const policy = parsePolicy(spec.policy, `RestAPI ${api.metadata.name}`);
  const arns = (policy?.Statement ?? []).flatMap((s) => [s.Resource ?? [], s.NotResource ?? []].flat());
  const m = arns.map((a) => /^arn:[^:]+:execute-api:[^:]+:(\d{12}):([^/]+)\//.exec(a)).find(Boolean);
  const statusId = str(statusOf(api, 'RestAPI').id);
  const apiId = statusId ?? m?.[2];
  if (!apiId) notes.push(`the RestAPI's ID is not known yet (no status.id, no ARN in its policy)`);
  const tagsRaw = spec.tags;
  const tags: Record<string, string> = {};
  if (tagsRaw && typeof tagsRaw === 'object' && !Array.isArray(tagsRaw)) for (const [k, v] of Object.entries(tagsRaw)) if (typeof v === 'string') tags[k] = v;
  return {
    region,
    apiAccount: m?.[1] ?? str(statusOf(api, 'RestAPI').ackResourceMetadata?.ownerAccountID) ?? nsAccount ?? 'UNKNOWN-ACCOUNT',
    apiId: apiId ?? 'UNKNOWN-API-ID',
    apiIdKnown: apiId !== undefined,
    ...(policy && { policy }),
    tags,
    name: api.metadata.name,
  };
}

/** API Gateway's "execute-api:/" shorthand means this API's ARN prefix. */
function expandShorthand(doc: PolicyDocument, prefix: string): PolicyDocument {
  const fix = (v: string | string[] | undefined) =>
    v === undefined ? undefined : Array.isArray(v) ? v.map((x) => (x.startsWith('execute-api:/') ? prefix + x.slice('execute-api:/'.length) : x)) : v.startsWith('execute-api:/') ? prefix + v.slice('execute-api:/'.length) : v;
  return {
    ...doc,
    Statement: doc.Statement.map((s) => {
      const out = { ...s };
      if (s.Resource !== undefined) out.Resource = fix(s.Resource)!;
      if (s.NotResource !== undefined) out.NotResource = fix(s.NotResource)!;
      return out;
    }),
  };
}

function routeMatches(template: string, path: string): boolean {
  const t = template.split('/').filter(Boolean);
  const p = path.split('/').filter(Boolean);
  return t.length === p.length && t.every((seg, i) => /^\{.+\}$/.test(seg) || seg === p[i]);
}

function policyStatementLabel(s: StatementRef | undefined): string {
  if (!s) return '';
  return ` (${s.policy}, statement ${s.index}${s.sid ? ` "${s.sid}"` : ''})`;
}

function describe(result: PolicyResult, what: string): string {
  if (result.decision === 'Deny') return `explicit deny${policyStatementLabel(result.statement)}`;
  if (result.decision === 'Allow') return `allowed${policyStatementLabel(result.statement)}`;
  return `no statement of the ${what} allows it (implicit deny)`;
}

/** The first endpoint ID that the resource policy admits (its StringEquals aws:sourceVpce values). */
export function allowedEndpoints(policy: PolicyDocument | undefined): string[] {
  const out: string[] = [];
  for (const s of policy?.Statement ?? []) {
    if (s.Effect !== 'Allow') continue;
    for (const [op, keys] of Object.entries(s.Condition ?? {})) {
      if (!/^(ForAnyValue:)?StringEquals(IgnoreCase)?$/.test(op)) continue;
      for (const [k, v] of Object.entries(keys)) if (k.toLowerCase() === SOURCE_VPCE_KEY.toLowerCase()) out.push(...[v].flat().map(String));
    }
  }
  return [...new Set(out)];
}

/**
 * The full ARN of a Role object: ACK's status ARN, else built from its name and path with the
 * account from the CARM annotation of its namespace, or from a policy naming that role (one account only).
 */
function roleObjectArn(role: KubeObject, objects: readonly KubeObject[], policyArns: readonly string[]): string | undefined {
  const statusArn = str(statusOf(role, 'Role').ackResourceMetadata?.arn);
  if (statusArn) return statusArn;
  const name = str(specOf(role, 'Role').name);
  if (!name) return undefined;
  const path = str(specOf(role, 'Role').path) ?? '/';
  const partition = partitionOf(str(role.metadata.annotations?.[REGION_ANNOTATION]) ?? 'us-east-1');
  const nsAccount = str(objects.find((o) => o.kind === 'Namespace' && o.metadata.name === role.metadata.namespace)?.metadata.annotations?.[OWNER_ACCOUNT_ANNOTATION]);
  if (nsAccount) return `arn:${partition}:iam::${nsAccount}:role${path}${name}`;
  const accounts = new Set(
    policyArns.map(roleArnParts).filter((p) => p && p.partition === partition && p.path === path && p.name === name).map((p) => p!.account),
  );
  return accounts.size === 1 ? `arn:${partition}:iam::${[...accounts][0]}:role${path}${name}` : undefined;
}

/**
 * Why a host does not reach the API, or undefined when it does (or no host was given). Facts:
 * API Gateway Developer Guide, "Invoke a private API" (private DNS, the alias records of
 * vpcEndpointIds, the endpoint DNS name with Host or x-apigw-api-id).
 */
function routing(host: ReturnType<typeof parseExecuteApiHost>, apiIdHeader: string | undefined, api: { apiId: string; privateDns: boolean; associated: string[] }): { status: number | null; errorType: string | null; message: string } | undefined {
  if (!host) return undefined;
  if (host.kind === 'api') {
    if (host.apiId !== api.apiId) return { status: null, errorType: null, message: `the host names API ${host.apiId}, not this one (${api.apiId})` };
    if (!api.privateDns) {
      return { status: null, errorType: null, message: `the endpoint has no private DNS: ${host.apiId}.execute-api… resolves to API Gateway's public addresses, not the endpoint, and a private API is not served there. Call the endpoint-specific hostname, or the endpoint's DNS name with ${API_ID_HEADER}` };
    }
    return undefined;
  }
  if (host.kind === 'endpoint-specific') {
    if (host.apiId !== api.apiId) return { status: null, errorType: null, message: `the host names API ${host.apiId}, not this one (${api.apiId})` };
    if (!api.associated.includes(host.vpceId)) return { status: null, errorType: null, message: `${host.apiId}-${host.vpceId}.execute-api… does not resolve: ${host.vpceId} is not in the RestAPI's endpointConfiguration.vpcEndpointIDs, so API Gateway created no alias record for it` };
    return undefined;
  }
  if (apiIdHeader === undefined) return { status: 403, errorType: 'ForbiddenException', message: `Forbidden: the endpoint's own DNS name does not say which API is meant; send ${API_ID_HEADER}: ${api.apiId} (or a Host header naming the API)` };
  if (apiIdHeader !== api.apiId) return { status: null, errorType: null, message: `${API_ID_HEADER}: ${apiIdHeader} names another API, not this one (${api.apiId})` };
  return undefined;
}

export function explainCall(objects: readonly KubeObject[], request: CallRequest): Verdict {
  const notes: string[] = [];
  const now = request.now ?? new Date();
  const api = objects.find((o) => o.kind === 'RestAPI');
  if (!api) throw new Error('no RestAPI in the manifests: explain needs account B\'s objects');
  const facts = apiFacts(api, objects, notes);
  const stages = objects.filter((o) => o.kind === 'Stage').map((o) => str(specOf(o, 'Stage').stageName)).filter((s): s is string => !!s);
  const stage = request.stage ?? stages[0] ?? null;
  const method = request.method.toUpperCase();
  const path = `/${request.path.split('/').filter(Boolean).join('/')}`;
  const prefix = executeApiArn(facts.region, facts.apiAccount, facts.apiId, '');
  const resourceArn = `${prefix}${stage ?? 'STAGE-NOT-DEPLOYED'}/${method}/${path.slice(1)}`;
  const resourcePolicy = facts.policy && expandShorthand(facts.policy, prefix);
  const allowed = allowedEndpoints(resourcePolicy);
  // Which endpoint, and whether the host leads to the API at all (private DNS, alias records, header).
  const unmanagedId = str(api.metadata.annotations?.[UNMANAGED_ENDPOINT_ANNOTATION]);
  const ownEndpoint = objects.find((o) => o.kind === 'VPCEndpoint' && (!unmanagedId || str(statusOf(o, 'VPCEndpoint').vpcEndpointID) === unmanagedId));
  const privateDns = api.metadata.annotations?.[PRIVATE_DNS_ANNOTATION] !== 'false' && (ownEndpoint ? specOf(ownEndpoint, 'VPCEndpoint').privateDNSEnabled !== false : true);
  const associated = strings(specOf(api, 'RestAPI').endpointConfiguration?.vpcEndpointIDs);
  const host = request.host ? parseExecuteApiHost(request.host) : undefined;
  if (request.host && !host) throw new Error(`--host ${request.host}: not an execute-api hostname ({api-id}.execute-api.REGION.amazonaws.com, {api-id}-{vpce-id}.execute-api.REGION.amazonaws.com, or vpce-….execute-api.REGION.vpce.amazonaws.com)`);
  const hostVpce = host && host.kind !== 'api' ? host.vpceId : undefined;
  if (request.vpceId && hostVpce && request.vpceId !== hostVpce) throw new Error(`--vpce ${request.vpceId} and --host ${request.host} name different endpoints`);
  const vpceId = request.vpceId ?? hostVpce ?? unmanagedId ?? allowed[0] ?? null;
  if (!request.vpceId && !hostVpce) notes.push(vpceId ? `--vpce not given: using ${vpceId}, ${vpceId === unmanagedId ? 'the existing endpoint the CrossAccountApi names' : 'the first endpoint the resource policy allows'}` : 'no endpoint allowed yet: the resource policy names no aws:sourceVpce');
  const dnsName = ownEndpoint ? statusOf(ownEndpoint, 'VPCEndpoint').dnsEntries?.map((e) => e?.dnsName).find((d): d is string => typeof d === 'string' && /^vpce-/.test(d)) : undefined;
  const targets = facts.apiIdKnown ? invokeTargets({ apiId: facts.apiId, region: facts.region, stage: stage ?? 'STAGE', privateDns, ...(vpceId && { vpceId }), ...(dnsName && { vpceDnsName: dnsName }) }) : [];
  if (!privateDns && vpceId && !associated.includes(vpceId)) notes.push(`${vpceId} is not in the RestAPI's endpointConfiguration.vpcEndpointIDs: API Gateway creates no ${facts.apiId}-${vpceId} alias record for it`);
  const route = routing(host, request.apiIdHeader, { apiId: facts.apiId, privateDns, associated });

  // Route and method (API Gateway answers an unknown route before any authorization).
  const methods = objects.filter((o) => o.kind === 'Method');
  const methodObj = methods.find((m) => {
    const [mm = '', tpl = ''] = (m.metadata.annotations?.[ROUTE_ANNOTATION] ?? '').split(' ');
    return mm.toUpperCase() === method && routeMatches(tpl, path);
  });
  const deployed = stages.length > 0;
  const authType = methodObj ? str(specOf(methodObj, 'Method').authorizationType) ?? 'NONE' : 'AWS_IAM';
  const iam = authType === 'AWS_IAM';
  const principal = iam ? request.roleArn : 'anonymous';
  if (!iam) notes.push(`method ${method} ${path} has authorizationType ${authType}: the request is not authenticated and the caller is "anonymous"`);

  // Layer 1
  const l1 = unmanagedId ? unmanagedLayer1(objects, request, unmanagedId) : layer1(objects, request);

  // Who IAM sees: a session is evaluated as its role, path included (principal.ts).
  const endpoints = objects.filter((o) => o.kind === 'VPCEndpoint');
  const roles = objects.filter((o) => o.kind === 'Role');
  const policyArns = [
    ...endpoints.map((e) => parsePolicy(specOf(e, 'VPCEndpoint').policyDocument, `VPCEndpoint ${e.metadata.name}`)),
    facts.policy,
    ...roles.flatMap((r) => Object.entries(specOf(r, 'Role').inlinePolicies ?? {}).map(([n, t]) => parsePolicy(t, `Role ${r.metadata.name} inline policy ${n}`))),
  ].flatMap((d) => principalArnsIn(d));
  const roleArns = new Map(roles.map((r) => [r, roleObjectArn(r, objects, policyArns)] as const));
  const who = resolvePrincipal(request.roleArn, [...roleArns.values()].filter((a): a is string => !!a).concat(policyArns));
  if (iam && who.note) notes.push(who.note);
  if (iam && who.principalArn !== who.arn) notes.push(`${who.arn} is a session of ${who.principalArn}: aws:PrincipalArn and the policies' principals are matched against the role ARN`);

  // Policy context. aws:resourceTag/* are the API's tags.
  const context: Record<string, string> = { 'aws:PrincipalArn': iam ? who.principalArn : principal, [SOURCE_VPCE_KEY]: vpceId ?? '' };
  if (!vpceId) delete context[SOURCE_VPCE_KEY];
  const account = accountOf(request.roleArn);
  if (iam && account) context['aws:PrincipalAccount'] = account;
  for (const [k, v] of Object.entries(facts.tags)) context[`aws:resourceTag/${k}`] = v;
  const evalReq = { principal, ...(iam && { principalArn: who.principalArn }), action: INVOKE, resource: resourceArn, context };

  // Layer 2: the endpoint policy of the endpoint the request goes through.
  const byId = endpoints.find((e) => str(statusOf(e, 'VPCEndpoint').vpcEndpointID) === vpceId);
  const unknownIds = endpoints.filter((e) => !str(statusOf(e, 'VPCEndpoint').vpcEndpointID));
  const endpoint = byId ?? (unknownIds.length === 1 ? unknownIds[0] : undefined);
  let l2: LayerReport;
  if (unmanagedId && vpceId === unmanagedId && !byId) {
    l2 = { layer: 2, name: LAYER_NAMES[2], allowed: true, unmanaged: true, reason: `the policy of ${unmanagedId} is not xapi's and not in the manifests: assumed to allow (add the VPCEndpoint as ACK reports it to the manifests to check it)` };
    notes.push(`${unmanagedId} is an existing endpoint xapi does not manage: layers 1 and 2 are partly outside what xapi renders`);
  } else if (!endpoint) {
    l2 = { layer: 2, name: LAYER_NAMES[2], allowed: false, reason: `endpoint ${vpceId ?? '(none)'} is not among the manifests' VPCEndpoints: its policy is unknown, and the request cannot be traced` };
  } else {
    const doc = parsePolicy(specOf(endpoint, 'VPCEndpoint').policyDocument, `VPCEndpoint ${endpoint.metadata.name}`);
    if (!doc) {
      l2 = { layer: 2, name: LAYER_NAMES[2], allowed: true, reason: `VPCEndpoint ${endpoint.metadata.name} has no policyDocument: AWS's default endpoint policy allows everything` };
    } else {
      const r = evaluatePolicy(doc, evalReq, 'resource', `endpoint policy of VPCEndpoint ${endpoint.metadata.name}`);
      let reason = describe(r, 'endpoint policy');
      if (r.decision === 'Deny' && !facts.apiIdKnown) reason += ': the endpoint carries nothing until the API ID is known';
      // The reference architecture's tag condition rests on an assumption AWS does not document: say so.
      const tagKeys = [...new Set(doc.Statement.flatMap((st) => Object.values(st.Condition ?? {}).flatMap((keys) => Object.keys(keys))).filter((k) => /^aws:resourcetag\//i.test(k)))];
      if (tagKeys.length > 0) {
        if (r.decision === 'Allow') reason += `; assumes ${tagKeys.join(', ')} is in the request context (see notes)`;
        notes.push(
          `assumption: the endpoint policy of ${endpoint.metadata.name} conditions on ${tagKeys.join(', ')}, and explain takes the RestAPI's tags (${Object.entries(facts.tags).map(([k, v]) => `${k}=${v}`).join(', ') || 'none'}) as its value. ` +
            "The Service Authorization Reference lists no resource-tag condition key for execute-api:Invoke: if API Gateway does not put it in the request context, that Allow never matches and AWS answers 403 AccessDeniedException at layer 2 where explain says 200. Verify with one call (docs/debugging.md, \"Is the Project tag condition honoured?\"); spec.projectTagCondition: false drops the condition",
        );
      }
      l2 = { layer: 2, name: LAYER_NAMES[2], allowed: r.decision === 'Allow', reason, ...(r.statement && { statement: r.statement }) };
    }
  }

  // Layers 3 and 4: resource policy (account B) and identity policy (account A), AWS's cross-account rule.
  // The caller's Role object: matched by full ARN (partition, account, path, name), never by name alone.
  const role = roles.find((r) => roleArns.get(r) === who.principalArn);
  const callerName = roleArnParts(who.principalArn)?.name;
  for (const r of roles) {
    const arn = roleArns.get(r);
    if (r !== role && str(specOf(r, 'Role').name) === callerName) {
      notes.push(arn ? `Role ${r.metadata.name} is ${arn}, not the caller's ${who.principalArn}: its policies are not the caller's` : `Role ${r.metadata.name} has the caller's name, but its account is not known (no status ARN, no CARM namespace annotation, no policy naming it): its policies are not credited to the caller`);
    }
  }
  const identityPolicies = role && iam
    ? Object.entries(specOf(role, 'Role').inlinePolicies ?? {}).flatMap(([name, text]) => {
        const d = parsePolicy(text, `Role ${role.metadata.name} inline policy ${name}`);
        return d ? [{ name: `inline policy ${name} of Role ${role.metadata.name}`, document: d }] : [];
      })
    : [];
  if (!role && iam) notes.push(`role ${request.roleArn} is not among the manifests' Roles: no identity policy is known for it`);
  if (role && strings(specOf(role, 'Role').policies).length > 0) notes.push(`managed policies of Role ${role.metadata.name} (${strings(specOf(role, 'Role').policies).join(', ')}) are not evaluated`);
  const authz = authorize({
    request: evalReq,
    identityPolicies,
    ...(resourcePolicy && { resourcePolicy: { name: `resource policy of RestAPI ${facts.name}`, document: resourcePolicy } }),
    resourceAccount: facts.apiAccount,
  });
  let l3reason = resourcePolicy ? describe(authz.resource, 'resource policy') : 'the RestAPI has no resource policy: a private API cannot be deployed without one';
  if (resourcePolicy && allowed.length === 0) l3reason = `no endpoint allowed yet: ${l3reason}`;
  else if (authz.resource.decision !== 'Allow' && vpceId && !allowed.includes(vpceId)) l3reason += `; ${vpceId} is not an allowed endpoint (allowed: ${allowed.join(', ')})`;
  const l3: LayerReport = { layer: 3, name: LAYER_NAMES[3], allowed: authz.resource.decision === 'Allow', reason: l3reason, ...(authz.resource.statement && { statement: authz.resource.statement }) };

  // Layer 4: method authorization, signature, and the identity side of the IAM decision.
  const skew = request.clockSkewSeconds ?? 0;
  const signature = request.signature ?? 'valid';
  let sigFailure: { responseType: ResponseType; errorType: string; message: string; reason: string } | undefined;
  if (iam) {
    if (signature === 'missing') sigFailure = { responseType: 'MISSING_AUTHENTICATION_TOKEN', errorType: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token', reason: 'the request carries no SigV4 signature but the method requires AWS_IAM' };
    else if (signature === 'invalid') sigFailure = {
      responseType: 'INVALID_SIGNATURE',
      errorType: 'InvalidSignatureException',
      message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      reason: 'the SigV4 signature does not match the request (wrong secret key, or the request changed after signing)',
    };
    else if (signature === 'expired-token') sigFailure = { responseType: 'EXPIRED_TOKEN', errorType: 'ExpiredTokenException', message: 'The security token included in the request is expired', reason: 'the session token of the temporary credentials has expired' };
    else if (Math.abs(skew) > MAX_SKEW_SECONDS) {
      const signed = new Date(now.getTime() + skew * 1000);
      const message = skew > 0
        ? `Signature not yet current: ${amzDate(signed)} is still later than ${amzDate(new Date(now.getTime() + MAX_SKEW_SECONDS * 1000))} (${amzDate(now)} + 5 min.)`
        : `Signature expired: ${amzDate(signed)} is now earlier than ${amzDate(new Date(now.getTime() - MAX_SKEW_SECONDS * 1000))} (${amzDate(now)} - 5 min.)`;
      sigFailure = { responseType: 'INVALID_SIGNATURE', errorType: 'InvalidSignatureException', message, reason: `the signing time is ${Math.round(Math.abs(skew))} s ${skew > 0 ? 'ahead of' : 'behind'} the server clock; SigV4 allows 5 minutes` };
    }
  }
  let l4: LayerReport;
  if (!methodObj && methods.length > 0) l4 = { layer: 4, name: LAYER_NAMES[4], allowed: false, reason: `no Method for ${method} ${path}` };
  else if (!iam) l4 = { layer: 4, name: LAYER_NAMES[4], allowed: false, reason: `authorizationType is ${authType}, not AWS_IAM: the caller is anonymous and the resource policy cannot match its role` };
  else if (sigFailure) l4 = { layer: 4, name: LAYER_NAMES[4], allowed: false, reason: sigFailure.reason };
  else if (authz.identity.decision !== 'Allow' && (authz.crossAccount || authz.resource.decision !== 'Allow')) {
    l4 = { layer: 4, name: LAYER_NAMES[4], allowed: false, reason: `${describe(authz.identity, "caller's identity policy")}${authz.crossAccount ? ' — cross-account: the identity policy in the caller\'s account must allow too' : ''}`, ...(authz.identity.statement && { statement: authz.identity.statement }) };
  } else {
    l4 = { layer: 4, name: LAYER_NAMES[4], allowed: true, reason: `AWS_IAM, valid signature; ${describe(authz.identity, "caller's identity policy")}`, ...(authz.identity.statement && { statement: authz.identity.statement }) };
  }
  if (unmanagedId && byId) l2.unmanaged = true;
  const layers = [l1, l2, l3, l4];
  const base = { resourceArn, vpceId, stage, layers, notes, targets };
  const denied = (status: number, responseType: ResponseType, errorType: string, message: string, decidedBy: Verdict['decidedBy'], statement?: StatementRef): Verdict => ({
    ...base,
    status,
    responseType,
    errorType,
    message,
    allowed: false,
    outcome: 'response',
    decidedBy,
    ...(statement && { statement }),
  });

  // 0. The host does not lead to the private API through an endpoint.
  if (route) {
    if (route.status === null) return { ...base, status: null, responseType: null, errorType: null, message: route.message, allowed: false, outcome: 'unreachable', decidedBy: null };
    return { ...base, status: route.status, responseType: null, errorType: route.errorType, message: route.message, allowed: false, outcome: 'response', decidedBy: null };
  }
  // 1. No connection at all.
  if (!l1.allowed) {
    return { ...base, status: null, responseType: null, errorType: null, message: 'no HTTP response: the connection to the endpoint times out (security groups drop the packets)', allowed: false, outcome: 'timeout', decidedBy: 1 };
  }
  // 2. Routing: an unknown stage or route is answered like a missing token.
  if (deployed && (!stage || !stages.includes(stage) || !methodObj)) {
    return denied(403, 'MISSING_AUTHENTICATION_TOKEN', 'MissingAuthenticationTokenException', 'Missing Authentication Token', null);
  }
  // 3. SigV4.
  if (sigFailure) return denied(403, sigFailure.responseType, sigFailure.errorType, sigFailure.message, 4);
  // 4. Policies: endpoint policy, then the resource + identity decision.
  const notAuthorized = (explicit: boolean) => accessDeniedMessage(principal, resourceArn, explicit);
  if (!l2.allowed) return denied(403, 'ACCESS_DENIED', 'AccessDeniedException', notAuthorized(l2.statement?.effect === 'Deny'), 2, l2.statement);
  if (authz.decision !== 'Allow') {
    const by = authz.decision === 'ExplicitDeny' ? (authz.resource.decision === 'Deny' ? 3 : 4) : !l3.allowed ? 3 : 4;
    const stmt = authz.decision === 'ExplicitDeny' ? authz.statement : by === 3 ? l3.statement : l4.statement;
    return denied(403, 'ACCESS_DENIED', 'AccessDeniedException', notAuthorized(authz.decision === 'ExplicitDeny'), by, stmt);
  }
  if (!deployed) return denied(403, 'MISSING_AUTHENTICATION_TOKEN', 'MissingAuthenticationTokenException', 'Missing Authentication Token', null);
  return { ...base, status: 200, responseType: null, errorType: null, message: 'allowed: API Gateway passes the request to the integration', allowed: true, outcome: 'response', decidedBy: null, ...(authz.statement && { statement: authz.statement }) };
}
