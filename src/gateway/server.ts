// A local stand-in for a private API Gateway REST API: SigV4 (layer 4) and the resource policy
// with aws:sourceVpce (layer 3), answering with API Gateway's default gateway responses.
import { createServer, type Server } from 'node:http';
import { pino } from 'pino';
import { partitionOf } from '../api/partition.js';
import type { KubeObject } from '../api/types.js';
import { ROUTE_ANNOTATION } from '../api/types.js';
import { INVOKE, executeApiArn, type PolicyDocument } from '../policy/documents.js';
import { evaluatePolicy } from '../policy/evaluate.js';
import { verifySigV4, type CredentialEntry } from './sigv4.js';

export interface Route { method: string; pattern: RegExp; template: string; mock: unknown }
export interface GatewayConfig {
  region: string; accountId: string; apiId: string; stages: string[]; policy: PolicyDocument; routes: Route[];
}

const REGION_ANNOTATION = 'services.k8s.aws/region';
type Obj = KubeObject & { spec?: Record<string, unknown>; metadata: { annotations?: Record<string, string> } };

export function configFromManifests(objects: KubeObject[]): GatewayConfig {
  const all = objects as Obj[];
  const api = all.find((o) => o.kind === 'RestAPI');
  if (!api) throw new Error('no RestAPI in the manifests');
  const region = api.metadata.annotations?.[REGION_ANNOTATION];
  if (!region) throw new Error(`RestAPI ${api.metadata.name} has no ${REGION_ANNOTATION} annotation`);
  const policy = JSON.parse(String(api.spec?.policy ?? 'null')) as PolicyDocument | null;
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
  const stages = all.filter((o) => o.kind === 'Stage').map((o) => String(o.spec?.stageName ?? '')).filter(Boolean);
  const routes = all
    .filter((o) => o.kind === 'Method')
    .map((o) => {
      const route = o.metadata.annotations?.[ROUTE_ANNOTATION] ?? '';
      const [method = '', template = ''] = route.split(' ');
      const integ = all.find((i) => i.kind === 'Integration' && i.metadata.annotations?.[ROUTE_ANNOTATION] === route);
      const tpl = (integ?.spec?.requestTemplates as Record<string, string> | undefined) ?? {};
      const pattern = new RegExp(`^${template.split('/').map((s) => (/^\{.+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('/')}$`);
      return { method, template, pattern, mock: { route, requestTemplates: tpl } };
    });
  return { region, accountId: m[1]!, apiId: m[2]!, stages, policy, routes };
}

/**
 * The resource policy's verdict for one signed request (layer 3), by the IAM evaluator. The
 * gateway stands in for account B only, so the caller's identity policy is not part of it.
 */
export function decide(doc: PolicyDocument, principal: string, resource: string, context: Record<string, string>) {
  const r = evaluatePolicy(doc, { principal, action: INVOKE, resource, context }, 'resource');
  if (r.decision === 'NotApplicable') return { effect: 'NotApplicable' as const };
  return { effect: r.decision, index: r.statement!.index, sid: r.statement!.sid };
}

export function createGateway(cfg: GatewayConfig, credentials: CredentialEntry[], opts: { now?: () => Date; log?: pino.Logger } = {}): Server {
  const log = opts.log ?? pino();
  const now = opts.now ?? (() => new Date());
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = (status: number, layer: string, body: unknown, errorType?: string, extra: object = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}) });
        res.end(JSON.stringify(body));
        log.info({ method: req.method, url: req.url, status, layer, errorType, ...extra }, 'request');
      };
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
      const target = req.url ?? '/';
      const path = target.split('?')[0]!;
      const [, stage = '', ...rest] = path.split('/');
      const resourcePath = `/${rest.join('/')}`;
      const route = cfg.routes.find((r) => r.method === req.method && r.pattern.test(resourcePath));
      // API Gateway answers an unknown route with the same type as a missing signature.
      if ((cfg.stages.length && !cfg.stages.includes(stage)) || !route) {
        return answer(403, 'routing', { message: 'Missing Authentication Token' }, 'MissingAuthenticationTokenException');
      }
      const sig = verifySigV4({ method: req.method ?? 'GET', target, headers, body: Buffer.concat(chunks) }, { region: cfg.region, credentials, now: now() });
      if (!sig.ok) return answer(403, 'sigv4', { message: sig.message }, sig.errorType);
      const resource = executeApiArn(cfg.region, cfg.accountId, cfg.apiId, `${stage}/${req.method}${resourcePath}`);
      const context: Record<string, string> = { 'aws:PrincipalArn': sig.credential.arn };
      if (headers['x-amzn-vpce-id']) context['aws:sourceVpce'] = headers['x-amzn-vpce-id'];
      let d: ReturnType<typeof decide>;
      try {
        d = decide(cfg.policy, sig.credential.arn, resource, context);
      } catch (err) {
        // A policy the evaluator cannot read is a configuration error, never an allow.
        return answer(500, 'resource-policy', { message: `Internal server error: ${(err as Error).message}` }, 'InternalServerErrorException');
      }
      if (d.effect !== 'Allow') {
        const message = d.effect === 'Deny'
          ? `User: ${sig.credential.arn} is not authorized to perform: execute-api:Invoke on resource: ${resource} with an explicit deny`
          : `User: ${sig.credential.arn} is not authorized to perform: execute-api:Invoke on resource: ${resource}`;
        return answer(403, 'resource-policy', { Message: message }, 'AccessDeniedException', { statement: d.effect === 'Deny' ? { index: d.index, sid: d.sid } : undefined });
      }
      answer(200, 'integration', route.mock, undefined, { statement: { index: d.index, sid: d.sid } });
    });
  });
}
