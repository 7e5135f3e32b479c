// Semantic validation of a CrossAccountApi spec. The CRD rejects most of this at admission;
// this runs again in synth and in the operator (specs may come from files, or from a cluster
// whose CRD is older), and adds what a schema cannot say (role ARN vs account, sibling params).
import { withDefaults } from './defaults.js';
import {
  DISTINCT_ROUTES_MESSAGE,
  DISTINCT_SUBNETS_MESSAGE,
  fieldOk,
  LOG_RETENTION_DAYS,
  LOG_RETENTION_MESSAGE,
  MAX_GRACE_PERIOD_SECONDS,
  MAX_TRAIL_RETENTION_DAYS,
  MIN_TRAIL_RETENTION_DAYS,
  S3_DESTINATION_MESSAGE,
  MAX_ROUTES,
  MAX_SUBNETS,
  MIN_SUBNETS,
  OBJECT_RULES,
  RESERVED_FOLDERS,
  RESERVED_SECRET_MESSAGE,
  RULES,
  SUBNETS_MESSAGE,
  WILDCARD_PATH_MESSAGE,
  type FieldRule,
  type ObjectRule,
} from './rules.js';
import { FLOW_LOG_DESTINATIONS, FLOW_LOG_TRAFFIC_TYPES, HTTP_METHODS, INTEGRATION_TYPES, type CrossAccountApiSpec } from './types.js';

export interface ValidationError {
  path: string;
  message: string;
}

export type ValidationResult =
  | { ok: true; spec: CrossAccountApiSpec }
  | { ok: false; errors: ValidationError[] };

type Obj = Record<string, unknown>;

/** A value for an error message: JSON, cut to `max` characters (a 30 MB value is not echoed whole). */
export function shown(value: unknown, max = 80): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

class Checker {
  readonly errors: ValidationError[] = [];

  fail(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  object(value: unknown, path: string, required = true): Obj | undefined {
    if (value === undefined || value === null) {
      if (required) this.fail(path, 'is required');
      return undefined;
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.fail(path, 'must be an object');
      return undefined;
    }
    return value as Obj;
  }

  string(obj: Obj, key: string, path: string, rule?: FieldRule, required = true): string | undefined {
    const value = obj[key];
    const at = `${path}.${key}`;
    if (value === undefined || value === null || value === '') {
      if (required) this.fail(at, 'is required');
      return undefined;
    }
    if (typeof value !== 'string') {
      this.fail(at, `must be a string, got ${typeof value}`);
      return undefined;
    }
    if (rule && !fieldOk(rule, value)) this.fail(at, `${rule.message} (got ${shown(value)})`);
    return value;
  }

  integer(obj: Obj, key: string, path: string, min: number, max: number): void {
    const value = obj[key];
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(`${path}.${key}`, `must be an integer from ${min} to ${max}`);
    }
  }

  oneOf(obj: Obj, key: string, path: string, values: readonly string[]): void {
    const value = obj[key];
    if (value !== undefined && !values.includes(value as string)) this.fail(`${path}.${key}`, `must be one of ${values.join(', ')} (got ${shown(value)})`);
  }

  boolean(obj: Obj, key: string, path: string): void {
    const value = obj[key];
    if (value !== undefined && typeof value !== 'boolean') this.fail(`${path}.${key}`, `must be true or false (got ${JSON.stringify(value)})`);
  }

  /** The OBJECT_RULES at `at`, run on `self` (reported at `path` + the rule's field). */
  objectRules(at: ObjectRule['at'], self: unknown, path: string): void {
    if (typeof self !== 'object' || self === null) return;
    for (const rule of OBJECT_RULES.filter((r) => r.at === at)) {
      if (!rule.holds(self)) this.fail(`${path}${rule.field ?? ''}`.replace(/^\./, ''), rule.detail ? `${rule.message} (${rule.detail(self)})` : rule.message);
    }
  }

  noUnknown(obj: Obj, allowed: string[], path: string): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.fail(`${path}.${key}`, `unknown field (allowed: ${allowed.join(', ')})`);
    }
  }
}

function checkCluster(c: Checker, parent: Obj, path: string): void {
  const cluster = c.object(parent['cluster'], `${path}.cluster`, false);
  if (!cluster) return;
  c.noUnknown(cluster, ['secretName', 'namespace', 'key'], `${path}.cluster`);
  const secret = c.string(cluster, 'secretName', `${path}.cluster`, RULES.secretName);
  if (secret && (RESERVED_FOLDERS as readonly string[]).includes(secret)) c.fail(`${path}.cluster.secretName`, `${RESERVED_SECRET_MESSAGE} (got ${shown(secret)})`);
  c.string(cluster, 'namespace', `${path}.cluster`, RULES.namespace, false);
  c.string(cluster, 'key', `${path}.cluster`, RULES.secretKey, false);
}

function checkConsumer(c: Checker, consumer: Obj): string | undefined {
  const p = 'spec.consumer';
  c.noUnknown(consumer, ['accountId', 'namespace', 'cluster', 'vpcId', 'subnetIds', 'roleName', 'roleArn', 'function', 'endpoint'], p);
  const account = c.string(consumer, 'accountId', p, RULES.accountId);
  c.string(consumer, 'namespace', p, RULES.namespace);
  checkCluster(c, consumer, p);
  c.string(consumer, 'vpcId', p, RULES.vpcId);

  const subnets = consumer['subnetIds'];
  if (!Array.isArray(subnets)) {
    c.fail(`${p}.subnetIds`, subnets === undefined ? `is required; ${SUBNETS_MESSAGE}` : 'must be a list');
  } else {
    if (subnets.length < MIN_SUBNETS) c.fail(`${p}.subnetIds`, `${SUBNETS_MESSAGE} (got ${subnets.length})`);
    if (subnets.length > MAX_SUBNETS) c.fail(`${p}.subnetIds`, `must list at most ${MAX_SUBNETS} subnets`);
    subnets.forEach((s, i) => {
      if (typeof s !== 'string' || !fieldOk(RULES.subnetId, s)) {
        c.fail(`${p}.subnetIds[${i}]`, `${RULES.subnetId.message} (got ${shown(s)})`);
      }
    });
    const dup = subnets.find((s, i) => subnets.indexOf(s) !== i);
    if (dup !== undefined) c.fail(`${p}.subnetIds`, `${DISTINCT_SUBNETS_MESSAGE} (${shown(dup)} appears twice)`);
  }

  c.string(consumer, 'roleName', p, RULES.roleName);
  c.string(consumer, 'roleArn', p, RULES.roleArn, false);
  c.objectRules('spec.consumer', consumer, p);

  const endpoint = c.object(consumer['endpoint'], `${p}.endpoint`, false);
  if (endpoint) {
    c.noUnknown(endpoint, ['id', 'privateDns'], `${p}.endpoint`);
    c.string(endpoint, 'id', `${p}.endpoint`, RULES.vpcEndpointId, false);
    c.boolean(endpoint, 'privateDns', `${p}.endpoint`);
  }

  const fn = c.object(consumer['function'], `${p}.function`, false);
  if (fn) {
    const fp = `${p}.function`;
    c.noUnknown(fn, ['name', 'runtime', 'handler', 'code', 'memorySize', 'timeout', 'environment'], fp);
    c.string(fn, 'name', fp, RULES.functionName);
    c.string(fn, 'runtime', fp, RULES.runtime, false);
    c.string(fn, 'handler', fp, RULES.handler, false);
    const code = c.object(fn['code'], `${fp}.code`);
    if (code) {
      c.noUnknown(code, ['s3Bucket', 's3Key'], `${fp}.code`);
      c.string(code, 's3Bucket', `${fp}.code`, RULES.s3Bucket);
      c.string(code, 's3Key', `${fp}.code`, RULES.s3Key);
    }
    c.integer(fn, 'memorySize', fp, 128, 10240);
    c.integer(fn, 'timeout', fp, 1, 900);
    const env = c.object(fn['environment'], `${fp}.environment`, false);
    if (env) {
      for (const [k, v] of Object.entries(env)) {
        if (typeof v !== 'string') c.fail(`${fp}.environment.${k}`, 'must be a string');
        else if (v.length > 4096) c.fail(`${fp}.environment.${k}`, 'must be at most 4096 characters');
      }
    }
  }
  return account;
}

function checkRoutes(c: Checker, routes: unknown): void {
  const p = 'spec.provider.routes';
  if (!Array.isArray(routes) || routes.length === 0) {
    c.fail(p, 'must list at least one route {method, path}');
    return;
  }
  if (routes.length > MAX_ROUTES) c.fail(p, `must list at most ${MAX_ROUTES} routes`);
  const seen = new Set<string>();
  routes.forEach((r, i) => {
    const at = `${p}[${i}]`;
    const route = c.object(r, at);
    if (!route) return;
    c.noUnknown(route, ['method', 'path'], at);
    const method = route['method'];
    if (typeof method !== 'string' || !(HTTP_METHODS as readonly string[]).includes(method)) {
      c.fail(`${at}.method`, `must be one of ${HTTP_METHODS.join(', ')} (got ${shown(method)})`);
    }
    const path = route['path'];
    if (typeof path !== 'string' || path === '') {
      c.fail(`${at}.path`, 'is required');
      return;
    }
    if (path.includes('*') || path.includes('+}')) {
      c.fail(`${at}.path`, `${WILDCARD_PATH_MESSAGE} (got ${shown(path)})`);
      return;
    }
    if (!fieldOk(RULES.path, path)) {
      c.fail(`${at}.path`, `${RULES.path.message} (got ${shown(path)})`);
      return;
    }
    const key = `${String(method)} ${path}`;
    if (seen.has(key)) c.fail(p, `${DISTINCT_ROUTES_MESSAGE} ("${key}" appears twice)`);
    seen.add(key);
  });
  c.objectRules('spec.provider.routes', routes, p);
}

function checkProvider(c: Checker, provider: Obj): string | undefined {
  const p = 'spec.provider';
  c.noUnknown(provider, ['accountId', 'namespace', 'cluster', 'apiName', 'stage', 'routes', 'integration'], p);
  const account = c.string(provider, 'accountId', p, RULES.accountId);
  c.string(provider, 'namespace', p, RULES.namespace);
  checkCluster(c, provider, p);
  c.string(provider, 'apiName', p, RULES.apiName);
  c.string(provider, 'stage', p, RULES.stage);
  checkRoutes(c, provider['routes']);

  const integration = c.object(provider['integration'], `${p}.integration`, false);
  if (integration) {
    const ip = `${p}.integration`;
    c.noUnknown(integration, ['type', 'uri'], ip);
    const type = integration['type'];
    if (typeof type !== 'string' || !(INTEGRATION_TYPES as readonly string[]).includes(type)) {
      c.fail(`${ip}.type`, `must be one of ${INTEGRATION_TYPES.join(', ')} (got ${shown(type)})`);
    }
    c.string(integration, 'uri', ip, RULES.uri, false);
    c.objectRules('spec.provider.integration', integration, ip);
  }
  return account;
}

function checkAudit(c: Checker, value: unknown): void {
  const audit = c.object(value, 'spec.audit', false);
  if (!audit) return;
  c.noUnknown(audit, ['flowLogs', 'accessLogs', 'cloudTrail'], 'spec.audit');
  const retention = (o: Obj, path: string) => {
    const days = o['retentionDays'];
    if (days !== undefined && !(LOG_RETENTION_DAYS as readonly unknown[]).includes(days)) c.fail(`${path}.retentionDays`, `${LOG_RETENTION_MESSAGE} (got ${shown(days)})`);
  };
  const p = 'spec.audit.flowLogs';
  const flow = c.object(audit['flowLogs'], p, false);
  if (flow) {
    c.noUnknown(flow, ['enabled', 'destination', 's3BucketArn', 'retentionDays', 'trafficType'], p);
    c.boolean(flow, 'enabled', p);
    c.oneOf(flow, 'destination', p, FLOW_LOG_DESTINATIONS);
    c.oneOf(flow, 'trafficType', p, FLOW_LOG_TRAFFIC_TYPES);
    c.string(flow, 's3BucketArn', p, RULES.s3BucketArn, false);
    retention(flow, p);
    if (flow['destination'] === 's3' && flow['s3BucketArn'] === undefined && flow['enabled'] !== false) c.fail(`${p}.s3BucketArn`, S3_DESTINATION_MESSAGE);
  }
  const access = c.object(audit['accessLogs'], 'spec.audit.accessLogs', false);
  if (access) {
    c.noUnknown(access, ['enabled', 'retentionDays'], 'spec.audit.accessLogs');
    c.boolean(access, 'enabled', 'spec.audit.accessLogs');
    retention(access, 'spec.audit.accessLogs');
  }
  const trail = c.object(audit['cloudTrail'], 'spec.audit.cloudTrail', false);
  if (trail) {
    c.noUnknown(trail, ['enabled', 'retentionDays'], 'spec.audit.cloudTrail');
    c.boolean(trail, 'enabled', 'spec.audit.cloudTrail');
    c.integer(trail, 'retentionDays', 'spec.audit.cloudTrail', MIN_TRAIL_RETENTION_DAYS, MAX_TRAIL_RETENTION_DAYS);
  }
}

/** Checks a spec and, when valid, returns it with defaults applied. Never throws. */
export function validateSpec(input: unknown): ValidationResult {
  const c = new Checker();
  const spec = c.object(input, 'spec');
  if (!spec) return { ok: false, errors: c.errors };
  c.noUnknown(spec, ['region', 'project', 'projectTagCondition', 'consumer', 'provider', 'rotation', 'audit'], 'spec');
  c.string(spec, 'region', 'spec', RULES.region);
  c.string(spec, 'project', 'spec', RULES.project);
  c.boolean(spec, 'projectTagCondition', 'spec');
  const consumer = c.object(spec['consumer'], 'spec.consumer');
  const provider = c.object(spec['provider'], 'spec.provider');
  if (consumer) checkConsumer(c, consumer);
  if (provider) checkProvider(c, provider);
  if (consumer && provider) c.objectRules('spec', spec, 'spec');
  const rotation = c.object(spec['rotation'], 'spec.rotation', false);
  if (rotation) {
    c.noUnknown(rotation, ['gracePeriodSeconds'], 'spec.rotation');
    c.integer(rotation, 'gracePeriodSeconds', 'spec.rotation', 0, MAX_GRACE_PERIOD_SECONDS);
  }
  checkAudit(c, spec['audit']);
  if (c.errors.length > 0) return { ok: false, errors: c.errors };
  return { ok: true, spec: withDefaults(spec as unknown as CrossAccountApiSpec) };
}

/** The rules on a CR's metadata that the CRD states too (namespace: the API server's own rule). */
export function validateMetadata(metadata: unknown): ValidationError[] {
  const c = new Checker();
  const meta = c.object(metadata, 'metadata');
  if (!meta) return c.errors;
  c.objectRules('', { metadata: meta }, '');
  if (meta['namespace'] !== undefined) c.string(meta, 'namespace', 'metadata', RULES.namespace);
  return c.errors;
}

/** One line per error, for conditions, CLI output and exceptions. */
export function formatErrors(errors: ValidationError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('; ');
}
