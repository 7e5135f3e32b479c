// The AWS partition a region belongs to: the one place xapi derives the `arn:PARTITION:` prefix.
// Facts from AWS's partition list (endpoints.json of the AWS SDKs): China, GovCloud (US), the
// isolated regions and the European Sovereign Cloud have their own partitions.

const PREFIXES: ReadonlyArray<readonly [prefix: string, partition: string]> = [
  ['cn-', 'aws-cn'],
  ['us-gov-', 'aws-us-gov'],
  ['us-isob-', 'aws-iso-b'],
  ['us-isof-', 'aws-iso-f'],
  ['us-iso-', 'aws-iso'],
  ['eu-isoe-', 'aws-iso-e'],
  ['eusc-', 'aws-eusc'],
];

/** "us-east-1" → "aws", "cn-north-1" → "aws-cn", "us-gov-west-1" → "aws-us-gov". */
export function partitionOf(region: string): string {
  return PREFIXES.find(([prefix]) => region.startsWith(prefix))?.[1] ?? 'aws';
}
