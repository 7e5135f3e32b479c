import type { PolicyDocument, Statement } from '../../../src/policy/documents.js';
import {
  PolicyEvaluationError,
  authorize,
  conditionKeyMatches,
  evaluatePolicy,
  type EvalRequest,
  type PolicyKind,
} from '../../../src/policy/evaluate.js';

const ROLE = 'arn:aws:iam::111111111111:role/orders-caller';
const OTHER_ROLE = 'arn:aws:iam::111111111111:role/other';
const API = 'arn:aws:execute-api:us-east-1:222222222222:abc123';
const GET_ITEMS = `${API}/prod/GET/items`;
const VPCE = 'vpce-0123456789abcdef0';

const doc = (...Statement: Statement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });
const req = (over: Partial<EvalRequest> = {}): EvalRequest => ({
  principal: ROLE,
  action: 'execute-api:Invoke',
  resource: GET_ITEMS,
  context: { 'aws:sourceVpce': VPCE, 'aws:PrincipalArn': ROLE },
  ...over,
});
const allow = (s: Partial<Statement> = {}): Statement => ({ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: `${API}/*`, ...s });
const deny = (s: Partial<Statement> = {}): Statement => ({ Effect: 'Deny', Action: 'execute-api:Invoke', Resource: `${API}/*`, ...s });

interface Case {
  name: string;
  kind?: PolicyKind;
  policy: PolicyDocument;
  request?: Partial<EvalRequest>;
  decision: 'Allow' | 'Deny' | 'NotApplicable';
  /** index of the deciding statement */
  index?: number;
}

const cases: Case[] = [
  // Action and NotAction
  { name: 'exact action allows', policy: doc(allow()), decision: 'Allow', index: 0 },
  { name: 'actions are case-insensitive', policy: doc(allow({ Action: 'EXECUTE-API:invoke' })), decision: 'Allow' },
  { name: 'service wildcard action', policy: doc(allow({ Action: 'execute-api:*' })), decision: 'Allow' },
  { name: '? matches one character in an action', policy: doc(allow({ Action: 'execute-api:Invok?' })), decision: 'Allow' },
  { name: '? does not match two characters', policy: doc(allow({ Action: 'execute-api:Inv?' })), decision: 'NotApplicable' },
  { name: 'other action does not match', policy: doc(allow({ Action: 'execute-api:ManageConnections' })), decision: 'NotApplicable' },
  { name: 'action list: any entry matches', policy: doc(allow({ Action: ['s3:GetObject', 'execute-api:Invoke'] })), decision: 'Allow' },
  { name: 'NotAction: allow everything except the listed action', policy: doc(allow({ Action: undefined, NotAction: 's3:*' })), decision: 'Allow' },
  { name: 'NotAction excludes the listed action', policy: doc(allow({ Action: undefined, NotAction: 'execute-api:*' })), decision: 'NotApplicable' },
  { name: 'Deny with NotAction covers other actions only', policy: doc(allow(), deny({ Action: undefined, NotAction: 'execute-api:Invoke' })), decision: 'Allow', index: 0 },
  // Resource and NotResource
  { name: 'resource wildcard after the stage', policy: doc(allow({ Resource: `${API}/prod/*` })), decision: 'Allow' },
  { name: 'resources are case-sensitive', policy: doc(allow({ Resource: `${API}/PROD/*` })), decision: 'NotApplicable' },
  { name: 'exact route ARN', policy: doc(allow({ Resource: GET_ITEMS })), decision: 'Allow' },
  { name: 'exact route ARN does not cover a sub-path', policy: doc(allow({ Resource: GET_ITEMS })), request: { resource: `${GET_ITEMS}/42` }, decision: 'NotApplicable' },
  { name: 'another stage is not covered', policy: doc(allow({ Resource: `${API}/test/*` })), decision: 'NotApplicable' },
  { name: '? in a resource', policy: doc(allow({ Resource: `${API}/pro?/GET/items` })), decision: 'Allow' },
  { name: 'Resource "*" matches everything', policy: doc(allow({ Resource: '*' })), decision: 'Allow' },
  { name: 'NotResource: deny outside the API', policy: doc(allow({ Resource: '*' }), deny({ Resource: undefined, NotResource: `${API}/*` })), request: { resource: 'arn:aws:execute-api:us-east-1:222222222222:zzz999/prod/GET/items' }, decision: 'Deny', index: 1 },
  { name: 'NotResource: the API itself is not denied', policy: doc(allow({ Resource: '*' }), deny({ Resource: undefined, NotResource: `${API}/*` })), decision: 'Allow', index: 0 },
  // Deny precedence and implicit deny
  { name: 'explicit deny wins over an allow listed first', policy: doc(allow(), deny()), decision: 'Deny', index: 1 },
  { name: 'explicit deny wins over an allow listed after it', policy: doc(deny(), allow()), decision: 'Deny', index: 0 },
  { name: 'empty policy: implicit deny', policy: doc(), decision: 'NotApplicable' },
  { name: 'deny that does not match leaves the allow', policy: doc(deny({ Resource: `${API}/test/*` }), allow()), decision: 'Allow', index: 1 },
  // Principals (resource policies)
  { name: 'resource policy: principal ARN named', kind: 'resource', policy: doc(allow({ Principal: { AWS: ROLE } })), decision: 'Allow' },
  { name: 'resource policy: other principal not named', kind: 'resource', policy: doc(allow({ Principal: { AWS: OTHER_ROLE } })), decision: 'NotApplicable' },
  { name: 'resource policy: 12-digit account means any principal of it', kind: 'resource', policy: doc(allow({ Principal: { AWS: '111111111111' } })), decision: 'Allow' },
  { name: 'resource policy: account root ARN means any principal of it', kind: 'resource', policy: doc(allow({ Principal: { AWS: 'arn:aws:iam::111111111111:root' } })), decision: 'Allow' },
  { name: 'resource policy: another account root does not match', kind: 'resource', policy: doc(allow({ Principal: { AWS: 'arn:aws:iam::333333333333:root' } })), decision: 'NotApplicable' },
  { name: 'resource policy: Principal "*" matches everyone', kind: 'resource', policy: doc(allow({ Principal: '*' })), decision: 'Allow' },
  { name: 'resource policy: an assumed-role session is its role', kind: 'resource', policy: doc(allow({ Principal: { AWS: ROLE } })), request: { principal: 'arn:aws:sts::111111111111:assumed-role/orders-caller/fn-session' }, decision: 'Allow' },
  { name: 'resource policy: anonymous is not an account principal', kind: 'resource', policy: doc(allow({ Principal: { AWS: '111111111111' } })), request: { principal: 'anonymous' }, decision: 'NotApplicable' },
  { name: 'resource policy: statement without Principal never matches', kind: 'resource', policy: doc(allow()), decision: 'NotApplicable' },
  { name: 'resource policy: NotPrincipal excludes the named role', kind: 'resource', policy: doc(deny({ NotPrincipal: { AWS: ROLE } }), allow({ Principal: '*' })), decision: 'Allow', index: 1 },
  { name: 'resource policy: NotPrincipal denies others', kind: 'resource', policy: doc(deny({ NotPrincipal: { AWS: ROLE } }), allow({ Principal: '*' })), request: { principal: OTHER_ROLE }, decision: 'Deny', index: 0 },
  // Conditions
  { name: 'StringEquals on aws:sourceVpce matches', policy: doc(allow({ Condition: { StringEquals: { 'aws:sourceVpce': VPCE } } })), decision: 'Allow' },
  { name: 'condition key names are case-insensitive', policy: doc(allow({ Condition: { StringEquals: { 'AWS:SOURCEVPCE': VPCE } } })), decision: 'Allow' },
  { name: 'StringEquals values are case-sensitive', policy: doc(allow({ Condition: { StringEquals: { 'aws:sourceVpce': VPCE.toUpperCase() } } })), decision: 'NotApplicable' },
  { name: 'StringEqualsIgnoreCase ignores case', policy: doc(allow({ Condition: { StringEqualsIgnoreCase: { 'aws:sourceVpce': VPCE.toUpperCase() } } })), decision: 'Allow' },
  { name: 'multiple values of one key are ORed', policy: doc(allow({ Condition: { StringEquals: { 'aws:sourceVpce': ['vpce-1', VPCE] } } })), decision: 'Allow' },
  { name: 'keys in one operator are ANDed', policy: doc(allow({ Condition: { StringEquals: { 'aws:sourceVpce': VPCE, 'aws:PrincipalArn': OTHER_ROLE } } })), decision: 'NotApplicable' },
  { name: 'operators are ANDed', policy: doc(allow({ Condition: { StringEquals: { 'aws:sourceVpce': VPCE }, ArnEquals: { 'aws:PrincipalArn': OTHER_ROLE } } })), decision: 'NotApplicable' },
  { name: 'StringEquals on a missing key is false', policy: doc(allow({ Condition: { StringEquals: { 'aws:sourceVpce': VPCE } } })), request: { context: {} }, decision: 'NotApplicable' },
  { name: 'StringNotEquals deny: request from another endpoint is denied', policy: doc(deny({ Condition: { StringNotEquals: { 'aws:sourceVpce': VPCE } } }), allow()), request: { context: { 'aws:sourceVpce': 'vpce-0ffffffffffffffff' } }, decision: 'Deny', index: 0 },
  { name: 'StringNotEquals deny: the allowed endpoint passes', policy: doc(deny({ Condition: { StringNotEquals: { 'aws:sourceVpce': VPCE } } }), allow()), decision: 'Allow', index: 1 },
  { name: 'StringNotEquals on a missing key is true (deny applies)', policy: doc(deny({ Condition: { StringNotEquals: { 'aws:sourceVpce': VPCE } } }), allow()), request: { context: {} }, decision: 'Deny', index: 0 },
  { name: 'StringNotEquals with several values: none may match', policy: doc(deny({ Condition: { StringNotEquals: { 'aws:sourceVpce': ['vpce-1', VPCE] } } }), allow()), decision: 'Allow', index: 1 },
  { name: 'StringLike with * and ?', policy: doc(allow({ Condition: { StringLike: { 'aws:sourceVpce': 'vpce-0123456789abcdef?' } } })), decision: 'Allow' },
  { name: 'StringNotLike denies what does not match the pattern', policy: doc(deny({ Condition: { StringNotLike: { 'aws:sourceVpce': 'vpce-9*' } } }), allow()), decision: 'Deny', index: 0 },
  { name: 'ArnLike with a wildcard role path', policy: doc(allow({ Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::111111111111:role/orders-*' } } })), decision: 'Allow' },
  { name: 'ArnLike: wildcard in the account component', policy: doc(allow({ Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/orders-caller' } } })), decision: 'Allow' },
  { name: 'ArnLike: a pattern with fewer than six components matches nothing', policy: doc(allow({ Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*' } } })), decision: 'NotApplicable' },
  { name: 'ArnNotEquals deny spares the named role', policy: doc(deny({ Condition: { ArnNotEquals: { 'aws:PrincipalArn': ROLE } } }), allow()), decision: 'Allow', index: 1 },
  { name: 'ArnNotEquals deny catches another role', policy: doc(deny({ Condition: { ArnNotEquals: { 'aws:PrincipalArn': ROLE } } }), allow()), request: { principal: OTHER_ROLE, context: { 'aws:PrincipalArn': OTHER_ROLE } }, decision: 'Deny', index: 0 },
  { name: 'ArnNotLike on a missing key is true', policy: doc(deny({ Condition: { ArnNotLike: { 'aws:PrincipalArn': ROLE } } })), request: { context: {} }, decision: 'Deny' },
  { name: 'Bool true matches the string "true"', policy: doc(allow({ Condition: { Bool: { 'aws:SecureTransport': true } } })), request: { context: { 'aws:SecureTransport': 'true' } }, decision: 'Allow' },
  { name: 'Bool false does not match true', policy: doc(allow({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } })), request: { context: { 'aws:SecureTransport': true } }, decision: 'NotApplicable' },
  { name: 'Bool on a missing key is false', policy: doc(deny({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } }), allow()), request: { context: {} }, decision: 'Allow', index: 1 },
  { name: 'BoolIfExists on a missing key is true', policy: doc(deny({ Condition: { BoolIfExists: { 'aws:SecureTransport': 'false' } } }), allow()), request: { context: {} }, decision: 'Deny', index: 0 },
  { name: 'Null true: key absent', policy: doc(deny({ Condition: { Null: { 'aws:sourceVpce': 'true' } } }), allow()), request: { context: {} }, decision: 'Deny', index: 0 },
  { name: 'Null true: key present does not match', policy: doc(deny({ Condition: { Null: { 'aws:sourceVpce': 'true' } } }), allow()), decision: 'Allow', index: 1 },
  { name: 'Null false: key present', policy: doc(allow({ Condition: { Null: { 'aws:sourceVpce': false } } })), decision: 'Allow' },
  { name: 'StringEqualsIfExists: missing key passes', policy: doc(allow({ Condition: { StringEqualsIfExists: { 'aws:resourceTag/Project': 'orders' } } })), request: { context: {} }, decision: 'Allow' },
  { name: 'StringEqualsIfExists: present key must match', policy: doc(allow({ Condition: { StringEqualsIfExists: { 'aws:resourceTag/Project': 'orders' } } })), request: { context: { 'aws:resourceTag/Project': 'billing' } }, decision: 'NotApplicable' },
  { name: 'ForAnyValue:StringEquals: one of the set matches', policy: doc(allow({ Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['Project', 'Owner'] } } })), request: { context: { 'aws:TagKeys': ['Env', 'Project'] } }, decision: 'Allow' },
  { name: 'ForAnyValue on a missing key is false', policy: doc(allow({ Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'Project' } } })), request: { context: {} }, decision: 'NotApplicable' },
  { name: 'ForAllValues: every value must be listed', policy: doc(allow({ Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['Project', 'Owner'] } } })), request: { context: { 'aws:TagKeys': ['Project', 'Env'] } }, decision: 'NotApplicable' },
  { name: 'ForAllValues: all listed passes', policy: doc(allow({ Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['Project', 'Owner'] } } })), request: { context: { 'aws:TagKeys': ['Owner'] } }, decision: 'Allow' },
  { name: 'ForAllValues on a missing key is vacuously true', policy: doc(allow({ Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': 'Project' } } })), request: { context: {} }, decision: 'Allow' },
  { name: 'endpoint policy tag condition: wrong Project tag is not allowed', kind: 'resource', policy: doc(allow({ Principal: { AWS: ROLE }, Condition: { StringEquals: { 'aws:resourceTag/Project': 'orders' } } })), request: { context: { 'aws:resourceTag/Project': 'billing' } }, decision: 'NotApplicable' },
];

describe('evaluatePolicy (table)', () => {
  it('has at least 40 cases', () => expect(cases.length).toBeGreaterThanOrEqual(40));
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = evaluatePolicy(c.policy, req(c.request), c.kind ?? 'identity');
    expect(r.decision).toBe(c.decision);
    if (c.decision === 'NotApplicable') expect(r.statement).toBeUndefined();
    else expect(r.statement?.effect).toBe(c.decision);
    if (c.index !== undefined) expect(r.statement?.index).toBe(c.index);
  });
});

describe('evaluatePolicy details', () => {
  it('names the deciding statement by Sid and policy label', () => {
    const r = evaluatePolicy(doc(deny({ Sid: 'DenyUnlessVpce', Principal: '*', Condition: { StringNotEquals: { 'aws:sourceVpce': VPCE } } })), req({ context: {} }), 'resource', 'resource policy of orders-api');
    expect(r.statement).toEqual({ policy: 'resource policy of orders-api', index: 0, sid: 'DenyUnlessVpce', effect: 'Deny' });
  });
  it('rejects an operator it does not know instead of guessing', () => {
    expect(() => evaluatePolicy(doc(deny({ Condition: { NumericLessThan: { 'aws:MultiFactorAuthAge': '3600' } } })), req(), 'identity')).toThrow(PolicyEvaluationError);
    expect(() => conditionKeyMatches('StringEqualsWhatever', 'k', 'v', {})).toThrow(/unsupported condition operator/);
  });
});

describe('authorize: identity AND resource across accounts', () => {
  const identity = { name: 'role orders-caller', document: doc(allow({ Resource: GET_ITEMS })) };
  const resource = { name: 'resource policy', document: doc(allow({ Principal: { AWS: ROLE } })) };
  const B = '222222222222';

  it('cross-account: both allow → Allow', () => {
    const a = authorize({ request: req(), identityPolicies: [identity], resourcePolicy: resource, resourceAccount: B });
    expect([a.decision, a.crossAccount]).toEqual(['Allow', true]);
  });
  it('cross-account: resource policy alone is not enough', () => {
    const a = authorize({ request: req(), identityPolicies: [], resourcePolicy: resource, resourceAccount: B });
    expect(a.decision).toBe('ImplicitDeny');
    expect(a.reason).toMatch(/no identity policy of the caller allows it/);
  });
  it('cross-account: identity policy alone is not enough', () => {
    const a = authorize({ request: req(), identityPolicies: [identity], resourcePolicy: { name: 'rp', document: doc() }, resourceAccount: B });
    expect(a.decision).toBe('ImplicitDeny');
    expect(a.reason).toMatch(/the resource policy does not allow it/);
  });
  it('same account: the resource policy alone suffices', () => {
    const a = authorize({ request: req(), identityPolicies: [], resourcePolicy: resource, resourceAccount: '111111111111' });
    expect([a.decision, a.crossAccount]).toEqual(['Allow', false]);
  });
  it('same account: the identity policy alone suffices', () => {
    const a = authorize({ request: req(), identityPolicies: [identity], resourceAccount: '111111111111' });
    expect(a.decision).toBe('Allow');
  });
  it('an explicit deny in the resource policy beats allows on both sides', () => {
    const rp = { name: 'rp', document: doc(deny({ Sid: 'DenyUnlessVpce', Principal: '*', Condition: { StringNotEquals: { 'aws:sourceVpce': VPCE } } }), allow({ Principal: { AWS: ROLE } })) };
    const a = authorize({ request: req({ context: { 'aws:sourceVpce': 'vpce-other' } }), identityPolicies: [identity], resourcePolicy: rp, resourceAccount: B });
    expect(a.decision).toBe('ExplicitDeny');
    expect(a.statement).toMatchObject({ policy: 'rp', sid: 'DenyUnlessVpce', index: 0 });
  });
  it('an explicit deny in an identity policy wins in the same account', () => {
    const a = authorize({ request: req(), identityPolicies: [identity, { name: 'guard', document: doc(deny()) }], resourcePolicy: resource, resourceAccount: '111111111111' });
    expect(a.decision).toBe('ExplicitDeny');
    expect(a.statement?.policy).toBe('guard');
  });
});
