// `xapi explain`: which of the four layers lets a call through or stops it, and with which
// statement, from the rendered manifests (offline: nothing is sent to AWS).
import type { Command } from 'commander';
import { ENDPOINT_GROUP_LABEL, HTTP_METHODS, OWNER_LABEL, type KubeObject } from '../../api/types.js';
import { explainCall, type SignatureState, type Verdict } from '../../policy/layers.js';
import { loadManifests } from '../load-manifests.js';
import { processIo, table, type CliIo } from '../io.js';

export interface ExplainFlags {
  role: string;
  method: string;
  path: string;
  stage?: string;
  vpce?: string;
  skew?: string;
  signature: string;
  callerSg: boolean;
  manifests: string;
  api?: string;
  host?: string;
  apiIdHeader?: string;
  output: string;
}

/** "6m", "90s", "1h", "300" (seconds), with an optional sign; returns seconds. */
export function parseDuration(text: string): number {
  const m = /^([+-]?)(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`--skew: not a duration: ${text} (use e.g. 6m, 90s, -6m)`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600 }[(m[3] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return (m[1] === '-' ? -1 : 1) * Number(m[2]) * unit;
}

const SIGNATURES: readonly SignatureState[] = ['valid', 'invalid', 'missing', 'expired-token'];

/**
 * The resource path as API Gateway routes it, from what a user types: "items" gets its leading
 * slash, "//items" and "/items/" lose the empty segments, a query string is dropped (it plays no
 * part in routing or in the execute-api ARN). Each change is said in `notes`. A malformed
 * %-escape is refused: API Gateway answers such a request 400 before any route or policy.
 */
export function normalisePath(text: string): { path: string; notes: string[] } {
  const notes: string[] = [];
  let p = text.trim();
  if (p === '') throw new Error('--path: empty (use e.g. /items/42)');
  if (/\s/.test(p)) throw new Error(`--path ${JSON.stringify(text)}: a path has no spaces (percent-encode them as %20)`);
  const q = p.search(/[?#]/);
  if (q >= 0) {
    notes.push(`--path ${text}: the query string ${p.slice(q)} is dropped; it plays no part in routing or in the execute-api:Invoke resource ARN`);
    p = p.slice(0, q);
  }
  const bad = /%(?![0-9A-Fa-f]{2})(.{0,2})/.exec(p);
  if (bad) throw new Error(`--path ${text}: malformed percent-encoding %${bad[1]} (API Gateway answers such a request 400 before any route or policy)`);
  const normal = `/${p.split('/').filter(Boolean).join('/')}`;
  if (normal !== p) notes.push(`--path ${text} read as ${normal}`);
  return { path: normal, notes };
}

/** "get" → "GET"; anything but an HTTP method API Gateway routes is refused. */
export function normaliseMethod(text: string): string {
  const m = text.trim().toUpperCase();
  if (!(HTTP_METHODS as readonly string[]).includes(m)) throw new Error(`--method must be one of ${HTTP_METHODS.join(', ')} (any case), got ${text}`);
  return m;
}

function selectApi(objects: KubeObject[], api: string | undefined): KubeObject[] {
  const apis = objects.filter((o) => o.kind === 'RestAPI');
  if (apis.length === 0) throw new Error('no RestAPI in the manifests (explain needs both accounts\' objects)');
  if (apis.length === 1 && !api) return objects;
  if (!api) throw new Error(`the manifests hold ${apis.length} RestAPIs (${apis.map((a) => a.metadata.name).join(', ')}): choose one with --api NAME`);
  const chosen = apis.find((a) => a.metadata.name === api);
  if (!chosen) throw new Error(`--api ${api}: no RestAPI of that name (have ${apis.map((a) => a.metadata.name).join(', ')})`);
  const owner = chosen.metadata.labels?.[OWNER_LABEL];
  if (!owner) return objects;
  const mine = objects.filter((o) => o.metadata.labels?.[OWNER_LABEL] === owner);
  // The shared endpoint of the API's VPC (labelled by its endpoint group, not by an owner): the
  // one in the namespace and VPC of this API's caller group.
  const place = (o: KubeObject) => `${o.metadata.namespace ?? ''}|${String((o.spec as { vpcID?: unknown } | undefined)?.vpcID ?? '')}`;
  const places = new Set(mine.filter((o) => o.kind === 'SecurityGroup').map(place));
  const groups = new Set(objects.filter((o) => o.metadata.labels?.[ENDPOINT_GROUP_LABEL] && places.has(place(o))).map((o) => o.metadata.labels![ENDPOINT_GROUP_LABEL]));
  return objects.filter((o) => o.metadata.labels?.[OWNER_LABEL] === owner || groups.has(o.metadata.labels?.[ENDPOINT_GROUP_LABEL] ?? ''));
}

function statementText(s: Verdict['statement']): string {
  if (!s) return '-';
  return `${s.effect} #${s.index}${s.sid ? ` ${s.sid}` : ''}`;
}

export function formatVerdict(v: Verdict, request: { method: string; path: string; role: string }): string {
  const head = [
    `${request.method.toUpperCase()} ${request.path}  stage ${v.stage ?? '(not deployed)'}  via ${v.vpceId ?? '(no endpoint)'}  as ${request.role}`,
    `resource ${v.resourceArn}`,
    '',
  ].join('\n');
  const rows = v.layers.map((l) => [String(l.layer), `${l.name}${l.unmanaged ? ' (not xapi\'s)' : ''}`, l.allowed ? 'allow' : 'DENY', statementText(l.statement), l.reason]);
  const body = table(['LAYER', 'NAME', 'RESULT', 'STATEMENT', 'REASON'], rows);
  let verdict: string;
  if (v.outcome === 'timeout') verdict = `=> no response (connection timeout), decided by layer 1: ${v.message}`;
  else if (v.outcome === 'unreachable') verdict = `=> the request does not reach the API (decided by the hostname, before any layer): ${v.message}`;
  else if (v.allowed) verdict = `=> ${v.status} OK${v.statement ? ` (granted by ${v.statement.policy}, statement #${v.statement.index}${v.statement.sid ? ` ${v.statement.sid}` : ''})` : ''}`;
  else {
    const by = v.decidedBy ? `decided by layer ${v.decidedBy} (${v.layers[v.decidedBy - 1]!.name})` : 'decided by routing (no such stage/route)';
    const stmt = v.statement ? `; statement #${v.statement.index}${v.statement.sid ? ` ${v.statement.sid}` : ''} of ${v.statement.policy}` : '';
    verdict = `=> ${v.status} ${v.responseType} (${v.errorType}), ${by}${stmt}\n   message: ${v.message}`;
  }
  const notes = v.notes.length ? `\nnotes:\n${v.notes.map((n) => `  - ${n}`).join('\n')}\n` : '';
  const header = (h: Record<string, string>) => Object.entries(h).map(([k, x]) => ` -H '${k}: ${x}'`).join('');
  const targets = v.targets.length ? `\ncall it as:\n${v.targets.map((t) => `  ${t.url}${header(t.headers)}  (${t.note})`).join('\n')}\n` : '';
  return `${head}${body}\n${verdict}\n${notes}${targets}`;
}

export function verdictJson(v: Verdict): string {
  return JSON.stringify(
    {
      status: v.status,
      responseType: v.responseType,
      errorType: v.errorType,
      message: v.message,
      allowed: v.allowed,
      outcome: v.outcome,
      decidedBy: v.decidedBy,
      statement: v.statement ?? null,
      resourceArn: v.resourceArn,
      vpceId: v.vpceId,
      stage: v.stage,
      layers: v.layers.map((l) => ({ layer: l.layer, name: l.name, allowed: l.allowed, reason: l.reason, statement: l.statement ?? null, managedByXapi: !l.unmanaged })),
      notes: v.notes,
      targets: v.targets,
    },
    null,
    2,
  );
}

export async function runExplain(flags: ExplainFlags, io: CliIo, now: Date = new Date()): Promise<Verdict> {
  if (!['table', 'json'].includes(flags.output)) throw new Error(`--output must be table or json, got ${flags.output}`);
  if (!SIGNATURES.includes(flags.signature as SignatureState)) throw new Error(`--signature must be one of ${SIGNATURES.join(', ')}, got ${flags.signature}`);
  if (!/^arn:[^:]+:(iam|sts)::\d{12}:(role|assumed-role)\//.test(flags.role)) throw new Error(`--role must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME), got ${flags.role}`);
  const method = normaliseMethod(flags.method);
  const { path, notes } = normalisePath(flags.path);
  const objects = selectApi((await loadManifests(flags.manifests)).map((l) => l.object), flags.api);
  const verdict = explainCall(objects, {
    roleArn: flags.role,
    method,
    path,
    ...(flags.stage && { stage: flags.stage }),
    ...(flags.vpce && { vpceId: flags.vpce }),
    viaCallerSecurityGroup: flags.callerSg,
    signature: flags.signature as SignatureState,
    // --skew is how far the caller's clock is behind AWS's: the signature is that old.
    clockSkewSeconds: flags.skew ? -parseDuration(flags.skew) : 0,
    ...(flags.host && { host: flags.host }),
    ...(flags.apiIdHeader && { apiIdHeader: flags.apiIdHeader }),
    now,
  });
  verdict.notes.unshift(...notes);
  io.out(flags.output === 'json' ? `${verdictJson(verdict)}\n` : formatVerdict(verdict, { ...flags, method, path }));
  io.exitCode(verdict.allowed ? 0 : 1);
  return verdict;
}

export function registerExplain(program: Command, io: CliIo = processIo): void {
  program
    .command('explain')
    .description('explain which of the four layers allows or denies a call, and which statement decided (exit 1 when denied)')
    .requiredOption('--role <arn>', 'ARN of the calling role (account A)')
    .requiredOption('--method <method>', 'HTTP method, e.g. GET')
    .requiredOption('--path <path>', 'resource path without the stage, e.g. /items/42')
    .option('--stage <stage>', 'stage name (default: the Stage in the manifests)')
    .option('--vpce <id>', 'VPC endpoint the request arrives through (default: the first one the resource policy allows)')
    .option('--skew <duration>', "how far the caller's clock is behind AWS's, e.g. 6m (a leading - means ahead)")
    .option('--signature <state>', 'valid | invalid | missing | expired-token', 'valid')
    .option('--no-caller-sg', 'the caller does not run in the caller security group')
    .option('--manifests <dir>', 'folder or file of rendered manifests (both accounts)', 'manifests')
    .option('--api <name>', 'RestAPI object name, when the manifests hold several')
    .option('--host <host>', 'host the caller calls: {api-id}.execute-api.REGION.amazonaws.com, {api-id}-{vpce-id}.execute-api.REGION.amazonaws.com, or the endpoint DNS name vpce-….vpce.amazonaws.com')
    .option('--api-id-header <id>', 'value of the x-apigw-api-id header the caller sends (with the endpoint DNS name)')
    .option('--output <format>', 'table | json', 'table')
    .action(async (opts: ExplainFlags) => {
      await runExplain(opts, io);
    });
}
