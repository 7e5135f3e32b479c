// An evaluator for the IAM policy language, for the parts xapi's policies (and the ones users
// hand us) use: Effect, Principal/NotPrincipal, Action/NotAction, Resource/NotResource and the
// string, ARN, Bool and Null condition operators with their IfExists and ForAnyValue/ForAllValues
// forms. Pure. An operator it does not know is an error, never silently true or false: guessing
// would either widen an Allow or drop a Deny.
import type { PolicyDocument, PrincipalValue, Statement, StringOrList } from './documents.js';
import { sessionOf } from './principal.js';

/** Values a request carries for condition keys; key names are matched case-insensitively. */
export type ContextValue = string | boolean | readonly string[];

export interface EvalRequest {
  /** ARN of the caller (IAM role, user, assumed-role session), or "anonymous" for unsigned calls. */
  principal: string;
  /**
   * For an assumed-role session: its role's ARN with the path (what aws:PrincipalArn holds, see
   * principal.ts). A Principal naming that role matches the session. Derived without a path when absent.
   */
  principalArn?: string;
  /** Service principal, when a service calls (e.g. lambda.amazonaws.com). */
  service?: string;
  action: string;
  resource: string;
  context?: Record<string, ContextValue | undefined>;
}

export type PolicyKind = 'identity' | 'resource';

export interface StatementRef {
  /** The policy's label as the caller named it, e.g. "resource policy of RestAPI orders-api". */
  policy: string;
  index: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
}

export interface PolicyResult {
  /** Allow: some Allow matched and no Deny. Deny: an explicit Deny matched. NotApplicable: nothing matched. */
  decision: 'Allow' | 'Deny' | 'NotApplicable';
  /** The statement that decided (the first matching Deny, else the first matching Allow). */
  statement?: StatementRef;
}

export class PolicyEvaluationError extends Error {}

const list = <T>(v: T | readonly T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? [...(v as T[])] : [v as T]);

function globRegExp(pattern: string, flags: string): RegExp {
  let out = '';
  for (const ch of pattern) {
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else out += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, flags);
}

/** `*` any run of characters, `?` one character; case-sensitive unless ignoreCase. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  return globRegExp(pattern, ignoreCase ? 'is' : 's').test(value);
}

/** Actions are "service:Name" and case-insensitive. */
export function actionMatches(pattern: string, action: string): boolean {
  return globMatch(pattern, action, true);
}

/** Resources are case-sensitive; "*" alone matches everything. */
export function resourceMatches(pattern: string, resource: string): boolean {
  return pattern === '*' || globMatch(pattern, resource);
}

/** ARN components compared one by one, each with wildcards (ArnEquals and ArnLike behave alike). */
export function arnMatches(pattern: string, arn: string): boolean {
  const split = (s: string) => {
    const parts = s.split(':');
    return parts.length < 6 ? undefined : [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const p = split(pattern);
  const a = split(arn);
  if (!p || !a) return pattern === '*' ? true : false;
  return p.every((part, i) => globMatch(part, a[i]!));
}

/** The account of an ARN ("arn:aws:iam::111111111111:role/x" → "111111111111"), if any. */
export function accountOf(arn: string): string | undefined {
  const account = arn.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}

/** The ARNs a principal is known by: an assumed-role session is also its role (with its path). */
function principalIdentities(req: EvalRequest): string[] {
  const s = sessionOf(req.principal);
  if (!s) return [req.principal];
  return [req.principal, req.principalArn ?? `arn:${s.partition}:iam::${s.account}:role/${s.roleName}`];
}

function principalEntryMatches(entry: string, req: EvalRequest): boolean {
  if (entry === '*') return true;
  if (req.principal === 'anonymous') return false;
  const account = accountOf(req.principal);
  if (/^\d{12}$/.test(entry)) return entry === account;
  const root = /^arn:[^:]+:iam::(\d{12}):root$/.exec(entry);
  if (root) return root[1] === account;
  return principalIdentities(req).includes(entry);
}

function principalMatches(value: PrincipalValue, req: EvalRequest): boolean {
  if (value === '*') return true;
  if (list(value.AWS).some((e) => principalEntryMatches(e, req))) return true;
  return req.service !== undefined && list(value.Service).some((s) => s === '*' || s === req.service);
}

type Compare = (policyValue: string, requestValue: string) => boolean;

interface BaseOperator {
  compare: Compare;
  /** StringNotEquals, ArnNotLike...: true when no policy value matches; true on a missing key. */
  negated: boolean;
}

const BASE: Record<string, BaseOperator> = {
  StringEquals: { compare: (p, v) => p === v, negated: false },
  StringNotEquals: { compare: (p, v) => p === v, negated: true },
  StringEqualsIgnoreCase: { compare: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { compare: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: true },
  StringLike: { compare: (p, v) => globMatch(p, v), negated: false },
  StringNotLike: { compare: (p, v) => globMatch(p, v), negated: true },
  ArnEquals: { compare: arnMatches, negated: false },
  ArnLike: { compare: arnMatches, negated: false },
  ArnNotEquals: { compare: arnMatches, negated: true },
  ArnNotLike: { compare: arnMatches, negated: true },
  Bool: { compare: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: false },
};

interface ParsedOperator {
  set?: 'ForAnyValue' | 'ForAllValues';
  name: string;
  ifExists: boolean;
}

export function parseOperator(operator: string): ParsedOperator {
  let rest = operator;
  let set: ParsedOperator['set'];
  const prefix = /^(ForAnyValue|ForAllValues):/.exec(rest);
  if (prefix) {
    set = prefix[1] as ParsedOperator['set'];
    rest = rest.slice(prefix[0].length);
  }
  const ifExists = rest.endsWith('IfExists') && rest !== 'IfExists';
  const name = ifExists ? rest.slice(0, -'IfExists'.length) : rest;
  if (name !== 'Null' && !BASE[name]) throw new PolicyEvaluationError(`unsupported condition operator: ${operator}`);
  if (name === 'Null' && (ifExists || set)) throw new PolicyEvaluationError(`unsupported condition operator: ${operator}`);
  return { ...(set && { set }), name, ifExists };
}

const asStrings = (v: unknown): string[] => list(v as unknown).map((x) => String(x));

function lookup(context: EvalRequest['context'], key: string): string[] | undefined {
  if (!context) return undefined;
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(context)) {
    if (k.toLowerCase() === lower && v !== undefined) return asStrings(v);
  }
  return undefined;
}

/** One operator on one key: multiple policy values are ORed (NOR for negated operators). */
export function conditionKeyMatches(operator: string, key: string, policyValue: unknown, context: EvalRequest['context']): boolean {
  const op = parseOperator(operator);
  const wanted = asStrings(policyValue);
  const values = lookup(context, key);
  if (op.name === 'Null') {
    const absent = values === undefined || values.length === 0;
    // Null: true → the key must be absent; false → present. Several values are ORed.
    return wanted.some((w) => (w.toLowerCase() === 'true' ? absent : !absent));
  }
  const base = BASE[op.name]!;
  const hit = (v: string) => wanted.some((w) => base.compare(w, v));
  const present = values !== undefined && values.length > 0;
  if (op.set === 'ForAllValues') {
    // Vacuously true on a missing or empty key (AWS's documented trap).
    if (!present) return true;
    return values.every((v) => (base.negated ? !hit(v) : hit(v)));
  }
  if (op.set === 'ForAnyValue') {
    if (!present) return op.ifExists;
    return values.some((v) => (base.negated ? !hit(v) : hit(v)));
  }
  if (!present) return op.ifExists || base.negated;
  return base.negated ? !values.some(hit) : values.some(hit);
}

/** Every operator and every key in a Condition block must hold (AND). */
export function conditionsMatch(condition: Statement['Condition'], context: EvalRequest['context']): boolean {
  for (const [operator, keys] of Object.entries(condition ?? {})) {
    for (const [key, value] of Object.entries(keys)) {
      if (!conditionKeyMatches(operator, key, value, context)) return false;
    }
  }
  return true;
}

/** Whether a statement applies to a request (its Effect aside). */
export function statementMatches(s: Statement, req: EvalRequest, kind: PolicyKind): boolean {
  if (kind === 'resource') {
    if (s.Principal !== undefined) {
      if (!principalMatches(s.Principal, req)) return false;
    } else if (s.NotPrincipal !== undefined) {
      if (principalMatches(s.NotPrincipal, req)) return false;
    } else {
      return false; // a resource policy statement names its principals
    }
  }
  if (s.Action !== undefined) {
    if (!list<string>(s.Action as StringOrList).some((a) => actionMatches(a, req.action))) return false;
  } else if (s.NotAction !== undefined) {
    if (list<string>(s.NotAction as StringOrList).some((a) => actionMatches(a, req.action))) return false;
  } else {
    return false;
  }
  if (s.Resource !== undefined) {
    if (!list<string>(s.Resource as StringOrList).some((r) => resourceMatches(r, req.resource))) return false;
  } else if (s.NotResource !== undefined) {
    if (list<string>(s.NotResource as StringOrList).some((r) => resourceMatches(r, req.resource))) return false;
  }
  return conditionsMatch(s.Condition, req.context);
}

/** One policy: an explicit Deny wins, then an Allow, else not applicable (implicit deny). */
export function evaluatePolicy(doc: PolicyDocument, req: EvalRequest, kind: PolicyKind, label = kind === 'identity' ? 'identity policy' : 'resource policy'): PolicyResult {
  let allow: StatementRef | undefined;
  const statements = list<Statement>(doc.Statement as Statement | Statement[]);
  for (const [index, s] of statements.entries()) {
    if (!statementMatches(s, req, kind)) continue;
    const ref: StatementRef = { policy: label, index, effect: s.Effect, ...(s.Sid !== undefined && { sid: s.Sid }) };
    if (s.Effect === 'Deny') return { decision: 'Deny', statement: ref };
    if (s.Effect === 'Allow' && !allow) allow = ref;
  }
  return allow ? { decision: 'Allow', statement: allow } : { decision: 'NotApplicable' };
}

export interface NamedPolicy {
  name: string;
  document: PolicyDocument;
}

export interface AuthorizationInput {
  request: EvalRequest;
  /** Policies attached to the caller (its account's side). */
  identityPolicies: readonly NamedPolicy[];
  /** The resource's policy (the API's resource policy), if any. */
  resourcePolicy?: NamedPolicy;
  /** Account that owns the resource. */
  resourceAccount: string;
}

export interface Authorization {
  decision: 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
  crossAccount: boolean;
  /** The deciding statement: the explicit Deny, or the Allow(s) that granted. */
  statement?: StatementRef;
  identity: PolicyResult;
  resource: PolicyResult;
  reason: string;
}

/**
 * AWS's rule for a request that may involve two accounts: any explicit Deny wins; in one account
 * an Allow in either the identity or the resource policy suffices; across accounts both the
 * identity policy (caller's account) and the resource policy (resource's account) must allow.
 */
export function authorize(input: AuthorizationInput): Authorization {
  const { request } = input;
  let identity: PolicyResult = { decision: 'NotApplicable' };
  for (const p of input.identityPolicies) {
    const r = evaluatePolicy(p.document, request, 'identity', p.name);
    if (r.decision === 'Deny') {
      identity = r;
      break;
    }
    if (r.decision === 'Allow' && identity.decision !== 'Allow') identity = r;
  }
  const resource: PolicyResult = input.resourcePolicy
    ? evaluatePolicy(input.resourcePolicy.document, request, 'resource', input.resourcePolicy.name)
    : { decision: 'NotApplicable' };
  const callerAccount = accountOf(request.principal);
  const crossAccount = callerAccount !== input.resourceAccount;
  const base = { crossAccount, identity, resource };
  const deny = [identity, resource].find((r) => r.decision === 'Deny');
  if (deny) return { ...base, decision: 'ExplicitDeny', statement: deny.statement!, reason: `explicit deny in ${deny.statement!.policy}${deny.statement!.sid ? ` (${deny.statement!.sid})` : ''}` };
  const idOk = identity.decision === 'Allow';
  const resOk = resource.decision === 'Allow';
  if (crossAccount) {
    if (idOk && resOk) return { ...base, decision: 'Allow', statement: resource.statement!, reason: 'cross-account: both the identity policy and the resource policy allow' };
    const missing = [!idOk && 'no identity policy of the caller allows it', !resOk && 'the resource policy does not allow it'].filter(Boolean).join(' and ');
    return { ...base, decision: 'ImplicitDeny', reason: `cross-account call: ${missing} (both sides must allow)` };
  }
  if (resOk || idOk) return { ...base, decision: 'Allow', statement: (resOk ? resource : identity).statement!, reason: `same account: ${resOk ? 'the resource policy' : 'an identity policy'} allows` };
  return { ...base, decision: 'ImplicitDeny', reason: 'no statement allows it (implicit deny)' };
}
