// Lint rules on rendered manifests: the reference architecture's rules, checked on the ACK objects
// that will be applied, whoever wrote them. Pure: objects (with where they came from) in,
// findings out; SARIF is built here too so that `xapi lint --output sarif` only prints it.
import { ackObject, type SecurityGroupRule } from '../api/ack-wire.js';
import type { KubeObject } from '../api/types.js';
import { INVOKE, PROJECT_TAG_CONDITION_ANNOTATION, PROJECT_TAG_KEY, SOURCE_VPCE_KEY, type PolicyDocument, type Statement } from './documents.js';
import { actionMatches } from './evaluate.js';
import { AUDIT_RULE, lintAudit } from './lint-audit.js';
import { principalArnsIn, sessionOf } from './principal.js';

export interface LintInput {
  object: KubeObject;
  file: string;
  /** Index of the document in its file. */
  index: number;
  /** 1-based line where the document starts, when known. */
  line?: number;
}

export interface LintRule {
  id: string;
  name: string;
  description: string;
  help: string;
  /** "error" fails `xapi lint`; a "warning" (something switched off) and a "note" (a risk to know about) do not. */
  level: 'error' | 'warning' | 'note';
}

export interface Finding {
  ruleId: string;
  level: LintRule['level'];
  message: string;
  file: string;
  index: number;
  line?: number;
  /** "Kind/name" */
  object: string;
}

export const RULES = {
  wildcardInvoke: {
    id: 'XAPI001',
    name: 'no-wildcard-invoke',
    description: 'No policy may allow execute-api:Invoke on "*", on a wildcard API ID, account or region, or to every principal without a condition.',
    help: 'Grant execute-api:Invoke on exact arn:aws:execute-api:REGION:ACCOUNT:API-ID/STAGE/METHOD/path ARNs (or the API and stage) and name the caller role.',
    level: 'error',
  },
  resourcePolicyVpce: {
    id: 'XAPI002',
    name: 'resource-policy-deny-unless-sourcevpce',
    description: 'The private API\'s resource policy must start with a Deny of execute-api:Invoke unless aws:sourceVpce is an allowed endpoint (or deny everything while no endpoint is known).',
    help: 'Put {"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*","Condition":{"StringNotEquals":{"aws:sourceVpce":"vpce-..."}}} first.',
    level: 'error',
  },
  methodIam: {
    id: 'XAPI003',
    name: 'method-aws-iam',
    description: 'Every API Gateway Method must use authorizationType AWS_IAM, so that SigV4 and the named role apply.',
    help: 'Set spec.authorizationType: AWS_IAM on the Method.',
    level: 'error',
  },
  sgGroupToGroup: {
    id: 'XAPI004',
    name: 'sg-group-to-group-443',
    description: 'Security group rules must be TCP 443 only and name another security group; no CIDR ranges, prefix lists or other ports.',
    help: 'Use {ipProtocol: tcp, fromPort: 443, toPort: 443, userIDGroupPairs: [{groupID: sg-...}]} and nothing else.',
    level: 'error',
  },
  endpointSubnets: {
    id: 'XAPI005',
    name: 'endpoint-two-subnets',
    description: 'The interface VPC endpoint must span two or more distinct subnets (two Availability Zones).',
    help: 'List at least two subnets in different AZs in spec.subnetIDs.',
    level: 'error',
  },
  endpointProjectTag: {
    id: 'XAPI006',
    name: 'endpoint-policy-project-tag',
    description: 'Every Allow in the VPC endpoint policy must require the Project tag (aws:resourceTag/Project) with StringEquals.',
    help: 'Add "Condition": {"StringEquals": {"aws:resourceTag/Project": "<project>"}} to each Allow.',
    level: 'error',
  },
  endpointPrivateDns: {
    id: 'XAPI007',
    name: 'endpoint-private-dns',
    description: 'The execute-api interface endpoint must have private DNS enabled.',
    help: 'Set spec.privateDNSEnabled: true on the VPCEndpoint (note: it is VPC-wide).',
    level: 'error',
  },
  policyJson: {
    id: 'XAPI008',
    name: 'policy-json',
    description: 'Policy documents must be valid JSON with a Statement list.',
    help: 'Render policies with JSON.stringify; never concatenate strings.',
    level: 'error',
  },
  principalSession: {
    id: 'XAPI009',
    name: 'principal-not-a-session',
    description:
      'No policy may name an assumed-role session ARN (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION) as a principal or as an aws:PrincipalArn value: for a session IAM evaluates the role ARN (with its path), so such an Allow never matches and an ArnNotEquals Deny always does.',
    help: 'Name the role: arn:aws:iam::ACCOUNT:role/PATH/ROLE (IAM User Guide, "AWS global condition context keys", aws:PrincipalArn).',
    level: 'error',
  },
  endpointTagAssumption: {
    id: 'XAPI010',
    name: 'endpoint-tag-condition-unverified',
    description:
      "The endpoint policy's Allow is conditioned on aws:resourceTag/*. The Service Authorization Reference lists no resource-tag condition key for execute-api:Invoke; if API Gateway does not put the API's tags into the request context, this Allow never matches and layer 2 denies every call in AWS, while xapi explain and the gateway answer 200.",
    help: 'Verify it with one call in your account (docs/debugging.md, "Is the Project tag condition honoured?"); if it is not, set spec.projectTagCondition: false.',
    level: 'note',
  },
} as const satisfies Record<string, LintRule>;

export const ALL_RULES: LintRule[] = [...Object.values(RULES), AUDIT_RULE];

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function parse(text: unknown): PolicyDocument | string {
  if (typeof text !== 'string') return 'missing';
  try {
    const d = JSON.parse(text) as PolicyDocument;
    if (!d || typeof d !== 'object' || d.Statement === undefined) return 'has no Statement';
    return { ...d, Statement: list(d.Statement as Statement | Statement[]) };
  } catch (e) {
    return `is not valid JSON (${(e as Error).message})`;
  }
}

function grantsInvoke(s: Statement): boolean {
  if (s.Effect !== 'Allow') return false;
  if (s.Action !== undefined) return list(s.Action).some((a) => actionMatches(a, INVOKE));
  if (s.NotAction !== undefined) return !list(s.NotAction).some((a) => actionMatches(a, INVOKE));
  return false;
}

/** Why a statement's resource is a wildcard grant, or undefined when it is scoped. */
function wildcardResource(s: Statement): string | undefined {
  if (s.NotResource !== undefined) return 'uses NotResource (allows everything not listed)';
  for (const r of list(s.Resource)) {
    if (r === '*') return 'allows Resource "*"';
    if (r.startsWith('execute-api:/')) continue; // API Gateway's own-API shorthand: scoped to this API
    const m = /^arn:[^:]*:execute-api:([^:]*):([^:]*):([^/]*)(\/.*)?$/.exec(r);
    if (!m) return `allows a resource that is not an execute-api ARN: ${r}`;
    if (/[*?]/.test(m[1]!) || /[*?]/.test(m[2]!) || /[*?]/.test(m[3]!)) return `allows a wildcard region, account or API ID: ${r}`;
  }
  return undefined;
}

function everyone(s: Statement): boolean {
  const p = s.Principal;
  return p === '*' || (typeof p === 'object' && list(p.AWS).includes('*'));
}

interface PolicyHolder {
  where: string;
  text: unknown;
  kind: 'endpoint' | 'resource' | 'identity';
}

function policiesOf(o: KubeObject): PolicyHolder[] {
  const vpce = ackObject(o, 'VPCEndpoint');
  if (vpce && vpce.spec.policyDocument !== undefined) return [{ where: 'spec.policyDocument', text: vpce.spec.policyDocument, kind: 'endpoint' }];
  const api = ackObject(o, 'RestAPI');
  if (api) return [{ where: 'spec.policy', text: api.spec.policy, kind: 'resource' }];
  const role = ackObject(o, 'Role');
  if (role) return Object.entries(role.spec.inlinePolicies ?? {}).map(([name, text]) => ({ where: `spec.inlinePolicies.${name}`, text, kind: 'identity' as const }));
  // an IAM managed Policy (not rendered by xapi, but linted when found)
  if (o.kind === 'Policy') return [{ where: 'spec.policyDocument', text: (o.spec as { policyDocument?: unknown } | undefined)?.policyDocument, kind: 'identity' }];
  return [];
}

/** Session ARNs a statement names as Principal/NotPrincipal or as aws:PrincipalArn values. */
function sessionPrincipals(st: Statement): string[] {
  return [...new Set(principalArnsIn({ Version: '2012-10-17', Statement: [st] }).filter((a) => sessionOf(a) !== undefined))];
}

function isConditioned(s: Statement): boolean {
  return Object.keys(s.Condition ?? {}).length > 0;
}

function checkResourcePolicy(doc: PolicyDocument): string | undefined {
  const first = doc.Statement[0];
  const hasAllow = doc.Statement.some((s) => s.Effect === 'Allow');
  if (!first) return 'the resource policy has no statements';
  const coversInvoke = (s: Statement) => list(s.Action).some((a) => actionMatches(a, INVOKE));
  if (first.Effect !== 'Deny' || !coversInvoke(first)) return 'the first statement of the resource policy is not a Deny of execute-api:Invoke';
  const vpceCondition = Object.entries(first.Condition ?? {}).some(
    ([op, keys]) => /^StringNotEquals(IfExists)?$/.test(op) && Object.keys(keys).some((k) => k.toLowerCase() === SOURCE_VPCE_KEY.toLowerCase()),
  );
  if (!vpceCondition) {
    if (!isConditioned(first) && !hasAllow) return undefined; // fail-closed: deny everything until an endpoint is known
    return 'the first Deny has no StringNotEquals condition on aws:sourceVpce';
  }
  for (const s of doc.Statement.filter((x) => x.Effect === 'Allow')) {
    const scoped = Object.entries(s.Condition ?? {}).some(([op, keys]) => /^StringEquals$/.test(op) && Object.keys(keys).some((k) => k.toLowerCase() === SOURCE_VPCE_KEY.toLowerCase()));
    if (!scoped) return `Allow ${s.Sid ?? ''} is not limited to the allowed endpoints (StringEquals aws:sourceVpce)`.replace('  ', ' ');
  }
  return undefined;
}

function checkRule(r: SecurityGroupRule, direction: string): string | undefined {
  const proto = String(r.ipProtocol ?? '');
  if (proto !== 'tcp' && proto !== '6') return `${direction} rule uses protocol ${proto || '(none)'}, not tcp`;
  if (r.fromPort !== 443 || r.toPort !== 443) return `${direction} rule opens ports ${String(r.fromPort)}-${String(r.toPort)}, not 443 only`;
  for (const field of ['ipRanges', 'ipv6Ranges', 'prefixListIDs'] as const) {
    const v = r[field];
    if (Array.isArray(v) && v.length > 0) return `${direction} rule uses ${field} (CIDR or prefix list) instead of a security group`;
  }
  const pairs = Array.isArray(r.userIDGroupPairs) ? r.userIDGroupPairs : [];
  if (pairs.length === 0 || pairs.some((p) => !p.groupID && !p.groupRef)) return `${direction} rule does not name a security group`;
  return undefined;
}

export function lint(inputs: readonly LintInput[]): Finding[] {
  const findings: Finding[] = [];
  for (const input of inputs) {
    const o = input.object;
    const add = (rule: LintRule, message: string) =>
      findings.push({ ruleId: rule.id, level: rule.level, message, file: input.file, index: input.index, ...(input.line !== undefined && { line: input.line }), object: `${o.kind}/${o.metadata.name}` });
    for (const holder of policiesOf(o)) {
      const doc = parse(holder.text);
      if (typeof doc === 'string') {
        if (holder.kind === 'resource' && doc === 'missing') add(RULES.resourcePolicyVpce, 'the RestAPI has no resource policy (a private API needs one, and it must deny all but the allowed endpoints)');
        else add(RULES.policyJson, `${holder.where} ${doc}`);
        continue;
      }
      for (const [i, st] of doc.Statement.entries()) {
        if (!grantsInvoke(st)) continue;
        const label = `${holder.where} statement ${i}${st.Sid ? ` (${st.Sid})` : ''}`;
        const why = wildcardResource(st) ?? (holder.kind !== 'identity' && everyone(st) && !isConditioned(st) ? 'allows every principal without a condition' : undefined);
        if (why) add(RULES.wildcardInvoke, `${label} ${why}`);
        if (holder.kind === 'endpoint') {
          const tagged = Object.entries(st.Condition ?? {}).some(([op, keys]) => op === 'StringEquals' && Object.keys(keys).some((k) => k.toLowerCase() === PROJECT_TAG_KEY.toLowerCase()));
          const switchedOff = o.metadata.annotations?.[PROJECT_TAG_CONDITION_ANNOTATION] === 'false';
          if (!tagged && !switchedOff) add(RULES.endpointProjectTag, `${label} does not require ${PROJECT_TAG_KEY} with StringEquals`);
          const tagKeys = Object.values(st.Condition ?? {}).flatMap((keys) => Object.keys(keys)).filter((k) => /^aws:resourcetag\//i.test(k));
          if (tagKeys.length > 0) {
            add(RULES.endpointTagAssumption, `${label} requires ${[...new Set(tagKeys)].join(', ')}: this assumes API Gateway puts the API's tags into execute-api:Invoke's request context, which the Service Authorization Reference does not list; verify with one call (docs/debugging.md) or set spec.projectTagCondition: false`);
          }
        }
      }
      for (const [i, st] of doc.Statement.entries()) {
        const sessions = sessionPrincipals(st);
        if (sessions.length > 0) {
          add(RULES.principalSession, `${holder.where} statement ${i}${st.Sid ? ` (${st.Sid})` : ''} names the session ${sessions.join(', ')}: IAM evaluates a session as its role (aws:PrincipalArn is arn:…:iam::ACCOUNT:role/PATH/ROLE), so this never matches a caller`);
        }
      }
      if (holder.kind === 'resource') {
        const problem = checkResourcePolicy(doc);
        if (problem) add(RULES.resourcePolicyVpce, problem);
      }
    }

    const method = ackObject(o, 'Method');
    if (method && method.spec.authorizationType !== 'AWS_IAM') add(RULES.methodIam, `authorizationType is ${String(method.spec.authorizationType ?? '(unset)')}, not AWS_IAM`);

    const sg = ackObject(o, 'SecurityGroup');
    if (sg) {
      for (const direction of ['ingress', 'egress'] as const) {
        const rules = sg.spec[`${direction}Rules`];
        for (const r of Array.isArray(rules) ? rules : []) {
          const problem = checkRule(r, direction);
          if (problem) add(RULES.sgGroupToGroup, problem);
        }
      }
    }

    const vpce = ackObject(o, 'VPCEndpoint');
    if (vpce) {
      const s = vpce.spec;
      const subnets = new Set([...(Array.isArray(s.subnetIDs) ? s.subnetIDs : []), ...(Array.isArray(s.subnetRefs) ? s.subnetRefs.map((r) => JSON.stringify(r)) : [])]);
      if (subnets.size < 2) add(RULES.endpointSubnets, `the endpoint spans ${subnets.size} distinct subnet(s); two or more are required`);
      if (s.privateDNSEnabled !== true) add(RULES.endpointPrivateDns, `privateDNSEnabled is ${String(s.privateDNSEnabled ?? '(unset)')}`);
      if (s.policyDocument === undefined) add(RULES.endpointProjectTag, 'the endpoint has no policyDocument: AWS applies its full-access default policy');
    }
  }
  return [...findings, ...lintAudit(inputs)];
}

/** SARIF 2.1.0 for GitHub code scanning. `uri` maps a file to the path relative to the repository. */
export function toSarif(findings: readonly Finding[], opts: { version: string; uri?: (file: string) => string } = { version: '0.0.0' }): unknown {
  const uri = opts.uri ?? ((f: string) => f);
  const index = new Map<string, number>(ALL_RULES.map((r, i) => [r.id, i]));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'xapi-lint',
            version: opts.version,
            informationUri: 'https://github.com/xapi-dev/xapi/blob/main/docs/debugging.md',
            rules: ALL_RULES.map((r) => ({
              id: r.id,
              name: r.name,
              shortDescription: { text: r.description },
              fullDescription: { text: r.description },
              help: { text: r.help },
              defaultConfiguration: { level: r.level },
              properties: { tags: ['security'] },
            })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.ruleId,
          ruleIndex: index.get(f.ruleId) ?? 0,
          level: f.level,
          message: { text: `${f.object}: ${f.message}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: uri(f.file) },
                region: { startLine: f.line ?? 1 },
              },
              logicalLocations: [{ name: f.object, kind: 'object' }],
            },
          ],
        })),
      },
    ],
  };
}
