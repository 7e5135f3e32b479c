// Who a caller is, as IAM evaluates it. A Lambda signs as an assumed-role session
// (arn:aws:sts::A:assumed-role/ROLE/SESSION), but for a session IAM sets aws:PrincipalArn to the
// role's ARN, path included (arn:aws:iam::A:role/PATH/ROLE), never to the session ARN (IAM User
// Guide, "AWS global condition context keys", aws:PrincipalArn). A session ARN does not carry the
// role's path, so it is looked up among the role ARNs the manifests name.
import type { PolicyDocument, Statement } from './documents.js';

export interface SessionArn {
  partition: string;
  account: string;
  roleName: string;
  sessionName: string;
}

/** The parts of an assumed-role session ARN, or undefined for any other ARN. */
export function sessionOf(arn: string): SessionArn | undefined {
  const m = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(arn);
  return m ? { partition: m[1]!, account: m[2]!, roleName: m[3]!, sessionName: m[4]! } : undefined;
}

export interface RoleArnParts {
  partition: string;
  account: string;
  /** "/" or "/a/b/" */
  path: string;
  name: string;
}

/** The parts of an IAM role ARN (arn:P:iam::A:role/PATH/NAME), or undefined. Wildcards are not roles. */
export function roleArnParts(arn: string): RoleArnParts | undefined {
  const m = /^arn:([^:]+):iam::(\d{12}):role(\/(?:[^*?]*\/)?)([^/*?]+)$/.exec(arn);
  return m ? { partition: m[1]!, account: m[2]!, path: m[3]!, name: m[4]! } : undefined;
}

export interface ResolvedPrincipal {
  /** The ARN the caller signs as; API Gateway names it in "User: ... is not authorized". */
  arn: string;
  /** aws:PrincipalArn: for a session, its role's ARN with the path; otherwise `arn` itself. */
  principalArn: string;
  /** Set when a session's role path is not known: principalArn then assumes the path "/". */
  note?: string;
}

/**
 * Maps a caller ARN to the ARN IAM evaluates. `knownRoleArns` are role ARNs from the manifests
 * (Role objects, policy principals, aws:PrincipalArn values); the one with the session's
 * partition, account and role name gives the path (a role name is unique in an account).
 */
export function resolvePrincipal(arn: string, knownRoleArns: Iterable<string>): ResolvedPrincipal {
  const s = sessionOf(arn);
  if (!s) return { arn, principalArn: arn };
  const matches = [...new Set(knownRoleArns)].filter((r) => {
    const p = roleArnParts(r);
    return p !== undefined && p.partition === s.partition && p.account === s.account && p.name === s.roleName;
  });
  if (matches.length === 1) return { arn, principalArn: matches[0]! };
  const assumed = `arn:${s.partition}:iam::${s.account}:role/${s.roleName}`;
  if (matches.length === 0) {
    return {
      arn,
      principalArn: assumed,
      note: `${arn} is a session of role ${s.roleName}, whose path the manifests do not show (no Role object or policy names arn:${s.partition}:iam::${s.account}:role/…/${s.roleName}): aws:PrincipalArn is taken as ${assumed} (path /); a role with another path would not match it`,
    };
  }
  const chosen = matches.includes(assumed) ? assumed : matches.sort()[0]!;
  return { arn, principalArn: chosen, note: `the manifests name role ${s.roleName} with several paths (${matches.sort().join(', ')}); IAM role names are unique per account, so one of them is wrong: using ${chosen}` };
}

const list = <T>(v: T | readonly T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? [...(v as T[])] : [v as T]);

/** Every ARN a policy names as a principal: Principal/NotPrincipal AWS entries and aws:PrincipalArn condition values. */
export function principalArnsIn(doc: PolicyDocument | undefined): string[] {
  const out: string[] = [];
  for (const s of list<Statement>(doc?.Statement as Statement | Statement[] | undefined)) {
    for (const p of [s.Principal, s.NotPrincipal]) if (p && typeof p === 'object') out.push(...list(p.AWS));
    for (const keys of Object.values(s.Condition ?? {})) {
      for (const [k, v] of Object.entries(keys)) if (k.toLowerCase() === 'aws:principalarn') out.push(...list(v as string | string[]).map(String));
    }
  }
  return out;
}

/** "arn:aws:iam::111111111111:role/x" → "arn:aws:iam::********1111:role/x", as API Gateway masks accounts in its messages. */
export function maskAccount(arn: string): string {
  const parts = arn.split(':');
  if (parts.length < 6 || !/^\d{12}$/.test(parts[4]!)) return arn;
  parts[4] = `********${parts[4]!.slice(-4)}`;
  return parts.join(':');
}

/**
 * API Gateway's AccessDeniedException message. Both ARNs have their account masked to the last
 * four digits (seen in API Gateway's answers, e.g. "arn:aws:execute-api:us-west-2:********2543:...").
 */
export function accessDeniedMessage(callerArn: string, resourceArn: string, explicitDeny: boolean): string {
  return `User: ${maskAccount(callerArn)} is not authorized to perform: execute-api:Invoke on resource: ${maskAccount(resourceArn)}${explicitDeny ? ' with an explicit deny' : ''}`;
}
