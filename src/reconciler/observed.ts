// IDs AWS assigned, read from the live ACK objects' status, keyed by the names objectNames gives.

import { ACK } from '../api/ack.js';
import { ROUTE_ANNOTATION, type CrossAccountApi, type ObservedIds } from '../api/types.js';
import { objectNames } from '../charts/names.js';

export interface LiveObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string };
  status?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface Observed {
  ids: Omit<ObservedIds, 'allowedEndpointIds'>;
  endpoint: { id?: string; state?: string; dnsNames?: string[] };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Created in AWS: ACK wrote the owner account into its metadata, or reports Ready. */
function existsInAws(o: LiveObject): boolean {
  const meta = o.status?.ackResourceMetadata as { ownerAccountID?: unknown } | undefined;
  if (str(meta?.ownerAccountID)) return true;
  const conditions = o.status?.conditions as Array<{ type?: string; status?: string }> | undefined;
  return !!conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

function find(objects: readonly LiveObject[], kind: string, name: string): LiveObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata?.name === name);
}

export function observedIds(cr: CrossAccountApi, consumer: readonly LiveObject[], provider: readonly LiveObject[]): Observed {
  const names = objectNames(cr);
  const callerSg = find(consumer, ACK.SecurityGroup.kind, names.callerSecurityGroup)?.status;
  const endpointSg = find(consumer, ACK.SecurityGroup.kind, names.endpointSecurityGroup)?.status;
  const vpce = find(consumer, ACK.VPCEndpoint.kind, names.vpcEndpoint)?.status;
  const role = find(consumer, ACK.Role.kind, names.role)?.status;
  const api = find(provider, ACK.RestAPI.kind, names.restApi)?.status;

  const ids: Observed['ids'] = {};
  type StringKey = 'callerSecurityGroupId' | 'endpointSecurityGroupId' | 'restApiId' | 'rootResourceId' | 'roleArn';
  const set = (key: StringKey, value: string | undefined) => {
    if (value) ids[key] = value;
  };
  set('callerSecurityGroupId', str(callerSg?.id));
  set('endpointSecurityGroupId', str(endpointSg?.id));
  set('restApiId', str(api?.id));
  set('rootResourceId', str(api?.rootResourceID));
  const meta = role?.ackResourceMetadata as { arn?: unknown } | undefined;
  set('roleArn', str(meta?.arn));

  // Which routes' Methods and Integrations exist in AWS: ACK records the owner account once it
  // has created the resource (Ready may never come: ACK community #2926 keeps MOCK integrations
  // from syncing after they are created).
  const createdRoutes = (kind: string) =>
    provider
      .filter((o) => o.kind === kind && existsInAws(o))
      .map((o) => (o.metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.[ROUTE_ANNOTATION])
      .filter((r): r is string => !!r)
      .sort();
  ids.createdMethods = createdRoutes(ACK.Method.kind);
  ids.createdIntegrations = createdRoutes(ACK.Integration.kind);

  const endpoint: Observed['endpoint'] = {};
  const id = str(vpce?.vpcEndpointID);
  if (id) endpoint.id = id;
  const state = str(vpce?.state);
  if (state) endpoint.state = state;
  const dns = Array.isArray(vpce?.dnsEntries)
    ? (vpce.dnsEntries as Array<{ dnsName?: unknown }>).map((e) => str(e?.dnsName)).filter((d): d is string => !!d)
    : [];
  if (dns.length > 0) endpoint.dnsNames = dns;
  return { ids, endpoint };
}
