// The ACK fields xapi reads back from objects (rendered manifests, live objects), as the API
// server stores them. The constructs `cdk8s import` generated write these fields under other
// names (`userIdGroupPairs` → `userIDGroupPairs`) and have no status types, so the read side
// uses this one typed view. `WIRE` is an exemplar of every field read: its keys are the JSON
// names and its values give their types; a unit test checks each path against the real CRDs.
import { ACK, type AckKindName } from './ack.js';

const ref = { from: { name: '', namespace: '' } };
const rule = {
  ipProtocol: '',
  fromPort: 0,
  toPort: 0,
  ipRanges: [{ cidrIP: '' }],
  ipv6Ranges: [{ cidrIPv6: '' }],
  prefixListIDs: [{ prefixListID: '' }],
  userIDGroupPairs: [{ groupID: '', groupRef: ref, description: '' }],
};

export const WIRE = {
  SecurityGroup: {
    spec: { name: '', description: '', vpcID: '', ingressRules: [rule], egressRules: [rule] },
    status: { id: '' },
  },
  VPCEndpoint: {
    spec: { serviceName: '', vpcEndpointType: '', vpcID: '', subnetIDs: [''], subnetRefs: [ref], securityGroupIDs: [''], securityGroupRefs: [ref], privateDNSEnabled: false, policyDocument: '' },
    status: { vpcEndpointID: '', state: '', dnsEntries: [{ dnsName: '', hostedZoneID: '' }], networkInterfaceIDs: [''] },
  },
  Role: {
    spec: { name: '', path: '', assumeRolePolicyDocument: '', inlinePolicies: { '*': '' }, policies: [''] },
    status: {},
  },
  Function: {
    spec: { name: '', role: '', roleRef: ref, vpcConfig: { subnetIDs: [''], securityGroupIDs: [''], securityGroupRefs: [ref] } },
    status: {},
  },
  RestAPI: {
    spec: { name: '', policy: '', endpointConfiguration: { types: [''], vpcEndpointIDs: [''] }, tags: { '*': '' } },
    status: { id: '', rootResourceID: '' },
  },
  Resource: {
    spec: { pathPart: '', parentID: '', parentRef: ref, restAPIID: '', restAPIRef: ref },
    status: { id: '', path: '' },
  },
  Method: {
    spec: { httpMethod: '', authorizationType: '', resourceID: '', resourceRef: ref, restAPIRef: ref },
    status: {},
  },
  Integration: {
    spec: { httpMethod: '', type: '', uri: '', integrationHTTPMethod: '', requestTemplates: { '*': '' } },
    status: {},
  },
  Deployment: {
    spec: { description: '', stageName: '', restAPIRef: ref },
    status: { id: '', createdDate: '' },
  },
  Stage: {
    spec: { stageName: '', deploymentID: '', deploymentRef: ref, restAPIID: '', restAPIRef: ref },
    // ACK's Stage reads access log settings back but cannot set them (docs/audit.md)
    status: { lastUpdatedDate: '', accessLogSettings: { destinationARN: '', format: '' } },
  },
  FlowLog: {
    spec: { resourceID: '', resourceType: '', trafficType: '', logDestinationType: '', logDestination: '', logGroupRef: ref, deliverLogsPermissionRef: ref },
    status: { flowLogID: '' },
  },
  LogGroup: {
    spec: { name: '', retentionDays: 0 },
    status: { storedBytes: 0, retentionInDays: 0 },
  },
  EventDataStore: {
    spec: { name: '', retentionPeriod: 0, multiRegionEnabled: false, advancedEventSelectors: [{ name: '', fieldSelectors: [{ field: '', equals: [''] }] }] },
    status: { status: '' },
  },
} as const;

/** Every ACK status carries these (ACK's runtime). */
const COMMON_STATUS = {
  ackResourceMetadata: { arn: '', ownerAccountID: '', region: '' },
  conditions: [{ type: '', status: '', reason: '', message: '', lastTransitionTime: '' }],
} as const;

/** The exemplar's value types, every field optional; `'*'` keys stand for a map. */
type Wire<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends readonly (infer E)[]
        ? Wire<E>[]
        : T extends { readonly '*': infer V }
          ? Record<string, Wire<V>>
          : { [K in keyof T]?: Wire<T[K]> };

export type AckSpec<K extends AckKindName> = Wire<(typeof WIRE)[K]['spec']>;
export type AckStatus<K extends AckKindName> = Wire<(typeof WIRE)[K]['status']> & Wire<typeof COMMON_STATUS>;
export type SecurityGroupRule = Wire<typeof rule>;

export interface AckObject<K extends AckKindName> {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string };
  spec: AckSpec<K>;
  status: AckStatus<K>;
}

/**
 * The object as kind `kind`, or undefined when it is another kind. Reading is shape-checked by
 * the callers (JSON from a file or a server can hold anything): this types the names only.
 */
export function ackObject<K extends AckKindName>(obj: unknown, kind: K): AckObject<K> | undefined {
  const o = obj as { kind?: unknown; apiVersion?: unknown; metadata?: unknown; spec?: unknown; status?: unknown } | undefined;
  if (!o || o.kind !== ACK[kind].kind) return undefined;
  if (o.apiVersion !== undefined && o.apiVersion !== ACK[kind].apiVersion) return undefined;
  const plain = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
  return { ...(o as object), metadata: plain(o.metadata), spec: plain(o.spec), status: plain(o.status) } as AckObject<K>;
}

/** Field paths of the exemplar ("spec.ingressRules[].userIDGroupPairs[].groupID") and their JSON types, for the CRD check. */
export function wirePaths(kind: AckKindName): Array<{ path: string; type: 'string' | 'integer' | 'boolean' }> {
  const out: Array<{ path: string; type: 'string' | 'integer' | 'boolean' }> = [];
  const walk = (v: unknown, path: string) => {
    if (Array.isArray(v)) return walk(v[0], `${path}[]`);
    if (v && typeof v === 'object') {
      const entries = Object.entries(v);
      if (entries.length === 0) return;
      for (const [k, child] of entries) walk(child, k === '*' ? `${path}{}` : `${path}.${k}`);
      return;
    }
    out.push({ path, type: typeof v === 'number' ? 'integer' : typeof v === 'boolean' ? 'boolean' : 'string' });
  };
  walk(WIRE[kind].spec, 'spec');
  walk(WIRE[kind].status, 'status');
  walk(COMMON_STATUS, 'status');
  return out;
}
