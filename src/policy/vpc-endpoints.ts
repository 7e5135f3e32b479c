// One execute-api endpoint with private DNS per VPC. Private DNS is VPC-wide: the endpoint answers
// *.execute-api.REGION.amazonaws.com for every caller in the VPC, so a second one makes name
// resolution ambiguous and resource policies keyed on aws:sourceVpce fail intermittently
// (cfn-lint issue #4352 reports the outage; the API Gateway guide's best practices: "use a single
// VPC endpoint to access multiple private APIs"). Pure rules over CR specs and VPCEndpoint objects,
// used by synth (refuse), `xapi lint` (on manifests) and the operator (before it applies).
import { ACK_ANNOTATION } from '../api/ack.js';
import { ackObject } from '../api/ack-wire.js';
import { endpointPlan, vpcKey } from '../api/endpoint.js';
import { OWNER_LABEL, type CrossAccountApiSpec, type KubeObject } from '../api/types.js';

export const VPC_RULES = {
  groupPrivateDns: {
    id: 'XAPI012',
    name: 'endpoint-private-dns-agrees',
    description: 'CrossAccountApis that use one execute-api endpoint (the shared endpoint of a consumer cluster, namespace, account, region and VPC, or one existing endpoint ID) must agree on consumer.endpoint.privateDns: it is a property of the endpoint.',
    help: 'Give every CrossAccountApi of the group the same spec.consumer.endpoint.privateDns.',
    level: 'error',
  },
  onePrivateDnsEndpoint: {
    id: 'XAPI013',
    name: 'one-private-dns-endpoint-per-vpc',
    description: 'A VPC may hold only one execute-api interface endpoint with private DNS: private DNS is VPC-wide, and a second one makes *.execute-api names resolve to either endpoint (policies keyed on aws:sourceVpce then fail intermittently).',
    help: 'Share one endpoint per VPC (one consumer namespace per VPC, or consumer.endpoint.id of the existing one), or set consumer.endpoint.privateDns: false so callers use the endpoint-specific hostname.',
    level: 'error',
  },
} as const;

/** A CR as the rules see it. `key` is "namespace/name"; `created` orders CRs (older wins). */
export interface EndpointClaimant {
  key: string;
  spec: Pick<CrossAccountApiSpec, 'region' | 'consumer'>;
  created?: string;
  /** Value of the owner label on the objects xapi renders for it. */
  owner?: string;
}

/** An execute-api VPCEndpoint object (rendered, or live in a consumer cluster). */
export interface EndpointObject {
  /** "namespace/name" of the object, and where it was found. */
  where: string;
  namespace?: string;
  region?: string;
  vpcId: string;
  privateDns: boolean;
  /** status.vpcEndpointID, when ACK reported it. */
  id?: string;
  /** The xapi owner label, when xapi rendered it for one CR (an endpoint of the old per-CR layout). */
  owner?: string;
  /** xapi rendered it (managed-by label): a VPC's shared endpoint carries no owner label. */
  xapi?: boolean;
}

export interface VpcConflict {
  ruleId: string;
  message: string;
  /** The CRs (keys) the problem is about. */
  subjects: string[];
  /** The endpoint objects (`where`) it is about. */
  objects: string[];
}

/** What a claimant's endpoint is: one shared managed endpoint per group, or an existing ID. */
export function endpointIdentity(spec: EndpointClaimant['spec']): string {
  const plan = endpointPlan(spec);
  return plan.managed ? `group ${plan.group}` : `endpoint ${plan.id}`;
}

const EXECUTE_API = /^com\.amazonaws\.[a-z0-9-]+\.execute-api$/;

/** The execute-api interface endpoint in an object, or undefined for anything else. */
export function endpointObject(o: unknown): EndpointObject | undefined {
  const v = ackObject(o as KubeObject, 'VPCEndpoint');
  if (!v) return undefined;
  const service = typeof v.spec.serviceName === 'string' ? v.spec.serviceName : '';
  if (!EXECUTE_API.test(service) || typeof v.spec.vpcID !== 'string') return undefined;
  const region = v.metadata.annotations?.[ACK_ANNOTATION.region] ?? /^com\.amazonaws\.([a-z0-9-]+)\./.exec(service)?.[1];
  const id = typeof v.status.vpcEndpointID === 'string' && v.status.vpcEndpointID ? v.status.vpcEndpointID : undefined;
  const owner = v.metadata.labels?.[OWNER_LABEL];
  const xapi = v.metadata.labels?.['app.kubernetes.io/managed-by'] === 'xapi';
  return {
    where: `${v.metadata.namespace ?? 'default'}/${v.metadata.name}`,
    ...(v.metadata.namespace && { namespace: v.metadata.namespace }),
    ...(region && { region }),
    vpcId: v.spec.vpcID,
    // Private DNS is on unless the object says false (the EC2 API's default for an interface endpoint of an AWS service is true).
    privateDns: v.spec.privateDNSEnabled !== false,
    ...(id && { id }),
    ...(owner && { owner }),
    ...(xapi && { xapi }),
  };
}

function older(a: EndpointClaimant, b: EndpointClaimant): boolean {
  const ta = a.created ?? '';
  const tb = b.created ?? '';
  return ta !== tb ? ta < tb : a.key < b.key;
}

/**
 * Rules over a set of CRs (synth, lint): members of one endpoint disagreeing on privateDns, and
 * VPCs where the CRs (and the given endpoint objects) would put two endpoints with private DNS.
 * `renderedManaged`: the managed endpoints are among `objects` (lint reads rendered manifests),
 * so managed CRs are not counted a second time.
 */
export function checkClaims(claimants: readonly EndpointClaimant[], objects: readonly EndpointObject[] = [], o: { renderedManaged?: boolean } = {}): VpcConflict[] {
  const out: VpcConflict[] = [];
  const byIdentity = new Map<string, EndpointClaimant[]>();
  for (const c of claimants) {
    const id = endpointIdentity(c.spec);
    byIdentity.set(id, [...(byIdentity.get(id) ?? []), c]);
  }
  for (const [identity, members] of [...byIdentity].sort(([a], [b]) => a.localeCompare(b))) {
    const values = new Set(members.map((m) => endpointPlan(m.spec).privateDns));
    if (values.size > 1) {
      const list = members.map((m) => `${m.key} (privateDns ${endpointPlan(m.spec).privateDns})`).join(', ');
      out.push({ ruleId: VPC_RULES.groupPrivateDns.id, message: `${identity} is used by ${list}: they must agree on consumer.endpoint.privateDns`, subjects: members.map((m) => m.key), objects: [] });
    }
  }
  const perVpc = new Map<string, Map<string, string[]>>(); // vpc → identity → who
  const add = (vpc: string, identity: string, who: string) => {
    const m = perVpc.get(vpc) ?? new Map<string, string[]>();
    perVpc.set(vpc, m);
    m.set(identity, [...(m.get(identity) ?? []), who]);
  };
  for (const c of claimants) {
    const plan = endpointPlan(c.spec);
    if (!plan.privateDns || (plan.managed && o.renderedManaged)) continue;
    add(vpcKey(c.spec.region, c.spec.consumer.vpcId), endpointIdentity(c.spec), c.key);
  }
  const brownfieldIds = new Set(claimants.map((c) => endpointPlan(c.spec)).flatMap((p) => (p.managed ? [] : [p.id])));
  for (const e of objects) {
    if (!e.privateDns || !e.region) continue;
    // An existing endpoint a CR names is that CR's endpoint, not another one.
    const identity = e.id && brownfieldIds.has(e.id) ? `endpoint ${e.id}` : `VPCEndpoint ${e.where}`;
    add(vpcKey(e.region, e.vpcId), identity, e.where);
  }
  for (const [vpc, identities] of [...perVpc].sort(([a], [b]) => a.localeCompare(b))) {
    if (identities.size < 2) continue;
    const list = [...identities].map(([identity, who]) => `${identity} (${[...new Set(who)].join(', ')})`).join('; ');
    out.push({
      ruleId: VPC_RULES.onePrivateDnsEndpoint.id,
      message: `VPC ${vpc} would have ${identities.size} execute-api endpoints with private DNS: ${list}. Private DNS is VPC-wide. ${VPC_RULES.onePrivateDnsEndpoint.help}`,
      subjects: [...identities.values()].flat().filter((k) => claimants.some((c) => c.key === k)),
      objects: [...identities.values()].flat().filter((k) => objects.some((e) => e.where === k)),
    });
  }
  return out;
}

/**
 * The operator's admission check for one CR, before it applies anything: undefined when it may
 * proceed, else why not. Among CRs the older one wins (the newer is refused, so a working API is
 * never stopped by a newcomer); an endpoint that already exists in the consumer namespace (xapi's
 * from another group, or one xapi does not own that ACK reports) always wins.
 */
export function admissionProblem(cr: EndpointClaimant, peers: readonly EndpointClaimant[], live: readonly EndpointObject[]): string | undefined {
  const mine = endpointIdentity(cr.spec);
  const plan = endpointPlan(cr.spec);
  const vpc = vpcKey(cr.spec.region, cr.spec.consumer.vpcId);
  const others = peers.filter((p) => p.key !== cr.key && older(p, cr));
  for (const p of others) {
    if (endpointIdentity(p.spec) === mine && endpointPlan(p.spec).privateDns !== plan.privateDns) {
      return `${VPC_RULES.groupPrivateDns.id}: ${mine} is already used by ${p.key} with consumer.endpoint.privateDns ${endpointPlan(p.spec).privateDns}; this CrossAccountApi asks for ${plan.privateDns}, and the endpoint has one setting`;
    }
  }
  if (!plan.privateDns) return undefined;
  const conflicts: string[] = [];
  for (const p of others) {
    if (!endpointPlan(p.spec).privateDns || vpcKey(p.spec.region, p.spec.consumer.vpcId) !== vpc) continue;
    const theirs = endpointIdentity(p.spec);
    if (theirs !== mine) conflicts.push(`${theirs} of ${p.key}`);
  }
  for (const o of live) {
    if (!o.privateDns || o.vpcId !== cr.spec.consumer.vpcId || (o.region && o.region !== cr.spec.region)) continue;
    if (!plan.managed && o.id === plan.id) continue; // the existing endpoint this CR names
    // xapi's own endpoint of this group: rendered in this consumer namespace for this VPC
    // (one group per consumer namespace and VPC: the account and region come with the namespace)
    if (plan.managed && (o.owner || o.xapi) && o.namespace === cr.spec.consumer.namespace) continue;
    if (o.owner && [cr, ...peers].some((p) => p.owner === o.owner && endpointIdentity(p.spec) === mine)) continue;
    conflicts.push(`VPCEndpoint ${o.where}${o.id ? ` (${o.id})` : ''}${o.owner || o.xapi ? '' : ', not xapi\'s'}`);
  }
  if (conflicts.length === 0) return undefined;
  return `${VPC_RULES.onePrivateDnsEndpoint.id}: VPC ${cr.spec.consumer.vpcId} (${cr.spec.region}) already has an execute-api endpoint with private DNS: ${[...new Set(conflicts)].join('; ')}. A second one would make *.execute-api names resolve to either endpoint. ${VPC_RULES.onePrivateDnsEndpoint.help}`;
}
