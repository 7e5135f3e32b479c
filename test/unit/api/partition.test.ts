import { partitionOf } from '../../../src/api/partition.js';

// Partitions and their region prefixes: AWS General Reference, "AWS partitions" / the SDKs' endpoints.json.
test.each([
  ['us-east-1', 'aws'],
  ['eu-west-3', 'aws'],
  ['cn-north-1', 'aws-cn'],
  ['cn-northwest-1', 'aws-cn'],
  ['us-gov-west-1', 'aws-us-gov'],
  ['us-iso-east-1', 'aws-iso'],
  ['us-isob-east-1', 'aws-iso-b'],
])('partitionOf(%s) = %s', (region, partition) => {
  expect(partitionOf(region)).toBe(partition);
});
