// The CustomResourceDefinition of CrossAccountApi, generated from the same rules the code
// validator uses. Rules a schema can state are enforced at admission (CEL with our messages);
// the rest surface as Ready=False/InvalidSpec from the operator.
import {
  capFor,
  DISTINCT_ROUTES_MESSAGE,
  DISTINCT_SUBNETS_MESSAGE,
  fieldCel,
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
import { FLOW_LOG_DESTINATIONS, FLOW_LOG_TRAFFIC_TYPES, GROUP, HTTP_METHODS, INTEGRATION_TYPES, KIND, PLURAL, SHORT_NAME, SINGULAR, VERSION } from './types.js';

type Schema = Record<string, unknown>;

/**
 * A string checked by CEL so that the rejection carries our message, not a bare regex or
 * "Too long": the length limit is part of the CEL rule; the schema's maxLength is only a cap.
 */
function ruled(rule: FieldRule, description?: string, extra: { rule: string; message: string }[] = []): Schema {
  return {
    type: 'string',
    ...(description && { description }),
    maxLength: capFor(rule),
    'x-kubernetes-validations': [{ rule: fieldCel(rule), message: rule.message }, ...extra],
  };
}

/** A closed set checked by CEL (an enum's schema error would hide every other message). */
function oneOf(values: readonly string[], description?: string): Schema {
  const list = values.map((v) => `'${v}'`).join(', ');
  return {
    type: 'string',
    maxLength: 64,
    ...(description && { description }),
    'x-kubernetes-validations': [{ rule: `self in [${list}]`, message: `must be one of ${values.join(', ')}` }],
  };
}

/** The object rules of OBJECT_RULES that sit at `at`, as x-kubernetes-validations (no fieldPath into metadata, which the schema leaves open). */
function objectRules(at: ObjectRule['at']): Schema[] {
  return OBJECT_RULES.filter((r) => r.at === at).map((r) => ({ rule: r.cel, message: r.message, ...(r.field && at !== '' && { fieldPath: r.field }) }));
}

function obj(properties: Record<string, Schema>, required: string[], description?: string): Schema {
  // No `required: []`: the API server drops it on write, and Argo CD then diffs the CRD forever.
  return { type: 'object', ...(description && { description }), properties, ...(required.length > 0 && { required }) };
}

const reserved = { rule: `!(self in [${RESERVED_FOLDERS.map((f) => `'${f}'`).join(', ')}])`, message: RESERVED_SECRET_MESSAGE };
const clusterRef = obj(
  {
    secretName: ruled(RULES.secretName, 'Secret with a kubeconfig, or an Argo CD cluster Secret', [reserved]),
    namespace: ruled(RULES.namespace, "Namespace of the Secret; defaults to the CR's namespace"),
    key: ruled(RULES.secretKey, 'Key of the kubeconfig in the Secret (default kubeconfig)'),
  },
  ['secretName'],
  "Cluster that holds this side's ACK objects; absent means the operator's own cluster",
);

const consumer = {
  ...obj(
    {
      accountId: ruled(RULES.accountId, 'Account A: where the caller runs'),
      namespace: ruled(RULES.namespace, "Namespace of account A's ACK objects (CARM-annotated)"),
      cluster: clusterRef,
      vpcId: ruled(RULES.vpcId, 'VPC of the caller and the interface endpoint'),
      subnetIds: {
        type: 'array',
        description: 'Subnets of the endpoint and the caller, in 2+ Availability Zones',
        // no minItems: its schema error would hide SUBNETS_MESSAGE
        maxItems: MAX_SUBNETS,
        items: ruled(RULES.subnetId, 'Subnet ID'),
        'x-kubernetes-validations': [
          { rule: 'self.all(s, self.exists_one(t, t == s))', message: DISTINCT_SUBNETS_MESSAGE },
          { rule: `size(self) >= ${MIN_SUBNETS}`, message: SUBNETS_MESSAGE },
        ],
      },
      roleName: ruled(RULES.roleName, 'Lambda execution role'),
      roleArn: ruled(RULES.roleArn, 'Use this existing role instead of creating one'),
      function: obj(
        {
          name: ruled(RULES.functionName, 'Function name'),
          runtime: ruled(RULES.runtime),
          handler: ruled(RULES.handler),
          code: obj({ s3Bucket: ruled(RULES.s3Bucket), s3Key: ruled(RULES.s3Key) }, ['s3Bucket', 's3Key']),
          memorySize: { type: 'integer', minimum: 128, maximum: 10240 },
          timeout: { type: 'integer', minimum: 1, maximum: 900 },
          environment: { type: 'object', maxProperties: 64, additionalProperties: { type: 'string', maxLength: 4096 } },
        },
        ['name', 'code'],
        'Optional ACK Function running the caller in the VPC',
      ),
      endpoint: obj(
        {
          id: ruled(RULES.vpcEndpointId, 'Use this existing execute-api endpoint; xapi creates none and never modifies it'),
          privateDns: { type: 'boolean', description: 'Default true; false: callers use the endpoint-specific hostname {api-id}-{vpce-id}' },
        },
        [],
        "The execute-api interface endpoint; default: the VPC's shared endpoint xapi manages, with private DNS",
      ),
    },
    ['accountId', 'namespace', 'vpcId', 'subnetIds', 'roleName'],
  ),
  'x-kubernetes-validations': objectRules('spec.consumer'),
};

const route = obj(
  {
    method: oneOf(HTTP_METHODS),
    path: {
      type: 'string',
      maxLength: capFor(RULES.path),
      'x-kubernetes-validations': [
        { rule: "!self.contains('*') && !self.contains('+}')", message: WILDCARD_PATH_MESSAGE },
        { rule: `self.contains('*') || self.contains('+}') || (${fieldCel(RULES.path)})`, message: RULES.path.message },
      ],
    },
  },
  ['method', 'path'],
);

const provider = obj(
  {
    accountId: ruled(RULES.accountId, 'Account B: where the private API lives'),
    namespace: ruled(RULES.namespace, "Namespace of account B's ACK objects"),
    cluster: clusterRef,
    apiName: ruled(RULES.apiName, 'REST API name'),
    stage: ruled(RULES.stage, 'Stage name'),
    routes: {
      type: 'array',
      // maxItems bounds the cost of the rules below; no minItems (its error would hide ours)
      maxItems: MAX_ROUTES,
      items: route,
      'x-kubernetes-validations': [
        { rule: 'size(self) >= 1', message: 'must list at least one route {method, path}' },
        { rule: 'self.all(r, self.exists_one(s, s.method == r.method && s.path == r.path))', message: DISTINCT_ROUTES_MESSAGE },
        ...objectRules('spec.provider.routes'),
      ],
    },
    integration: {
      ...obj({ type: oneOf(INTEGRATION_TYPES), uri: ruled(RULES.uri) }, ['type']),
      'x-kubernetes-validations': objectRules('spec.provider.integration'),
    },
  },
  ['accountId', 'namespace', 'apiName', 'stage', 'routes'],
);

const retentionDays = (description: string): Schema => ({
  type: 'integer',
  default: 90,
  description,
  'x-kubernetes-validations': [{ rule: `self in [${LOG_RETENTION_DAYS.join(', ')}]`, message: LOG_RETENTION_MESSAGE }],
});
const enabled = (what: string): Schema => ({ type: 'boolean', default: true, description: `Render ${what} (default true)` });

const audit = obj(
  {
    flowLogs: {
      ...obj(
        {
          enabled: enabled("VPC Flow Logs on the endpoint's network interfaces"),
          destination: { ...oneOf(FLOW_LOG_DESTINATIONS, 'cloud-watch-logs (default: a log group xapi creates) or s3'), default: 'cloud-watch-logs' },
          s3BucketArn: ruled(RULES.s3BucketArn, 'Bucket (and folder) for destination s3; its bucket policy is yours'),
          retentionDays: retentionDays('Retention of the flow-log group, days'),
          trafficType: { ...oneOf(FLOW_LOG_TRAFFIC_TYPES), default: 'ALL' },
        },
        [],
      ),
      'x-kubernetes-validations': [{ rule: "!has(self.destination) || self.destination != 's3' || has(self.s3BucketArn) || (has(self.enabled) && !self.enabled)", message: S3_DESTINATION_MESSAGE, fieldPath: '.s3BucketArn' }],
    },
    accessLogs: obj({ enabled: enabled("the stage's access log group (account B)"), retentionDays: retentionDays('Retention of the access log group, days') }, []),
    cloudTrail: obj(
      {
        enabled: enabled('a CloudTrail Lake event data store of write management events (account B)'),
        retentionDays: { type: 'integer', minimum: MIN_TRAIL_RETENTION_DAYS, maximum: MAX_TRAIL_RETENTION_DAYS, default: 90, description: 'Retention of the event data store, days' },
      },
      [],
    ),
  },
  [],
  'The audit trail: flow logs, access logs, CloudTrail (docs/audit.md); every part on unless switched off',
);

const condition = obj(
  {
    type: { type: 'string', maxLength: 316 },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string', maxLength: 1024 },
    message: { type: 'string', maxLength: 32768 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
  },
  ['type', 'status', 'lastTransitionTime'],
);

const status: Schema = {
  type: 'object',
  properties: {
    observedGeneration: { type: 'integer', format: 'int64' },
    conditions: {
      type: 'array',
      items: condition,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    },
    endpoint: obj(
      { id: { type: 'string' }, state: { type: 'string' }, dnsNames: { type: 'array', items: { type: 'string' } } },
      [],
    ),
    allowedEndpoints: {
      type: 'array',
      items: obj({ id: { type: 'string' }, until: { type: 'string', format: 'date-time' } }, ['id']),
    },
    api: obj({ id: { type: 'string' }, stage: { type: 'string' }, invokeUrl: { type: 'string' } }, []),
    securityGroups: obj({ callerId: { type: 'string' }, endpointId: { type: 'string' } }, []),
    layers: { type: 'string' },
  },
};

const spec = {
  ...obj(
    {
      region: ruled(RULES.region, 'AWS region of the endpoint and the API'),
      project: ruled(RULES.project, 'Project tag value; the endpoint policy admits only APIs carrying it'),
      projectTagCondition: {
        type: 'boolean',
        default: true,
        description:
          "Condition the endpoint policy's Allow on aws:resourceTag/Project (the reference architecture). It holds only if API Gateway puts the API's tags into execute-api:Invoke's request context; false scopes the Allow by API ARN and role only",
      },
      consumer,
      provider,
      audit,
      rotation: obj(
        {
          gracePeriodSeconds: {
            type: 'integer',
            minimum: 0,
            maximum: MAX_GRACE_PERIOD_SECONDS,
            default: 300,
            description: 'How long a replaced endpoint ID stays allowed after its successor is available',
          },
        },
        [],
      ),
    },
    ['region', 'project', 'consumer', 'provider'],
  ),
  'x-kubernetes-validations': objectRules('spec'),
};

export function crossAccountApiCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { kind: KIND, plural: PLURAL, singular: SINGULAR, shortNames: [SHORT_NAME], listKind: `${KIND}List` },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Endpoint', type: 'string', jsonPath: '.status.endpoint.id' },
            { name: 'API', type: 'string', jsonPath: '.status.api.id' },
            { name: 'Layers', type: 'string', jsonPath: '.status.layers' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'A caller in account A reaching a private REST API in account B over PrivateLink',
              properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, spec, status },
              required: ['spec'],
              'x-kubernetes-validations': objectRules(''),
            },
          },
        },
      ],
    },
  };
}
