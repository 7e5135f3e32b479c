// The objects one CrossAccountApi needs in each account's cluster, built with the constructs that
// `cdk8s import` generated from the pinned ACK CRDs (imports/), so a misspelled field is a type
// error. Pure: the same function serves synth, the operator and the tests. An ID AWS has not
// assigned yet makes the output narrower (no SG rule, no Resource under the root, a deny-all
// policy), never wider.
import { createHash } from 'node:crypto';
import { App, Chart, type ApiObjectMetadata } from 'cdk8s';
import type { Construct } from 'constructs';
import { Deployment, Integration, Method, Resource, RestApi, Stage } from '../../imports/apigateway.services.k8s.aws.js';
import { SecurityGroup, type SecurityGroupSpecEgressRules } from '../../imports/ec2.services.k8s.aws.js';
import { Role } from '../../imports/iam.services.k8s.aws.js';
import { Function as LambdaFunction } from '../../imports/lambda.services.k8s.aws.js';
import { ACK_ANNOTATION } from '../api/ack.js';
import { withDefaults, type DefaultedSpec } from '../api/defaults.js';
import { PRIVATE_DNS_ANNOTATION, UNMANAGED_ENDPOINT_ANNOTATION, allowedEndpointIdsFor, associatedEndpointIds, endpointPlan } from '../api/endpoint.js';
import { PATH_ANNOTATION, ROUTE_ANNOTATION, type CrossAccountApi, type CrossAccountApiSpec, type KubeObject, type ObservedIds, type Route } from '../api/types.js';
import {
  lambdaVpcAccessPolicyArn,
  lambdaTrustPolicy,
  policyJson,
  resourcePolicy,
  roleInvokePolicy,
} from '../policy/documents.js';
import { addAccessLogObjects, addCloudTrailObjects, addFlowLogObjects, type AuditPlace } from './audit.js';
import { SYNC_WAVE, endpointGroup, objectNames, ownerLabels, resourcePaths, type ObjectNames } from './names.js';
import { addEndpointGroup } from './shared-endpoint.js';
import { waveOf } from './order.js';

export interface RenderedObjects {
  consumer: KubeObject[];
  provider: KubeObject[];
  /**
   * Per side: false when an object was left out because an ID is not known yet. Only a complete
   * render may be used to prune: what a partial one omits is "not yet", not "not wanted".
   */
  complete: { consumer: boolean; provider: boolean };
  /**
   * Per side: kinds the render could not decide yet (the flow logs before the endpoint's network
   * interface IDs are known); live objects of these kinds in the side's namespace are kept.
   */
  undecided?: { consumer: string[]; provider: string[] };
}

const HTTPS = 443;
const ref = (name: string) => ({ from: { name } });

interface Context {
  spec: DefaultedSpec;
  names: ObjectNames;
  observed: ObservedIds;
  /** `wave`: Argo CD sync wave, so that a static sync creates objects in the order AWS needs. */
  meta: (namespace: string, name: string, wave: number, annotations?: Record<string, string>) => ApiObjectMetadata;
  project: { key: string; value: string }[];
  /** Where a side's audit objects live (src/charts/audit.ts). */
  auditPlace: (namespace: string, accountId: string) => AuditPlace;
}

function context(cr: CrossAccountApi, observed: ObservedIds): Context {
  const spec = withDefaults(cr.spec);
  const labels = ownerLabels(cr);
  // An existing endpoint's ID is known from the spec: B's policy names it without waiting for ACK.
  const allowed = allowedEndpointIdsFor(spec, observed.allowedEndpointIds);
  return {
    spec,
    names: objectNames(cr),
    observed: { ...observed, ...(allowed.length > 0 && { allowedEndpointIds: allowed }) },
    project: [{ key: 'Project', value: spec.project }],
    auditPlace: (namespace, accountId) => ({ namespace, accountId, baseName: cr.metadata.name, region: spec.region, labels, tags: { Project: spec.project } }),
    meta: (namespace, name, wave, annotations = {}) => ({
      name,
      namespace,
      labels: { ...labels },
      annotations: { [ACK_ANNOTATION.region]: spec.region, [SYNC_WAVE]: String(wave), ...annotations },
    }),
  };
}

/**
 * Account A, one CR's own objects: the caller security group (layer 1, egress 443 to the shared
 * endpoint's group once its ID is known), the caller's Role, optionally the Function, and flow
 * logs on the endpoint's network interfaces (the CR's own log group: each API sharing an endpoint
 * records its traffic). The endpoint and its group are the endpoint group's (shared-endpoint.ts).
 * Returns the kinds it could not decide yet (the flow logs, until the interface IDs are known).
 */
export function addConsumerObjects(scope: Construct, ctx: Context): string[] {
  const { spec, names, observed, meta, project } = ctx;
  const a = spec.consumer.namespace;
  // Egress is always declared: ACK removes AWS's default allow-all egress and keeps the spec's
  // rules only. The rule names the endpoint's group by ID (ACK cannot resolve groups that
  // reference each other, ACK community #2119), so it waits for that ID.
  const rule = (groupId: string, description: string): SecurityGroupSpecEgressRules => ({
    ipProtocol: 'tcp',
    fromPort: HTTPS,
    toPort: HTTPS,
    userIdGroupPairs: [{ groupId, description }],
  });
  const plan = endpointPlan(spec);
  // An existing endpoint's groups are not xapi's: the caller gets egress to them once ACK reports
  // them (no mutual reference, so no wait for the caller's own ID); their ingress is the owner's.
  const egressTo = plan.managed
    ? observed.endpointSecurityGroupId ? [rule(observed.endpointSecurityGroupId, 'to the execute-api endpoint')] : []
    : [...new Set(observed.endpointSecurityGroupIds ?? [])].sort().map((g) => rule(g, `to the execute-api endpoint ${plan.id}`));
  new SecurityGroup(scope, names.callerSecurityGroup, {
    metadata: meta(a, names.callerSecurityGroup, waveOf('SecurityGroup')),
    spec: {
      name: names.callerSecurityGroup,
      description: `xapi ${spec.project}: caller, egress 443 to the execute-api endpoint only`,
      vpcId: spec.consumer.vpcId,
      ingressRules: [],
      egressRules: egressTo,
      tags: project,
    },
  });
  const flowLogs = addFlowLogObjects(scope, { ...ctx.auditPlace(a, spec.consumer.accountId), eniIds: observed.endpointNetworkInterfaceIds,
    // An existing endpoint's traffic record is its owner's, like the endpoint (docs/audit.md).
    settings: plan.managed ? spec.audit.flowLogs : { ...spec.audit.flowLogs, enabled: false },
  });
  if (!spec.consumer.roleArn) {
    const invoke = roleInvokePolicy(spec, observed);
    new Role(scope, names.role, {
      metadata: meta(a, names.role, waveOf('Role')),
      spec: {
        name: spec.consumer.roleName!,
        description: `xapi ${spec.project}: Lambda caller of ${spec.provider.apiName}`,
        assumeRolePolicyDocument: policyJson(lambdaTrustPolicy()),
        policies: [lambdaVpcAccessPolicyArn(spec.region)],
        ...(invoke && { inlinePolicies: { 'xapi-invoke': policyJson(invoke) } }),
        tags: project,
      },
    });
  }
  const fn = spec.consumer.function;
  if (fn) {
    new LambdaFunction(scope, names.function, {
      metadata: meta(a, names.function, waveOf('Function')),
      spec: {
        name: fn.name,
        code: { s3Bucket: fn.code.s3Bucket, s3Key: fn.code.s3Key },
        ...(spec.consumer.roleArn ? { role: spec.consumer.roleArn } : { roleRef: ref(names.role) }),
        runtime: fn.runtime,
        handler: fn.handler,
        memorySize: fn.memorySize,
        timeout: fn.timeout,
        ...(fn.environment && { environment: { variables: { ...fn.environment } } }),
        vpcConfig: {
          subnetIDs: [...spec.consumer.subnetIds],
          ...(observed.callerSecurityGroupId
            ? { securityGroupIDs: [observed.callerSecurityGroupId] }
            : { securityGroupRefs: [ref(names.callerSecurityGroup)] }),
        },
      },
    });
  }
  return flowLogs.waiting ? ['FlowLog'] : [];
}

/** Layer 3 as the RestAPI carries it. */
const policyOf = (ctx: Context): string => policyJson(resourcePolicy(ctx.spec, ctx.observed));

/** The revision that names a Deployment: a hash of everything it snapshots. */
function revisionOf(ctx: Context): string {
  const { spec, observed } = ctx;
  // Resource policy changes take effect only after a redeploy, so the Deployment's name carries it.
  return createHash('sha256')
    .update(JSON.stringify({ routes: spec.provider.routes, integration: spec.provider.integration, policy: policyOf(ctx), root: observed.rootResourceId ?? null }))
    .digest('hex')
    .slice(0, 8);
}

/** Whether ACK reports `key` created (an unobserved list, as in synth, counts every key). */
const createdIn = (list: string[] | undefined, key: string) => list === undefined || list.includes(key);

/** Account B's RestAPI: PRIVATE, with its resource policy (layer 3). */
function addRestApi(scope: Construct, ctx: Context): void {
  const { spec, names, observed, meta } = ctx;
  const plan = endpointPlan(spec);
  // Without private DNS the caller calls {api-id}-{vpce-id}.execute-api…: API Gateway creates
  // those alias records for the endpoints listed here (x-amazon-apigateway-endpoint-configuration).
  const associated = associatedEndpointIds(spec, observed.allowedEndpointIds ?? []);
  new RestApi(scope, names.restApi, {
    metadata: meta(spec.provider.namespace, names.restApi, waveOf('RestAPI'), {
      ...(!plan.managed && { [UNMANAGED_ENDPOINT_ANNOTATION]: plan.id }),
      ...(!plan.privateDns && { [PRIVATE_DNS_ANNOTATION]: 'false' }),
    }),
    spec: {
      name: spec.provider.apiName,
      description: `xapi ${spec.project}: private API reached from account ${spec.consumer.accountId} over PrivateLink`,
      endpointConfiguration: { types: ['PRIVATE'], ...(associated.length > 0 && { vpcEndpointIDs: associated }) },
      policy: policyOf(ctx),
      tags: { Project: spec.project },
    },
  });
}

type RouteTarget = { resourceId: string } | { resourceRef: { from: { name: string } } };

/**
 * Which Resources, Methods and Integrations can be rendered with the IDs known: top-level
 * segments hang off the root, whose ID only the RestAPI's status gives; an Integration waits for
 * ACK to have created its Method. The routes part renders it, the deployment part counts it.
 */
function routePlan(ctx: Context): { resources: { path: string; parent: string; topLevel: boolean }[]; routes: { route: Route; key: string; target: RouteTarget; integration: boolean }[] } {
  const { spec, names, observed } = ctx;
  const resources: { path: string; parent: string; topLevel: boolean }[] = [];
  const rendered = new Set<string>();
  for (const path of resourcePaths(spec.provider.routes)) {
    const segments = path.split('/').filter(Boolean);
    const parent = `/${segments.slice(0, -1).join('/')}`;
    const topLevel = segments.length === 1;
    if (topLevel && !observed.rootResourceId) continue;
    if (!topLevel && !rendered.has(parent)) continue;
    rendered.add(path);
    resources.push({ path, parent, topLevel });
  }
  const routes = [];
  for (const route of spec.provider.routes) {
    const path = `/${route.path.split('/').filter(Boolean).join('/')}`;
    const target: RouteTarget | undefined =
      path === '/' ? (observed.rootResourceId ? { resourceId: observed.rootResourceId } : undefined) : rendered.has(path) ? { resourceRef: ref(names.resource(path)) } : undefined;
    if (!target) continue; // its Resource waits for the root ID
    const key = `${route.method} ${route.path}`;
    // API Gateway: no Integration before its Method
    routes.push({ route, key, target, integration: createdIn(observed.createdMethods, key) });
  }
  return { resources, routes };
}

/** Account B's audit objects, Resources, AWS_IAM Methods (layer 4) and Integrations. */
function addRoutes(scope: Construct, ctx: Context): void {
  const { spec, names, observed, meta } = ctx;
  const b = spec.provider.namespace;
  const restApiRef = ref(names.restApi);
  const integration = spec.provider.integration;
  addAccessLogObjects(scope, { ...ctx.auditPlace(b, spec.provider.accountId), settings: spec.audit.accessLogs });
  addCloudTrailObjects(scope, { ...ctx.auditPlace(b, spec.provider.accountId), settings: spec.audit.cloudTrail });
  const plan = routePlan(ctx);
  for (const { path, parent, topLevel } of plan.resources) {
    const segments = path.split('/').filter(Boolean);
    new Resource(scope, names.resource(path), {
      metadata: meta(b, names.resource(path), waveOf('Resource', path), { [PATH_ANNOTATION]: path }),
      spec: {
        restApiRef,
        ...(topLevel ? { parentId: observed.rootResourceId } : { parentRef: ref(names.resource(parent)) }),
        pathPart: segments[segments.length - 1]!,
      },
    });
  }
  for (const { route, key, target, integration: withIntegration } of plan.routes) {
    const annotation = { [ROUTE_ANNOTATION]: key };
    new Method(scope, names.method(route), {
      metadata: meta(b, names.method(route), waveOf('Method'), annotation),
      spec: { restApiRef, ...target, httpMethod: route.method, authorizationType: 'AWS_IAM' },
    });
    if (!withIntegration) continue;
    new Integration(scope, names.integration(route), {
      metadata: meta(b, names.integration(route), waveOf('Integration'), annotation),
      spec: {
        restApiRef,
        ...target,
        httpMethod: route.method,
        type: integration.type,
        ...(integration.type === 'MOCK'
          ? { requestTemplates: { 'application/json': JSON.stringify({ statusCode: 200 }) } }
          : { uri: integration.uri, integrationHttpMethod: integration.type === 'AWS_PROXY' ? 'POST' : route.method }),
      },
    });
  }
}

/**
 * Account B's Deployment and the Stage on it, once every Method and Integration is in place and
 * the policy admits an endpoint. Returns false when they were left out for want of an ID or of
 * ACK's report (the provider's render is then incomplete).
 */
function addDeployment(scope: Construct, ctx: Context): boolean {
  const { spec, names, observed, meta } = ctx;
  const { routes } = routePlan(ctx);
  const routesIntegrated = spec.provider.routes.every((r) => createdIn(observed.createdIntegrations, `${r.method} ${r.path}`));
  const integrated = routes.length === spec.provider.routes.length && routes.every((r) => r.integration) && routesIntegrated;
  if (!integrated || (observed.allowedEndpointIds?.length ?? 0) === 0) return false;
  const b = spec.provider.namespace;
  const restApiRef = ref(names.restApi);
  const revision = revisionOf(ctx);
  const deployment = names.deployment(revision);
  new Deployment(scope, deployment, {
    metadata: meta(b, deployment, waveOf('Deployment')),
    spec: { restApiRef, description: `xapi revision ${revision}` },
  });
  new Stage(scope, names.stage, {
    metadata: meta(b, names.stage, waveOf('Stage')),
    spec: { restApiRef, stageName: spec.provider.stage, deploymentRef: ref(deployment) },
  });
  return true;
}

/**
 * Account B: the PRIVATE RestAPI with its resource policy (layer 3), AWS_IAM methods (layer 4),
 * deployment. Returns false when something was left out for want of an ID or of ACK's report.
 */
export function addProviderObjects(scope: Construct, ctx: Context): boolean {
  addRestApi(scope, ctx);
  addRoutes(scope, ctx);
  return addDeployment(scope, ctx);
}

/** Adds one CR's own objects to the two given charts (synth puts many CRs into one chart per cluster). */
export function addCrossAccountApi(consumer: Construct, provider: Construct, cr: CrossAccountApi, observed: ObservedIds): Pick<RenderedObjects, 'complete' | 'undecided'> {
  const ctx = context(cr, observed);
  // The consumer's objects are always all rendered; an unknown ID only narrows what they allow
  // (the flow logs, which wait for the ENI IDs, are "undecided": kept, never pruned).
  const undecided = addConsumerObjects(consumer, ctx);
  return { complete: { consumer: true, provider: addProviderObjects(provider, ctx) }, undecided: { consumer: undecided, provider: [] } };
}

/**
 * The operator renders a CR in parts, each from the IDs it reads and nothing else: a rotation
 * (a new allowed endpoint) changes what `api` and `deployment` read, and the render cache
 * (src/reconciler/render-cache.ts) makes only those again. In applyAll's order: the consumer's
 * objects, then the provider's RestAPI, its routes and audit objects, its Deployment and Stage.
 */
export type MemberPart = 'consumer' | 'api' | 'routes' | 'deployment';
export const MEMBER_PARTS: readonly MemberPart[] = ['consumer', 'api', 'routes', 'deployment'];

/** The IDs each part's objects are built from (a test checks that no part reads others). */
export const PART_IDS: Readonly<Record<MemberPart, readonly (keyof ObservedIds)[]>> = {
  consumer: ['callerSecurityGroupId', 'endpointSecurityGroupId', 'endpointSecurityGroupIds', 'endpointNetworkInterfaceIds', 'restApiId'],
  api: ['restApiId', 'allowedEndpointIds', 'roleArn'],
  routes: ['rootResourceId', 'createdMethods', 'createdIntegrations'],
  deployment: ['restApiId', 'allowedEndpointIds', 'roleArn', 'rootResourceId', 'createdMethods', 'createdIntegrations'],
};

/** Only the IDs `part` reads. */
export function partIds(part: MemberPart, observed: ObservedIds): ObservedIds {
  const ids: Record<string, unknown> = {};
  for (const k of PART_IDS[part]) if (observed[k] !== undefined) ids[k] = observed[k];
  return ids as ObservedIds;
}

export interface PartRender {
  objects: KubeObject[];
  /** False when the part left something out for want of an ID (only `deployment` can). */
  complete: boolean;
  /** Kinds it could not decide yet (only `consumer`: the flow logs). */
  undecided: string[];
}

/** One part of one CR's render, from the IDs that part reads. */
export function renderPart(part: MemberPart, cr: CrossAccountApi, observed: ObservedIds): PartRender {
  const app = new App({ outdir: '/nonexistent' }); // never synthesized to disk
  const chart = new Chart(app, part, { disableResourceNameHashes: true });
  const ctx = context(cr, partIds(part, observed));
  let complete = true;
  let undecided: string[] = [];
  if (part === 'consumer') undecided = addConsumerObjects(chart, ctx);
  else if (part === 'api') addRestApi(chart, ctx);
  else if (part === 'routes') addRoutes(chart, ctx);
  else complete = addDeployment(chart, ctx);
  return { objects: chart.toJson() as KubeObject[], complete, undecided };
}

/** A CR's render from its parts. */
export function joinParts(parts: Readonly<Record<MemberPart, PartRender>>): RenderedObjects {
  const provider = [parts.api, parts.routes, parts.deployment];
  return {
    consumer: parts.consumer.objects,
    provider: provider.flatMap((p) => p.objects),
    complete: { consumer: parts.consumer.complete, provider: provider.every((p) => p.complete) },
    undecided: { consumer: parts.consumer.undecided, provider: [] },
  };
}

/** Plain manifests of one CR's own objects for each cluster, without the shared endpoint: what the operator applies per CR. */
export function renderMember(cr: CrossAccountApi, observed: ObservedIds): RenderedObjects {
  const parts = Object.fromEntries(MEMBER_PARTS.map((p) => [p, renderPart(p, cr, observed)])) as Record<MemberPart, PartRender>;
  return joinParts(parts);
}

/**
 * Everything one CR needs, as if it were alone in its VPC: its own objects plus its endpoint
 * group with it as the only member (`observed.endpointSecurityGroupId` is the group SG's ID).
 * For tools and tests that look at one API; the operator renders members and groups apart.
 */
export function renderObjects(cr: CrossAccountApi, observed: ObservedIds): RenderedObjects {
  const app = new App({ outdir: '/nonexistent' }); // never synthesized to disk
  const consumer = new Chart(app, 'consumer', { disableResourceNameHashes: true });
  const provider = new Chart(app, 'provider', { disableResourceNameHashes: true });
  const { complete, undecided } = addCrossAccountApi(consumer, provider, cr, observed);
  const group = endpointGroup(cr);
  if (group) addEndpointGroup(consumer, group, [{ cr, ids: observed }], observed);
  return { consumer: consumer.toJson() as KubeObject[], provider: provider.toJson() as KubeObject[], complete, undecided };
}
