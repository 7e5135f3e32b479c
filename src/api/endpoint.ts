// Which execute-api interface endpoint a CR's caller goes through, what xapi manages of it, and
// which hostname the caller uses. Pure decisions on the spec, in one place, so that the render,
// the reconciler, lint, status and explain agree (and the shared-endpoint render can reuse them).
//
// Facts (Amazon API Gateway Developer Guide, "Private REST APIs in API Gateway" and "Invoke a
// private API"; x-amazon-apigateway-endpoint-configuration):
// - private DNS on an execute-api endpoint answers *.execute-api.REGION.amazonaws.com for the
//   whole VPC, so `{api-id}.execute-api.REGION.amazonaws.com` reaches the API with no extra header;
// - `endpointConfiguration.vpcEndpointIds` of a PRIVATE RestApi makes API Gateway create Route 53
//   alias records `{api-id}-{vpce-id}.execute-api.REGION.amazonaws.com` for each listed endpoint,
//   which resolve whether or not the endpoint has private DNS;
// - without either, the endpoint's own DNS name `vpce-….execute-api.REGION.vpce.amazonaws.com`
//   works with the header `x-apigw-api-id: {api-id}` (or a Host header naming the API).
import { partitionOf } from './partition.js';
import type { CrossAccountApiSpec } from './types.js';

/** The header that names the API when the caller uses the endpoint's own DNS name. */
export const API_ID_HEADER = 'x-apigw-api-id';

/** On a VPCEndpoint rendered with private DNS off: deliberate, so lint does not flag it (XAPI007). */
export const PRIVATE_DNS_ANNOTATION = 'xapi.dev/private-dns';
/** On a RestAPI whose caller uses an endpoint xapi does not manage: its ID. */
export const UNMANAGED_ENDPOINT_ANNOTATION = 'xapi.dev/unmanaged-endpoint';

type EndpointFields = Pick<CrossAccountApiSpec, 'region' | 'consumer'>;

export type EndpointPlan =
  /** xapi creates the VPC's endpoint (and its security group) and writes its policy. */
  | { managed: true; privateDns: boolean; group: string }
  /** An existing endpoint (brownfield): named in B's resource policy, never created or written. */
  | { managed: false; id: string; privateDns: boolean };

function privateDnsOf(spec: EndpointFields): boolean {
  return spec.consumer.endpoint?.privateDns ?? true;
}

/**
 * Key of the endpoint group a managed CR belongs to: one endpoint per consumer cluster, namespace,
 * account, region and VPC. The cluster is the cluster Secret's name ("local": the operator's own).
 */
export function endpointGroupKey(spec: EndpointFields): string {
  const c = spec.consumer;
  return [c.cluster?.secretName ?? 'local', c.namespace, c.accountId, spec.region, c.vpcId].join('/');
}

export function endpointPlan(spec: EndpointFields): EndpointPlan {
  const id = spec.consumer.endpoint?.id;
  if (id) return { managed: false, id, privateDns: privateDnsOf(spec) };
  return { managed: true, privateDns: privateDnsOf(spec), group: endpointGroupKey(spec) };
}

/** Whether xapi renders (and owns) the execute-api endpoint and its security group for this CR. */
export function managesEndpoint(spec: EndpointFields): boolean {
  return !spec.consumer.endpoint?.id;
}

/** Key of the VPC whose DNS an endpoint with private DNS takes over: the region and VPC ID. */
export function vpcKey(region: string, vpcId: string): string {
  return `${region}/${vpcId}`;
}

/**
 * The endpoint IDs B's resource policy admits: what the reconciler's rotation (or --observed)
 * gives, plus an existing endpoint's ID, which is known from the spec alone.
 */
export function allowedEndpointIdsFor(spec: EndpointFields, observed: readonly string[] | undefined): string[] {
  const plan = endpointPlan(spec);
  const ids = new Set(observed ?? []);
  if (!plan.managed) ids.add(plan.id);
  return [...ids].sort();
}

/**
 * `endpointConfiguration.vpcEndpointIDs` of the RestAPI: the allowed endpoints when the caller
 * cannot use private DNS (the alias records are what it calls), else none.
 */
export function associatedEndpointIds(spec: EndpointFields, allowed: readonly string[]): string[] {
  return privateDnsOf(spec) ? [] : [...new Set(allowed)].sort();
}

export interface UnmanagedLayer {
  layer: 1 | 2;
  message: string;
}

/** The layers xapi does not (fully) manage for this CR, said in words for status and explain. */
export function unmanagedLayers(spec: EndpointFields): UnmanagedLayer[] {
  const plan = endpointPlan(spec);
  if (plan.managed) return [];
  return [
    {
      layer: 1,
      message: `the security groups of ${plan.id} are not xapi's: xapi gives the caller group egress tcp/443 to them once ACK reports them, but their ingress from the caller group is the endpoint owner's to allow`,
    },
    { layer: 2, message: `the policy of ${plan.id} is not xapi's: xapi never writes it; it must allow execute-api:Invoke on this API for the caller role` },
  ];
}

export interface InvokeTarget {
  /** https://HOST/STAGE */
  url: string;
  /** Headers the caller must add (and sign). */
  headers: Record<string, string>;
  /** When to use it. */
  note: string;
}

/** The endpoint-specific hostname of a private API (needs the endpoint in vpcEndpointIDs). */
export function endpointSpecificHost(apiId: string, vpceId: string, region: string): string {
  return `${apiId}-${vpceId}.${executeApiDomain(region)}`;
}

export function executeApiDomain(region: string): string {
  const suffix = partitionOf(region) === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `execute-api.${region}.${suffix}`;
}

/**
 * Where the caller sends its requests. Private DNS on: the API's own name. Off: the endpoint-
 * specific hostname (first choice), or the endpoint's own DNS name with x-apigw-api-id.
 */
export function invokeTargets(o: { apiId: string; region: string; stage: string; privateDns: boolean; vpceId?: string; vpceDnsName?: string }): InvokeTarget[] {
  if (o.privateDns) {
    return [{ url: `https://${o.apiId}.${executeApiDomain(o.region)}/${o.stage}`, headers: {}, note: "private DNS: the API's own name resolves to the endpoint inside the VPC" }];
  }
  const out: InvokeTarget[] = [];
  if (o.vpceId) {
    out.push({
      url: `https://${endpointSpecificHost(o.apiId, o.vpceId, o.region)}/${o.stage}`,
      headers: {},
      note: `endpoint-specific hostname: a Route 53 alias API Gateway creates because ${o.vpceId} is in the RestAPI's vpcEndpointIDs`,
    });
  }
  if (o.vpceDnsName) {
    out.push({ url: `https://${o.vpceDnsName.replace(/^\*\./, '')}/${o.stage}`, headers: { [API_ID_HEADER]: o.apiId }, note: "the endpoint's own DNS name, with the API named in x-apigw-api-id" });
  }
  return out;
}

/** The URL status reports: the first target, when the IDs it needs are known. */
export function invokeUrl(o: { apiId: string; region: string; stage: string; privateDns: boolean; vpceId?: string }): string | undefined {
  return invokeTargets(o)[0]?.url;
}

export type ExecuteApiHost =
  | { kind: 'api'; apiId: string; region: string }
  | { kind: 'endpoint-specific'; apiId: string; vpceId: string; region: string }
  | { kind: 'vpce'; vpceId: string; region: string };

/** What an execute-api hostname names; undefined for any other host (e.g. 127.0.0.1:8443). */
export function parseExecuteApiHost(host: string): ExecuteApiHost | undefined {
  const h = host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  let m = /^([a-z0-9]{10})-(vpce-[0-9a-f]{8,17})\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(h);
  if (m) return { kind: 'endpoint-specific', apiId: m[1]!, vpceId: m[2]!, region: m[3]! };
  m = /^([a-z0-9]{10})\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(h);
  if (m) return { kind: 'api', apiId: m[1]!, region: m[2]! };
  // vpce-0123456789abcdef0-abcd1234[.az].execute-api.REGION.vpce.amazonaws.com
  m = /^(vpce-[0-9a-f]{8,17})-[a-z0-9]+(?:-[a-z0-9-]+)?\.execute-api\.([a-z0-9-]+)\.vpce\.amazonaws\.com(\.cn)?$/.exec(h);
  if (m) return { kind: 'vpce', vpceId: m[1]!, region: m[2]! };
  return undefined;
}
