// IDs AWS assigned, read from the live ACK objects' status, keyed by the names objectNames gives.

import { isDeepStrictEqual } from 'node:util';
import type { AckKindName } from '../api/ack.js';
import { ackObject, type AckObject } from '../api/ack-wire.js';
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

/**
 * Created in AWS: ACK reports Ready, or it wrote the owner account with no error standing. The
 * owner account alone is not enough: the generated controllers fill `ackResourceMetadata` on
 * error as well as on success (their updateConditions, called by onError and onSuccess, runs
 * setStatusDefaults), so a create AWS refused carries it too, with ACK.Recoverable or ACK.Terminal True.
 */
function existsInAws(o: AckObject<AckKindName>): boolean {
  const conditions = o.status.conditions ?? [];
  const isTrue = (type: string) => conditions.some((c) => c?.type === type && c.status === 'True');
  if (isTrue('Ready')) return true;
  if (isTrue('ACK.Terminal') || isTrue('ACK.Recoverable')) return false;
  return !!str(o.status.ackResourceMetadata?.ownerAccountID);
}

function find<K extends AckKindName>(objects: readonly LiveObject[], kind: K, name: string): AckObject<K> | undefined {
  for (const o of objects) {
    const view = ackObject(o, kind);
    if (view && view.metadata.name === name) return view;
  }
  return undefined;
}

export function observedIds(cr: CrossAccountApi, consumer: readonly LiveObject[], provider: readonly LiveObject[]): Observed {
  const names = objectNames(cr);
  const callerSg = find(consumer, 'SecurityGroup', names.callerSecurityGroup)?.status;
  const endpointSg = find(consumer, 'SecurityGroup', names.endpointSecurityGroup)?.status;
  const vpce = find(consumer, 'VPCEndpoint', names.vpcEndpoint)?.status;
  const role = find(consumer, 'Role', names.role)?.status;
  const api = find(provider, 'RestAPI', names.restApi)?.status;

  const ids: Observed['ids'] = {};
  type StringKey = 'callerSecurityGroupId' | 'endpointSecurityGroupId' | 'restApiId' | 'rootResourceId' | 'roleArn';
  const set = (key: StringKey, value: string | undefined) => {
    if (value) ids[key] = value;
  };
  set('callerSecurityGroupId', str(callerSg?.id));
  set('endpointSecurityGroupId', str(endpointSg?.id));
  set('restApiId', str(api?.id));
  set('rootResourceId', str(api?.rootResourceID));
  set('roleArn', str(role?.ackResourceMetadata?.arn));

  // Which routes' Methods and Integrations exist in AWS: ACK records the owner account once it
  // has created the resource (Ready may never come: ACK community #2926 keeps MOCK integrations
  // from syncing after they are created).
  const createdRoutes = (kind: 'Method' | 'Integration') =>
    provider
      .map((o) => ackObject(o, kind))
      .filter((o): o is AckObject<typeof kind> => !!o && existsInAws(o))
      .map((o) => o.metadata.annotations?.[ROUTE_ANNOTATION])
      .filter((r): r is string => !!r)
      .sort();
  // The endpoint's network interfaces, for its flow logs (sorted: a reorder is not a change).
  const enis = Array.isArray(vpce?.networkInterfaceIDs) ? vpce.networkInterfaceIDs.map(str).filter((e): e is string => !!e).sort() : [];
  if (enis.length > 0) ids.endpointNetworkInterfaceIds = enis;
  ids.createdMethods = createdRoutes('Method');
  ids.createdIntegrations = createdRoutes('Integration');

  const endpoint: Observed['endpoint'] = {};
  const id = str(vpce?.vpcEndpointID);
  if (id) endpoint.id = id;
  const state = str(vpce?.state);
  if (state) endpoint.state = state;
  const dns = Array.isArray(vpce?.dnsEntries) ? vpce.dnsEntries.map((e) => str(e?.dnsName)).filter((d): d is string => !!d) : [];
  if (dns.length > 0) endpoint.dnsNames = dns;
  return { ids, endpoint };
}

/**
 * Whether the answer to one of the operator's own writes shows a status it had not seen: ACK
 * wrote it between the cached version and this write, and the watch event that carried it is
 * dropped as an echo. The owner's pass reads status (IDs, conditions), so it must run again.
 * The operator's own writes never change status, so in the ordinary case this is false.
 */
export function statusMovedUnseen(answer: LiveObject, cached: LiveObject | undefined): boolean {
  if (!cached) return false; // a create: nothing was cached, and a new object has no status yet
  return !isDeepStrictEqual(answer.status ?? {}, cached.status ?? {});
}
