// The lint rule for the audit trail (docs/audit.md): a warning, not an error, when a
// CrossAccountApi switches part of its trail off, or when an execute-api endpoint comes without
// flow logs and no CrossAccountApi in the input explains why. Kept apart from lint.ts's four-layer
// rules: the trail records access, it does not control it.
import { ackObject } from '../api/ack-wire.js';
import { API_VERSION, KIND, OWNER_LABEL, type CrossAccountApiSpec, type KubeObject } from '../api/types.js';
import type { Finding, LintInput, LintRule } from './lint.js';

/** The annotation the charts put on every audit object (src/charts/audit.ts says the same). */
const AUDIT_ANNOTATION = 'xapi.dev/audit';

export const AUDIT_RULE = {
  id: 'XAPI011',
  name: 'audit-enabled',
  description:
    'Each CrossAccountApi should keep its audit trail on: VPC Flow Logs on the endpoint, access logs on the stage, and a CloudTrail record of the API\'s management events. Without them a cross-account call leaves no record of who called through which endpoint.',
  help: 'Remove `enabled: false` under spec.audit (flowLogs, accessLogs, cloudTrail), or record the calls another way and accept the warning.',
  level: 'warning',
} as const satisfies LintRule;

const PARTS = [
  ['flowLogs', 'flow logs on the endpoint'],
  ['accessLogs', "the stage's access logs"],
  ['cloudTrail', 'the CloudTrail event data store'],
] as const;

const ownerOfCr = (o: KubeObject) => `${o.metadata.namespace ?? 'default'}.${o.metadata.name}`;

export function lintAudit(inputs: readonly LintInput[]): Finding[] {
  const findings: Finding[] = [];
  const add = (input: LintInput, message: string) => {
    const o = input.object;
    findings.push({ ruleId: AUDIT_RULE.id, level: AUDIT_RULE.level, message, file: input.file, index: input.index, ...(input.line !== undefined && { line: input.line }), object: `${o.kind}/${o.metadata.name}` });
  };
  const crs = new Set<string>();
  const flowLogged = new Set<string>();
  for (const input of inputs) {
    const o = input.object;
    if (o.apiVersion === API_VERSION && o.kind === KIND) {
      crs.add(ownerOfCr(o));
      const audit = (o.spec as Partial<CrossAccountApiSpec> | undefined)?.audit;
      const off = PARTS.filter(([key]) => audit?.[key]?.enabled === false).map(([, what]) => what);
      if (off.length > 0) add(input, `spec.audit switches off ${off.join(', ')}: calls through this API leave ${off.length === PARTS.length ? 'no' : 'an incomplete'} audit trail`);
    }
    const owner = o.metadata.labels?.[OWNER_LABEL];
    if (owner && o.metadata.annotations?.[AUDIT_ANNOTATION] === 'flow-logs') flowLogged.add(owner);
  }
  for (const input of inputs) {
    if (!ackObject(input.object, 'VPCEndpoint')) continue;
    const owner = input.object.metadata.labels?.[OWNER_LABEL];
    // The CrossAccountApi, when present, is the better witness (its flow logs may go to S3 and
    // wait for the endpoint's ENI IDs, so no object shows them yet).
    if (owner && (flowLogged.has(owner) || crs.has(owner))) continue;
    add(input, 'no flow logs are rendered for this endpoint (no object annotated xapi.dev/audit: flow-logs with its owner label)');
  }
  return findings;
}
