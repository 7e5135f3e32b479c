// The AWS partition of a region, for every ARN xapi writes or checks. One table, used by the
// renderer (policy and managed-policy ARNs), the offline validator and the CRD's CEL rules.

/** Regions whose names start with `prefix` are in `partition`; all other supported regions are in `aws`. */
export const PARTITIONS: readonly { prefix: string; partition: string }[] = [
  { prefix: 'cn-', partition: 'aws-cn' },
  { prefix: 'us-gov-', partition: 'aws-us-gov' },
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
