// IDs AWS assigned, read from the live ACK objects' status, keyed by the names objectNames gives.

import { ACK } from '../api/ack.js';
import type { CrossAccountApi, ObservedIds } from '../api/types.js';
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
  const set = <K extends keyof Observed['ids']>(key: K, value: string | undefined) => {
    if (value) ids[key] = value;
  };
  set('callerSecurityGroupId', str(callerSg?.id));
  set('endpointSecurityGroupId', str(endpointSg?.id));
  set('restApiId', str(api?.id));
  set('rootResourceId', str(api?.rootResourceID));
  const meta = role?.ackResourceMetadata as { arn?: unknown } | undefined;
  set('roleArn', str(meta?.arn));

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
