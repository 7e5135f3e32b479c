import type { AuditSpec, ConsumerSpec, CrossAccountApiSpec, EndpointSpec, FunctionSpec, IntegrationSpec, ProviderSpec } from './types.js';

export const DEFAULT_GRACE_PERIOD_SECONDS = 300;
export const DEFAULT_FUNCTION_RUNTIME = 'nodejs20.x';
export const DEFAULT_FUNCTION_HANDLER = 'index.handler';
export const DEFAULT_FUNCTION_MEMORY_MB = 256;
export const DEFAULT_FUNCTION_TIMEOUT_S = 10;
export const DEFAULT_PROJECT_TAG_CONDITION = true;
export const DEFAULT_PRIVATE_DNS = true;
export const DEFAULT_LOG_RETENTION_DAYS = 90;

/** The audit settings with every default filled in. */
export interface DefaultedAudit {
  flowLogs: Required<Omit<NonNullable<AuditSpec['flowLogs']>, 's3BucketArn'>> & { s3BucketArn?: string };
  accessLogs: Required<NonNullable<AuditSpec['accessLogs']>>;
  cloudTrail: Required<NonNullable<AuditSpec['cloudTrail']>>;
}

export function auditDefaults(audit: AuditSpec | undefined): DefaultedAudit {
  const f = audit?.flowLogs;
  return {
    flowLogs: {
      enabled: f?.enabled ?? true,
      destination: f?.destination ?? 'cloud-watch-logs',
      retentionDays: f?.retentionDays ?? DEFAULT_LOG_RETENTION_DAYS,
      trafficType: f?.trafficType ?? 'ALL',
      ...(f?.s3BucketArn !== undefined && { s3BucketArn: f.s3BucketArn }),
    },
    accessLogs: { enabled: audit?.accessLogs?.enabled ?? true, retentionDays: audit?.accessLogs?.retentionDays ?? DEFAULT_LOG_RETENTION_DAYS },
    cloudTrail: { enabled: audit?.cloudTrail?.enabled ?? true, retentionDays: audit?.cloudTrail?.retentionDays ?? DEFAULT_LOG_RETENTION_DAYS },
  };
}

/** A spec whose defaulted fields are filled in, as the type says: no `??` or `!` downstream. */
export interface DefaultedSpec extends CrossAccountApiSpec {
  projectTagCondition: boolean;
  consumer: ConsumerSpec & {
    endpoint: EndpointSpec & { privateDns: boolean };
    function?: FunctionSpec & Required<Pick<FunctionSpec, 'runtime' | 'handler' | 'memorySize' | 'timeout'>>;
  };
  provider: ProviderSpec & { integration: IntegrationSpec };
  rotation: { gracePeriodSeconds: number };
  audit: DefaultedAudit;
}

/** The spec with every optional field that has a default filled in. Does not validate. */
export function withDefaults(spec: CrossAccountApiSpec): DefaultedSpec {
  const { function: fn, ...consumer } = spec.consumer;
  return {
    ...spec,
    projectTagCondition: spec.projectTagCondition ?? DEFAULT_PROJECT_TAG_CONDITION,
    consumer: {
      ...consumer,
      endpoint: { ...spec.consumer.endpoint, privateDns: spec.consumer.endpoint?.privateDns ?? DEFAULT_PRIVATE_DNS },
      ...(fn && {
        function: {
          ...fn,
          runtime: fn.runtime ?? DEFAULT_FUNCTION_RUNTIME,
          handler: fn.handler ?? DEFAULT_FUNCTION_HANDLER,
          memorySize: fn.memorySize ?? DEFAULT_FUNCTION_MEMORY_MB,
          timeout: fn.timeout ?? DEFAULT_FUNCTION_TIMEOUT_S,
        },
      }),
    },
    provider: {
      ...spec.provider,
      integration: spec.provider.integration ?? { type: 'MOCK' },
    },
    rotation: {
      gracePeriodSeconds: spec.rotation?.gracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_SECONDS,
    },
    audit: auditDefaults(spec.audit),
  };
}
