// The CARM check the operator runs before applying into a namespace, and the one region →
// partition mapping every ARN uses.
import { carmConflict } from '../../../src/api/carm.js';
import { partitionOf } from '../../../src/api/partition.js';
import { lambdaVpcAccessPolicyArn } from '../../../src/policy/documents.js';

const OWNER = 'services.k8s.aws/owner-account-id';
const REGION = 'services.k8s.aws/default-region';

describe('carmConflict', () => {
  it.each([
    ['no annotations (the operator annotates a namespace it creates)', undefined],
    ['the same account and region', { [OWNER]: '111111111111', [REGION]: 'us-east-1' }],
    ['the same account, no region annotation', { [OWNER]: '111111111111' }],
    ['unrelated annotations only', { 'example.com/team': 'orders' }],
  ])('allows %s', (_name, annotations) => {
    expect(carmConflict({ name: 'account-a', annotations }, '111111111111', 'us-east-1')).toBeUndefined();
  });

  it.each([
    ['another account', { [OWNER]: '222222222222', [REGION]: 'us-east-1' }, /namespace account-a is annotated services\.k8s\.aws\/owner-account-id=222222222222, not 111111111111: ACK would create/],
    ['another region', { [OWNER]: '111111111111', [REGION]: 'eu-west-1' }, /services\.k8s\.aws\/default-region=eu-west-1, not us-east-1/],
    ['both', { [OWNER]: '222222222222', [REGION]: 'eu-west-1' }, /owner-account-id=222222222222, not 111111111111 and services\.k8s\.aws\/default-region=eu-west-1/],
  ])('refuses %s, saying which annotation', (_name, annotations, message) => {
    expect(carmConflict({ name: 'account-a', annotations }, '111111111111', 'us-east-1')).toMatch(message);
  });
});

describe('partitionOf', () => {
  it.each([
    ['us-east-1', 'aws'],
    ['eu-central-2', 'aws'],
    ['cn-north-1', 'aws-cn'],
    ['cn-northwest-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
  ])('%s is in %s', (region, partition) => {
    expect(partitionOf(region)).toBe(partition);
  });

  it("the role's managed policy ARN is in the region's partition", () => {
    expect(lambdaVpcAccessPolicyArn('cn-north-1')).toBe('arn:aws-cn:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole');
    expect(lambdaVpcAccessPolicyArn('us-gov-east-1')).toMatch(/^arn:aws-us-gov:iam::aws:policy\//);
    expect(lambdaVpcAccessPolicyArn('us-east-1')).toMatch(/^arn:aws:iam::aws:policy\//);
  });
});
