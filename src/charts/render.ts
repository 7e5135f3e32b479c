// The objects one CrossAccountApi needs in each account's cluster, built with the constructs that
// `cdk8s import` generated from the pinned ACK CRDs (imports/), so a misspelled field is a type
// error. Pure: the same function serves synth, the operator and the tests. An ID AWS has not
// assigned yet makes the output narrower (no SG rule, no Resource under the root, a deny-all
// policy), never wider.
import { createHash } from 'node:crypto';
import { App, Chart, type ApiObjectMetadata } from 'cdk8s';
import type { Construct } from 'constructs';
import { Deployment, Integration, Method, Resource, RestApi, Stage } from '../../imports/apigateway.services.k8s.aws.js';
import { SecurityGroup, VpcEndpoint, type SecurityGroupSpecEgressRules } from '../../imports/ec2.services.k8s.aws.js';
import { Role } from '../../imports/iam.services.k8s.aws.js';
import { Function as LambdaFunction } from '../../imports/lambda.services.k8s.aws.js';
import { ACK_ANNOTATION } from '../api/ack.js';
import { withDefaults, type DefaultedSpec } from '../api/defaults.js';
import { PATH_ANNOTATION, ROUTE_ANNOTATION, type CrossAccountApi, type CrossAccountApiSpec, type KubeObject, type ObservedIds, type Route } from '../api/types.js';
import {
  PROJECT_TAG_CONDITION_ANNOTATION,
  endpointPolicy,
  lambdaVpcAccessPolicyArn,
  lambdaTrustPolicy,
  policyJson,
  resourcePolicy,
  roleInvokePolicy,
} from '../policy/documents.js';
import { addAccessLogObjects, addCloudTrailObjects, addFlowLogObjects, type AuditPlace } from './audit.js';
import { SYNC_WAVE, objectNames, ownerLabels, resourcePaths, type ObjectNames } from './names.js';
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
  return {
    spec,
    names: objectNames(cr),
    observed,
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
 * Account A: layer 1 (security groups), layer 2 (endpoint and its policy), the caller's Role,
 * optionally the Function, and the endpoint's flow logs. Returns the kinds it could not decide
 * yet (the flow logs, until the endpoint's network interface IDs are known).
 */
export function addConsumerObjects(scope: Construct, ctx: Context): string[] {
  const { spec, names, observed, meta, project } = ctx;
  const a = spec.consumer.namespace;
  // Each group's single rule names the other group by ID; until both IDs are known the rules stay
  // out (ACK cannot resolve two groups that reference each other, ACK community #2119). Egress is
  // always declared: ACK removes AWS's default allow-all egress and keeps the spec's rules only.
  const bothSgIds = observed.callerSecurityGroupId && observed.endpointSecurityGroupId;
  const rule = (groupId: string, description: string): SecurityGroupSpecEgressRules => ({
    ipProtocol: 'tcp',
    fromPort: HTTPS,
    toPort: HTTPS,
    userIdGroupPairs: [{ groupId, description }],
  });
  new SecurityGroup(scope, names.callerSecurityGroup, {
    metadata: meta(a, names.callerSecurityGroup, waveOf('SecurityGroup')),
    spec: {
      name: names.callerSecurityGroup,
      description: `xapi ${spec.project}: caller, egress 443 to the execute-api endpoint only`,
      vpcId: spec.consumer.vpcId,
      ingressRules: [],
      egressRules: bothSgIds ? [rule(observed.endpointSecurityGroupId!, 'to the execute-api endpoint')] : [],
      tags: project,
    },
  });
  new SecurityGroup(scope, names.endpointSecurityGroup, {
    metadata: meta(a, names.endpointSecurityGroup, waveOf('SecurityGroup')),
    spec: {
      name: names.endpointSecurityGroup,
      description: `xapi ${spec.project}: execute-api endpoint, ingress 443 from the caller only`,
      vpcId: spec.consumer.vpcId,
      ingressRules: bothSgIds ? [rule(observed.callerSecurityGroupId!, 'from the caller')] : [],
      egressRules: [],
      tags: project,
    },
  });
  new VpcEndpoint(scope, names.vpcEndpoint, {
    metadata: meta(a, names.vpcEndpoint, waveOf('VPCEndpoint'), !spec.projectTagCondition ? { [PROJECT_TAG_CONDITION_ANNOTATION]: 'false' } : {}),
    spec: {
      serviceName: `com.amazonaws.${spec.region}.execute-api`,
      vpcEndpointType: 'Interface',
      vpcId: spec.consumer.vpcId,
      subnetIDs: [...spec.consumer.subnetIds],
      privateDnsEnabled: true,
      ...(observed.endpointSecurityGroupId
        ? { securityGroupIDs: [observed.endpointSecurityGroupId] }
        : { securityGroupRefs: [ref(names.endpointSecurityGroup)] }),
      policyDocument: policyJson(endpointPolicy(spec, observed)),
      tags: project,
    },
  });
  const flowLogs = addFlowLogObjects(scope, { ...ctx.auditPlace(a, spec.consumer.accountId), eniIds: observed.endpointNetworkInterfaceIds, settings: spec.audit.flowLogs });
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

/**
 * Account B: the PRIVATE RestAPI with its resource policy (layer 3), AWS_IAM methods (layer 4),
 * deployment. Returns false when something was left out for want of an ID or of ACK's report.
 */
export function addProviderObjects(scope: Construct, ctx: Context): boolean {
  const { spec, names, observed, meta } = ctx;
  const b = spec.provider.namespace;
  // Resource policy changes take effect only after a redeploy, so the Deployment's name carries a
  // hash of everything it snapshots.
  const policy = policyJson(resourcePolicy(spec, observed));
  const integration = spec.provider.integration;
  const revision = createHash('sha256')
    .update(JSON.stringify({ routes: spec.provider.routes, integration, policy, root: observed.rootResourceId ?? null }))
    .digest('hex')
    .slice(0, 8);
  new RestApi(scope, names.restApi, {
    metadata: meta(b, names.restApi, waveOf('RestAPI')),
    spec: {
      name: spec.provider.apiName,
      description: `xapi ${spec.project}: private API reached from account ${spec.consumer.accountId} over PrivateLink`,
      endpointConfiguration: { types: ['PRIVATE'] },
      policy,
      tags: { Project: spec.project },
    },
  });
  const restApiRef = ref(names.restApi);
  addAccessLogObjects(scope, { ...ctx.auditPlace(b, spec.provider.accountId), settings: spec.audit.accessLogs });
  addCloudTrailObjects(scope, { ...ctx.auditPlace(b, spec.provider.accountId), settings: spec.audit.cloudTrail });
  // Resources: top-level segments hang off the root, whose ID only the RestAPI's status gives.
  const rendered = new Set<string>();
  for (const path of resourcePaths(spec.provider.routes)) {
    const segments = path.split('/').filter(Boolean);
    const parent = `/${segments.slice(0, -1).join('/')}`;
    const topLevel = segments.length === 1;
    if (topLevel && !observed.rootResourceId) continue;
    if (!topLevel && !rendered.has(parent)) continue;
    rendered.add(path);
    new Resource(scope, names.resource(path), {
      metadata: meta(b, names.resource(path), waveOf('Resource', path), { [PATH_ANNOTATION]: path }),
      spec: {
        restApiRef,
        ...(topLevel ? { parentId: observed.rootResourceId } : { parentRef: ref(names.resource(parent)) }),
        pathPart: segments[segments.length - 1]!,
      },
    });
  }
  const routeResource = (route: Route): { resourceId: string } | { resourceRef: { from: { name: string } } } | undefined => {
    const path = `/${route.path.split('/').filter(Boolean).join('/')}`;
    if (path === '/') return observed.rootResourceId ? { resourceId: observed.rootResourceId } : undefined;
    return rendered.has(path) ? { resourceRef: ref(names.resource(path)) } : undefined;
  };
  const created = (list: string[] | undefined, key: string) => list === undefined || list.includes(key);
  let methods = 0;
  let integrations = 0;
  for (const route of spec.provider.routes) {
    const resource = routeResource(route);
    if (!resource) continue; // its Resource waits for the root ID
    const key = `${route.method} ${route.path}`;
    const annotation = { [ROUTE_ANNOTATION]: key };
    methods += 1;
    new Method(scope, names.method(route), {
      metadata: meta(b, names.method(route), waveOf('Method'), annotation),
      spec: { restApiRef, ...resource, httpMethod: route.method, authorizationType: 'AWS_IAM' },
    });
    if (!created(observed.createdMethods, key)) continue; // API Gateway: no Integration before its Method
    integrations += 1;
    new Integration(scope, names.integration(route), {
      metadata: meta(b, names.integration(route), waveOf('Integration'), annotation),
      spec: {
        restApiRef,
        ...resource,
        httpMethod: route.method,
        type: integration.type,
        ...(integration.type === 'MOCK'
          ? { requestTemplates: { 'application/json': JSON.stringify({ statusCode: 200 }) } }
          : { uri: integration.uri, integrationHttpMethod: integration.type === 'AWS_PROXY' ? 'POST' : route.method }),
      },
    });
  }
  // Deploying needs every method and integration in place and a policy that admits an endpoint.
  const routesIntegrated = spec.provider.routes.every((r) => created(observed.createdIntegrations, `${r.method} ${r.path}`));
  if (methods === spec.provider.routes.length && integrations === methods && routesIntegrated && (observed.allowedEndpointIds?.length ?? 0) > 0) {
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
  return false;
}

/** Adds the objects of one CR to the two given charts (synth puts many CRs into one chart per cluster). */
export function addCrossAccountApi(consumer: Construct, provider: Construct, cr: CrossAccountApi, observed: ObservedIds): Pick<RenderedObjects, 'complete' | 'undecided'> {
  const ctx = context(cr, observed);
  // The consumer's objects are always all rendered; an unknown ID only narrows what they allow
  // (the flow logs, which wait for the ENI IDs, are "undecided": kept, never pruned).
  const undecided = addConsumerObjects(consumer, ctx);
  return { complete: { consumer: true, provider: addProviderObjects(provider, ctx) }, undecided: { consumer: undecided, provider: [] } };
}

/** Plain manifests of one CR for each cluster; what the operator applies. */
export function renderObjects(cr: CrossAccountApi, observed: ObservedIds): RenderedObjects {
  const app = new App({ outdir: '/nonexistent' }); // never synthesized to disk
  const consumer = new Chart(app, 'consumer', { disableResourceNameHashes: true });
  const provider = new Chart(app, 'provider', { disableResourceNameHashes: true });
  const { complete, undecided } = addCrossAccountApi(consumer, provider, cr, observed);
  return { consumer: consumer.toJson() as KubeObject[], provider: provider.toJson() as KubeObject[], complete, undecided };
}
