// The objects one CrossAccountApi needs in each account's cluster, as plain manifests. Pure: the
// same function serves synth, the operator and the tests. An ID AWS has not assigned yet makes
// the output narrower (no SG rule, no Resource under the root, a deny-all policy), never wider.
import { createHash } from 'node:crypto';
import { ACK, ACK_ANNOTATION, type KindRef } from '../api/ack.js';
import { withDefaults } from '../api/defaults.js';
import { PATH_ANNOTATION, ROUTE_ANNOTATION, type CrossAccountApi, type KubeObject, type ObservedIds, type Route } from '../api/types.js';
import {
  LAMBDA_VPC_ACCESS_POLICY_ARN,
  endpointPolicy,
  lambdaTrustPolicy,
  policyJson,
  resourcePolicy,
  roleInvokePolicy,
} from '../policy/documents.js';
import { objectNames, ownerLabels, resourcePaths } from './names.js';

export interface RenderedObjects {
  consumer: KubeObject[];
  provider: KubeObject[];
}

const HTTPS = 443;
const ref = (name: string) => ({ from: { name } });

export function renderObjects(cr: CrossAccountApi, observed: ObservedIds): RenderedObjects {
  const spec = withDefaults(cr.spec);
  const names = objectNames(cr);
  const labels = ownerLabels(cr);
  const project = [{ key: 'Project', value: spec.project }];

  const make = (kind: KindRef, namespace: string, name: string, body: Record<string, unknown>, annotations: Record<string, string> = {}): KubeObject => ({
    apiVersion: kind.apiVersion,
    kind: kind.kind,
    metadata: { name, namespace, labels: { ...labels }, annotations: { [ACK_ANNOTATION.region]: spec.region, ...annotations } },
    spec: body,
  });

  // Layer 1: each group's single rule names the other group by ID; until both IDs are known the
  // rules stay out (ACK cannot resolve two groups that reference each other, ACK community #2119).
  const bothSgIds = observed.callerSecurityGroupId && observed.endpointSecurityGroupId;
  const rule = (groupID: string, description: string) => ({
    ipProtocol: 'tcp',
    fromPort: HTTPS,
    toPort: HTTPS,
    userIDGroupPairs: [{ groupID, description }],
  });
  const a = spec.consumer.namespace;
  const consumer: KubeObject[] = [
    make(ACK.SecurityGroup, a, names.callerSecurityGroup, {
      name: names.callerSecurityGroup,
      description: `xapi ${spec.project}: caller, egress 443 to the execute-api endpoint only`,
      vpcID: spec.consumer.vpcId,
      ingressRules: [],
      egressRules: bothSgIds ? [rule(observed.endpointSecurityGroupId!, 'to the execute-api endpoint')] : [],
      tags: project,
    }),
    make(ACK.SecurityGroup, a, names.endpointSecurityGroup, {
      name: names.endpointSecurityGroup,
      description: `xapi ${spec.project}: execute-api endpoint, ingress 443 from the caller only`,
      vpcID: spec.consumer.vpcId,
      ingressRules: bothSgIds ? [rule(observed.callerSecurityGroupId!, 'from the caller')] : [],
      egressRules: [],
      tags: project,
    }),
    make(ACK.VPCEndpoint, a, names.vpcEndpoint, {
      serviceName: `com.amazonaws.${spec.region}.execute-api`,
      vpcEndpointType: 'Interface',
      vpcID: spec.consumer.vpcId,
      subnetIDs: [...spec.consumer.subnetIds],
      privateDNSEnabled: true,
      ...(observed.endpointSecurityGroupId
        ? { securityGroupIDs: [observed.endpointSecurityGroupId] }
        : { securityGroupRefs: [ref(names.endpointSecurityGroup)] }),
      policyDocument: policyJson(endpointPolicy(spec, observed)),
      tags: project,
    }),
  ];
  if (!spec.consumer.roleArn) {
    const invoke = roleInvokePolicy(spec, observed);
    consumer.push(
      make(ACK.Role, a, names.role, {
        name: spec.consumer.roleName,
        description: `xapi ${spec.project}: Lambda caller of ${spec.provider.apiName}`,
        assumeRolePolicyDocument: policyJson(lambdaTrustPolicy()),
        policies: [LAMBDA_VPC_ACCESS_POLICY_ARN],
        ...(invoke && { inlinePolicies: { 'xapi-invoke': policyJson(invoke) } }),
        tags: project,
      }),
    );
  }
  const fn = spec.consumer.function;
  if (fn) {
    consumer.push(
      make(ACK.Function, a, names.function, {
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
      }),
    );
  }

  // Account B. The resource policy changes only take effect after a redeploy, so the Deployment's
  // name carries a hash of everything it snapshots.
  const b = spec.provider.namespace;
  const policy = policyJson(resourcePolicy(spec, observed));
  const integration = spec.provider.integration!;
  const revision = createHash('sha256')
    .update(JSON.stringify({ routes: spec.provider.routes, integration, policy, root: observed.rootResourceId ?? null }))
    .digest('hex')
    .slice(0, 8);
  const provider: KubeObject[] = [
    make(ACK.RestAPI, b, names.restApi, {
      name: spec.provider.apiName,
      description: `xapi ${spec.project}: private API reached from account ${spec.consumer.accountId} over PrivateLink`,
      endpointConfiguration: { types: ['PRIVATE'] },
      policy,
      tags: { Project: spec.project },
    }),
  ];
  // Resources: top-level segments hang off the root, whose ID only the RestAPI's status gives.
  const rendered = new Set<string>();
  for (const path of resourcePaths(spec.provider.routes)) {
    const segments = path.split('/').filter(Boolean);
    const parent = `/${segments.slice(0, -1).join('/')}`;
    const topLevel = segments.length === 1;
    if (topLevel && !observed.rootResourceId) continue;
    if (!topLevel && !rendered.has(parent)) continue;
    rendered.add(path);
    provider.push(
      make(
        ACK.Resource,
        b,
        names.resource(path),
        {
          restAPIRef: ref(names.restApi),
          ...(topLevel ? { parentID: observed.rootResourceId } : { parentRef: ref(names.resource(parent)) }),
          pathPart: segments[segments.length - 1],
        },
        { [PATH_ANNOTATION]: path },
      ),
    );
  }
  const routeResource = (route: Route) => {
    const path = `/${route.path.split('/').filter(Boolean).join('/')}`;
    if (path === '/') return observed.rootResourceId ? { resourceID: observed.rootResourceId } : undefined;
    return rendered.has(path) ? { resourceRef: ref(names.resource(path)) } : undefined;
  };
  const methods: string[] = [];
  for (const route of spec.provider.routes) {
    const resource = routeResource(route);
    if (!resource) continue; // its Resource waits for the root ID
    const annotation = { [ROUTE_ANNOTATION]: `${route.method} ${route.path}` };
    methods.push(names.method(route));
    provider.push(
      make(ACK.Method, b, names.method(route), { restAPIRef: ref(names.restApi), ...resource, httpMethod: route.method, authorizationType: 'AWS_IAM' }, annotation),
      make(
        ACK.Integration,
        b,
        names.integration(route),
        {
          restAPIRef: ref(names.restApi),
          ...resource,
          httpMethod: route.method,
          type: integration.type,
          ...(integration.type === 'MOCK'
            ? { requestTemplates: { 'application/json': JSON.stringify({ statusCode: 200 }) } }
            : { uri: integration.uri, integrationHTTPMethod: integration.type === 'AWS_PROXY' ? 'POST' : route.method }),
        },
        annotation,
      ),
    );
  }
  // Deploying needs every method in place and a policy that admits an endpoint.
  if (methods.length === spec.provider.routes.length && (observed.allowedEndpointIds?.length ?? 0) > 0) {
    const deployment = names.deployment(revision);
    provider.push(
      make(ACK.Deployment, b, deployment, { restAPIRef: ref(names.restApi), description: `xapi revision ${revision}` }),
      make(ACK.Stage, b, names.stage, { restAPIRef: ref(names.restApi), stageName: spec.provider.stage, deploymentRef: ref(deployment) }),
    );
  }
  return { consumer, provider };
}
