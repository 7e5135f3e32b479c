// The AWS partition of a region, for every ARN xapi writes or checks: the one place xapi derives
// the `arn:PARTITION:` prefix. One table, used by the renderer (policy and managed-policy ARNs),
// the offline validator, the CRD's CEL rules, explain and the gateway. Facts from AWS's partition
// list (endpoints.json of the AWS SDKs): China, GovCloud (US), the isolated regions and the
// European Sovereign Cloud have their own partitions (xapi's spec accepts cn- and us-gov- ones).

/** Regions whose names start with `prefix` are in `partition`; all other regions are in `aws`. */
export const PARTITIONS: readonly { prefix: string; partition: string }[] = [
  { prefix: 'cn-', partition: 'aws-cn' },
  { prefix: 'us-gov-', partition: 'aws-us-gov' },
  { prefix: 'us-isob-', partition: 'aws-iso-b' },
  { prefix: 'us-isof-', partition: 'aws-iso-f' },
  { prefix: 'us-iso-', partition: 'aws-iso' },
  { prefix: 'eu-isoe-', partition: 'aws-iso-e' },
  { prefix: 'eusc-', partition: 'aws-eusc' },
];
export const DEFAULT_PARTITION = 'aws';

/** "us-east-1" → "aws", "cn-north-1" → "aws-cn", "us-gov-west-1" → "aws-us-gov". */
export function partitionOf(region: string): string {
  return PARTITIONS.find((p) => region.startsWith(p.prefix))?.partition ?? DEFAULT_PARTITION;
}

/** The same mapping as a CEL expression over the string expression `region`. */
export function partitionOfCel(region: string): string {
  return PARTITIONS.reduceRight((rest, p) => `${region}.startsWith('${p.prefix}') ? '${p.partition}' : (${rest})`, `'${DEFAULT_PARTITION}'`);
}
