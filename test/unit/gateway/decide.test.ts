import { decide } from '../../../src/gateway/server.js';
import type { PolicyDocument } from '../../../src/policy/documents.js';

const ROLE = 'arn:aws:iam::111111111111:role/orders-caller';
const RES = 'arn:aws:execute-api:us-east-1:222222222222:abc123/prod/GET/items';

describe('gateway decide() uses the IAM evaluator', () => {
  it('understands operators the old stand-in rejected (StringLike, account principal)', () => {
    const doc: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'AllowAccount', Effect: 'Allow', Principal: { AWS: '111111111111' }, Action: 'execute-api:*', Resource: 'arn:aws:execute-api:us-east-1:222222222222:abc123/*', Condition: { StringLike: { 'aws:sourceVpce': 'vpce-0123*' } } }],
    };
    expect(decide(doc, ROLE, RES, { 'aws:sourceVpce': 'vpce-0123456789abcdef0' })).toEqual({ effect: 'Allow', index: 0, sid: 'AllowAccount' });
    expect(decide(doc, ROLE, RES, { 'aws:sourceVpce': 'vpce-9999' })).toEqual({ effect: 'NotApplicable' });
  });
  it('an explicit deny on a missing aws:sourceVpce wins over the allow', () => {
    const doc: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: '*' },
        { Sid: 'DenyUnlessVpce', Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: '*', Condition: { StringNotEquals: { 'aws:sourceVpce': 'vpce-1' } } },
      ],
    };
    expect(decide(doc, ROLE, RES, {})).toEqual({ effect: 'Deny', index: 1, sid: 'DenyUnlessVpce' });
  });
});
