// A local stand-in for a private API Gateway REST API: SigV4 (layer 4) and the resource policy
// with aws:sourceVpce (layer 3), answering with API Gateway's default gateway responses.
import { ackObject } from '../api/ack-wire.js';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { pino } from 'pino';
import { API_ID_HEADER, parseExecuteApiHost } from '../api/endpoint.js';
import { partitionOf } from '../api/partition.js';
import type { KubeObject } from '../api/types.js';
import { ROUTE_ANNOTATION } from '../api/types.js';
import { INVOKE, executeApiArn, type PolicyDocument } from '../policy/documents.js';
import { evaluatePolicy } from '../policy/evaluate.js';
import { accessDeniedMessage, principalArnsIn, resolvePrincipal } from '../policy/principal.js';
import { MISSING_TOKEN, parseSigV4, verifySigV4, type CredentialEntry } from './sigv4.js';

export interface Route { method: string; pattern: RegExp; template: string; mock: unknown }
export interface GatewayConfig {
  region: string; accountId: string; apiId: string; stages: string[]; policy: PolicyDocument; routes: Route[];
  /** The RestAPI's endpointConfiguration.vpcEndpointIDs: endpoints with a {api-id}-{vpce-id} alias. */
  associatedEndpointIds?: string[];
}

/**
 * Which endpoint an execute-api Host names, or why API Gateway would not route it to this API.
 * Any other host (127.0.0.1:PORT in tests) is taken as this API through the endpoint that the
 * x-amzn-vpce-id header names, as before.
 */
export function routeHost(cfg: GatewayConfig, hostHeader: string | undefined, apiIdHeader: string | undefined): { vpceId?: string } | { refused: string } {
  const host = hostHeader ? parseExecuteApiHost(hostHeader) : undefined;
  if (!host) return {};
  if (host.kind === 'vpce') {
    if (apiIdHeader !== cfg.apiId) return { refused: `the endpoint DNS name needs ${API_ID_HEADER}: ${cfg.apiId} (got ${apiIdHeader ?? 'none'})` };
    return { vpceId: host.vpceId };
  }
  if (host.apiId !== cfg.apiId) return { refused: `host names API ${host.apiId}, this is ${cfg.apiId}` };
  if (host.kind === 'endpoint-specific') {
    if (!(cfg.associatedEndpointIds ?? []).includes(host.vpceId)) return { refused: `${host.vpceId} is not in the RestAPI's vpcEndpointIDs: no such alias record` };
    return { vpceId: host.vpceId };
  }
  return {};
}

const REGION_ANNOTATION = 'services.k8s.aws/region';

export function configFromManifests(objects: KubeObject[]): GatewayConfig {
  const all = objects;
  const api = all.map((o) => ackObject(o, 'RestAPI')).find((o) => o !== undefined);
  if (!api) throw new Error('no RestAPI in the manifests');
  const region = api.metadata.annotations?.[REGION_ANNOTATION];
  if (!region) throw new Error(`RestAPI ${api.metadata.name} has no ${REGION_ANNOTATION} annotation`);
  const policy = JSON.parse(String(api.spec.policy ?? 'null')) as PolicyDocument | null;
  if (!policy) throw new Error(`RestAPI ${api.metadata.name} has no spec.policy`);
  // The partition is the region's (arn:aws-cn:, arn:aws-us-gov:, ...), as documents.ts renders it.
  const prefix = `arn:${partitionOf(region)}:execute-api:${region}:`;
  const arn = policy.Statement.flatMap((s) => [s.Resource ?? []].flat()).find((r) => r.startsWith(prefix));
  const m = arn ? /^arn:[^:]+:execute-api:[^:]+:(\d{12}):([^/]+)\//.exec(arn) : null;
  if (!m) {
    throw new Error(
      `the resource policy of RestAPI ${api.metadata.name} names no API ID yet: these manifests are a fail-closed first pass ` +
        '(IDs unknown). Render a complete set with `xapi synth --observed FILE` (docs/charts.md) and pass it with --manifests',
    );
  }
  const stages = all.map((o) => ackObject(o, 'Stage')?.spec.stageName ?? '').filter(Boolean);
  const routes = all
    .filter((o) => o.kind === 'Method')
    .map((o) => {
      const route = o.metadata.annotations?.[ROUTE_ANNOTATION] ?? '';
      const [method = '', template = ''] = route.split(' ');
      const integ = all.map((i) => ackObject(i, 'Integration')).find((i) => i?.metadata.annotations?.[ROUTE_ANNOTATION] === route);
      const tpl = integ?.spec.requestTemplates ?? {};
      const pattern = new RegExp(`^${template.split('/').map((s) => (/^\{.+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('/')}$`);
      return { method, template, pattern, mock: { route, requestTemplates: tpl } };
    });
  const associated = (api.spec.endpointConfiguration?.vpcEndpointIDs ?? []).filter((v): v is string => typeof v === 'string');
  return { region, accountId: m[1]!, apiId: m[2]!, stages, policy, routes, ...(associated.length > 0 && { associatedEndpointIds: associated }) };
}

/**
 * The resource policy's verdict for one signed request (layer 3), by the IAM evaluator. The
 * gateway stands in for account B only, so the caller's identity policy is not part of it.
 * `principalArn`: for a session, its role's ARN (aws:PrincipalArn, principal.ts).
 */
export function decide(doc: PolicyDocument, principal: string, resource: string, context: Record<string, string>, principalArn?: string) {
  const r = evaluatePolicy(doc, { principal, ...(principalArn && { principalArn }), action: INVOKE, resource, context }, 'resource');
  if (r.decision === 'NotApplicable') return { effect: 'NotApplicable' as const };
  return { effect: r.decision, index: r.statement!.index, sid: r.statement!.sid };
}

/** API Gateway's payload limit for a REST API request: 10 MB (API Gateway quotas). */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface ResolvedCredential extends CredentialEntry {
  /** aws:PrincipalArn: the role's ARN (with path) for a session, else `arn`. */
  principalArn: string;
}

/**
 * Each credential's aws:PrincipalArn, from the role ARNs the resource policy names, and what the
 * operator should know at start: no credentials at all, a session whose role path is unknown.
 */
export function resolveCredentials(cfg: GatewayConfig, credentials: readonly CredentialEntry[]): { credentials: ResolvedCredential[]; warnings: string[] } {
  const known = [...principalArnsIn(cfg.policy), ...credentials.map((c) => c.arn)];
  const warnings: string[] = [];
  if (credentials.length === 0) warnings.push('the credentials list is empty: every signed request will be answered "The security token included in the request is invalid."');
  const resolved = credentials.map((c) => {
    const who = resolvePrincipal(c.arn, known);
    if (who.note) warnings.push(`${c.accessKeyId}: ${who.note}`);
    return { ...c, principalArn: who.principalArn };
  });
  return { credentials: resolved, warnings };
}

/** The first %-escape in a path that is not two hex digits (or a truncated one), if any. */
export function badEscape(path: string): string | undefined {
  const m = /%(?![0-9A-Fa-f]{2})(.{0,2})/.exec(path);
  return m ? `%${m[1]}` : undefined;
}

export function createGateway(cfg: GatewayConfig, credentials: CredentialEntry[], opts: { now?: () => Date; log?: pino.Logger } = {}): Server {
  const log = opts.log ?? pino();
  const now = opts.now ?? (() => new Date());
  const resolved = resolveCredentials(cfg, credentials);
  for (const w of resolved.warnings) log.warn(w);
  const principalArnOf = new Map(resolved.credentials.map((c) => [c.accessKeyId, c.principalArn]));
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Past the limit the body is only counted, never kept.
      if (size <= MAX_PAYLOAD_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      // Every answer, success or error, carries a request ID as API Gateway's do.
      const requestId = randomUUID();
      const send = (status: number, layer: string, body: string, contentType: string, errorType?: string, extra: object = {}) => {
        res.writeHead(status, { 'content-type': contentType, 'x-amzn-RequestId': requestId, ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}) });
        res.end(body);
        log.info({ method: req.method, url: req.url, status, layer, errorType, requestId, ...extra }, 'request');
      };
      const answer = (status: number, layer: string, body: unknown, errorType?: string, extra: object = {}) =>
        send(status, layer, JSON.stringify(body), 'application/json', errorType, extra);
      if (size > MAX_PAYLOAD_BYTES) {
        // REQUEST_TOO_LARGE: API Gateway's text, not JSON.
        return send(413, 'payload', `HTTP content length exceeded ${MAX_PAYLOAD_BYTES} bytes.`, 'text/plain');
      }
      const headers = req.headersDistinct as Record<string, string[]>;
      // The three ways to name a private API (docs/gateway.md): its own name, the endpoint-specific
      // alias, or the endpoint DNS name with x-apigw-api-id.
      const routed = routeHost(cfg, headers['host']?.[0], headers[API_ID_HEADER]?.[0]);
      if ('refused' in routed) return answer(403, 'host', { message: 'Forbidden' }, 'ForbiddenException', { why: routed.refused });
      const target = req.url ?? '/';
      const path = target.split('?')[0]!;
      const bad = badEscape(path);
      if (bad) return answer(400, 'routing', { message: `Illegal hex character in escape % pattern: ${bad}` });
      // A malformed Authorization header is refused before routing (API Gateway does so even for
      // a route that does not exist); a missing signature on an unknown route reads as a missing token.
      const parsed = parseSigV4({ target, headers });
      if (!parsed.ok && parsed.errorType === 'IncompleteSignatureException') return answer(403, 'sigv4', { message: parsed.message }, parsed.errorType);
      const [, stage = '', ...rest] = path.split('/');
      const resourcePath = `/${rest.join('/')}`;
      const route = cfg.routes.find((r) => r.method === req.method && r.pattern.test(resourcePath));
      // API Gateway answers an unknown route with the same type as a missing signature.
      if ((cfg.stages.length && !cfg.stages.includes(stage)) || !route) {
        return answer(403, 'routing', { message: MISSING_TOKEN }, 'MissingAuthenticationTokenException');
      }
      const sig = verifySigV4({ method: req.method ?? 'GET', target, headers, body: Buffer.concat(chunks) }, { region: cfg.region, credentials, now: now() }, parsed);
      if (!sig.ok) return answer(403, 'sigv4', { message: sig.message }, sig.errorType);
      const resource = executeApiArn(cfg.region, cfg.accountId, cfg.apiId, `${stage}/${req.method}${resourcePath}`);
      const principalArn = principalArnOf.get(sig.credential.accessKeyId) ?? sig.credential.arn;
      const context: Record<string, string> = { 'aws:PrincipalArn': principalArn };
      const vpce = headers['x-amzn-vpce-id']?.[0] ?? routed.vpceId;
      if (vpce) context['aws:sourceVpce'] = vpce;
      let d: ReturnType<typeof decide>;
      try {
        d = decide(cfg.policy, sig.credential.arn, resource, context, principalArn);
      } catch (err) {
        // A policy the evaluator cannot read is a configuration error, never an allow.
        return answer(500, 'resource-policy', { message: `Internal server error: ${(err as Error).message}` }, 'InternalServerErrorException');
      }
      if (d.effect !== 'Allow') {
        const message = accessDeniedMessage(sig.credential.arn, resource, d.effect === 'Deny');
        return answer(403, 'resource-policy', { Message: message }, 'AccessDeniedException', { principalArn, statement: d.effect === 'Deny' ? { index: d.index, sid: d.sid } : undefined });
      }
      answer(200, 'integration', route.mock, undefined, { principalArn, statement: { index: d.index, sid: d.sid } });
    });
  });
}
