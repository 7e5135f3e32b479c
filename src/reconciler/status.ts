// Status of a CrossAccountApi from the live ACK objects: one condition per layer, Ready, Degraded,
// "N/4" layers. Pure; lastTransitionTime is kept while a condition's status does not change, so
// an unchanged world yields an identical status and no write.

import { ACK, ACK_ANNOTATION, ACK_CONDITION, CONSUMER_KINDS, type AckKindName } from '../api/ack.js';
import { CONDITION, type AllowedEndpoint, type Condition, type CrossAccountApi, type CrossAccountApiStatus } from '../api/types.js';
import type { LiveObject } from './observed.js';

export type LayerCondition = typeof CONDITION.SecurityGroupsReady | typeof CONDITION.EndpointPolicyReady | typeof CONDITION.ResourcePolicyReady | typeof CONDITION.IamAuthReady;

/** Which layer each ACK kind belongs to (the audit trail's kinds: AuditReady, not a layer). */
export const LAYER_OF_KIND: Record<AckKindName, LayerCondition | typeof CONDITION.AuditReady> = {
  SecurityGroup: CONDITION.SecurityGroupsReady,
  VPCEndpoint: CONDITION.EndpointPolicyReady,
  RestAPI: CONDITION.ResourcePolicyReady,
  Deployment: CONDITION.ResourcePolicyReady,
  Stage: CONDITION.ResourcePolicyReady,
  Role: CONDITION.IamAuthReady,
  Function: CONDITION.IamAuthReady,
  Resource: CONDITION.IamAuthReady,
  Method: CONDITION.IamAuthReady,
  Integration: CONDITION.IamAuthReady,
  FlowLog: CONDITION.AuditReady,
  LogGroup: CONDITION.AuditReady,
  EventDataStore: CONDITION.AuditReady,
};

export const LAYERS: readonly LayerCondition[] = [CONDITION.SecurityGroupsReady, CONDITION.EndpointPolicyReady, CONDITION.ResourcePolicyReady, CONDITION.IamAuthReady];

export interface ObjectState {
  ready: boolean;
  terminal: boolean;
  reason: string;
  message: string;
}

interface AckCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

export function objectState(obj: LiveObject): ObjectState {
  const conds = (Array.isArray((obj.status as { conditions?: unknown } | undefined)?.conditions) ? (obj.status as { conditions: AckCondition[] }).conditions : []) as AckCondition[];
  const get = (type: string) => conds.find((c) => c?.type === type);
  const label = `${obj.kind}/${obj.metadata?.name}`;
  const terminal = get(ACK_CONDITION.Terminal);
  if (terminal?.status === 'True') {
    return { ready: false, terminal: true, reason: 'Terminal', message: `${label}: ${terminal.message || terminal.reason || 'ACK.Terminal'}` };
  }
  const ready = get(ACK_CONDITION.Ready);
  if (ready?.status === 'True') return { ready: true, terminal: false, reason: 'Ready', message: `${label} is ready` };
  const why = ready?.message || ready?.reason || get(ACK_CONDITION.Recoverable)?.message || 'waiting for ACK to report Ready';
  return { ready: false, terminal: false, reason: 'Pending', message: `${label}: ${why}` };
}

export interface Expected {
  kind: AckKindName;
  name: string;
  /** Which side rendered it (a LogGroup is on both); default: by kind. */
  side?: 'consumer' | 'provider';
  /** The audit part it belongs to (its xapi.dev/audit annotation): reported in AuditReady only. */
  audit?: string;
}

/** What AuditReady needs besides the audit objects' states. */
export interface AuditStatusInput {
  enabled: { flowLogs: boolean; accessLogs: boolean; cloudTrail: boolean };
  /** The render holds the flow logs (the endpoint's network interface IDs are known). */
  flowLogsRendered: boolean;
  accessLog?: {
    /** The log group ARN the stage's accessLogSettings should name. */
    destinationArn: string;
    /** What the live Stage's status reports, if it exists. */
    stageExists: boolean;
    stageDestinationArn?: string;
    /** The call that sets them (ACK cannot), once the API ID is known. */
    command?: string;
  };
}

export interface StatusInput {
  cr: CrossAccountApi;
  /** Objects the render produced, by kind and name. */
  expected: readonly Expected[];
  /** Live objects from both clusters. */
  live: readonly LiveObject[];
  endpoint: { id?: string; state?: string; dnsNames?: string[]; name?: string; sharedBy?: number };
  /** Set when the (shared) endpoint's live policy does not grant this API: layer 2 is not in place. */
  endpointPolicyMissing?: string;
  allowed: AllowedEndpoint[];
  api?: { id?: string; stage?: string; invokeUrl?: string };
  securityGroups?: { callerId?: string; endpointId?: string };
  /**
   * False when the render left objects out because ACK has not reported an ID yet: then what is
   * expected is not everything, and Ready cannot be claimed (default true).
   */
  renderComplete?: boolean;
  /** The audit trail; absent: no AuditReady condition. */
  audit?: AuditStatusInput;
  /**
   * Layers xapi does not manage (an existing endpoint): the verdict for a layer with no rendered
   * objects, and a limit on one whose objects are ready.
   */
  unmanaged?: Partial<Record<LayerCondition, { ok: boolean; reason: string; message: string }>>;
  /** Problems reaching a cluster or applying objects; non-empty → Degraded. */
  problems: Array<{ reason: string; message: string }>;
  now: Date;
}

function cond(type: string, ok: boolean, reason: string, message: string, generation: number | undefined, now: Date): Condition {
  const c: Condition = { type, status: ok ? 'True' : 'False', reason, message, lastTransitionTime: now.toISOString() };
  if (generation !== undefined) c.observedGeneration = generation;
  return c;
}

/** Keep the old lastTransitionTime for conditions whose status did not change. */
export function mergeConditions(previous: readonly Condition[] | undefined, next: Condition[]): Condition[] {
  return next.map((c) => {
    const old = previous?.find((p) => p.type === c.type);
    return old && old.status === c.status ? { ...c, lastTransitionTime: old.lastTransitionTime } : c;
  });
}

export function computeStatus(input: StatusInput): CrossAccountApiStatus {
  const { cr, now } = input;
  const gen = cr.metadata.generation;
  const byLayer = new Map<LayerCondition, ObjectState[]>(LAYERS.map((l) => [l, []]));
  let terminal: ObjectState | undefined;
  const auditStates: ObjectState[] = [];
  for (const e of input.expected) {
    const obj = input.live.find((o) => o.kind === ACK[e.kind].kind && o.metadata?.name === e.name);
    let state: ObjectState = obj ? objectState(obj) : { ready: false, terminal: false, reason: 'Pending', message: `${ACK[e.kind].kind}/${e.name} not created yet` };
    // The account ACK acted in must be the side's: a wrong CARM mapping would build the
    // architecture in the wrong account, with every policy ARN pointing elsewhere.
    const consumerSide = e.side ? e.side === 'consumer' : CONSUMER_KINDS.includes(e.kind);
    const want = consumerSide ? cr.spec.consumer?.accountId : cr.spec.provider?.accountId;
    const got = (obj?.status?.ackResourceMetadata as { ownerAccountID?: unknown } | undefined)?.ownerAccountID;
    if (want && typeof got === 'string' && got !== '' && got !== want) {
      state = {
        ready: false,
        terminal: true,
        reason: 'WrongAccount',
        message: `${ACK[e.kind].kind}/${e.name} was created in AWS account ${got}, not ${want}: check the namespace's ${ACK_ANNOTATION.ownerAccountId} annotation and ACK's ack-role-account-map`,
      };
    }
    const layer = LAYER_OF_KIND[e.kind];
    if (e.audit || layer === CONDITION.AuditReady) {
      auditStates.push(state); // the trail never decides Ready or Degraded
      continue;
    }
    if (state.terminal && !terminal) terminal = state;
    byLayer.get(layer)!.push(state);
  }
  const conditions: Condition[] = [];
  let readyLayers = 0;
  for (const layer of LAYERS) {
    const states = byLayer.get(layer)!;
    const bad = states.find((s) => s.terminal) ?? states.find((s) => !s.ready);
    let ok = states.length > 0 && !bad;
    let reason = states.length === 0 ? 'NotRendered' : (bad?.reason ?? 'Ready');
    let message = states.length === 0 ? 'no objects rendered for this layer yet' : (bad?.message ?? `${states.length} object(s) ready`);
    const outside = input.unmanaged?.[layer];
    if (outside && states.length === 0) {
      ok = outside.ok;
      reason = outside.reason;
      message = outside.message;
    } else if (outside && ok) {
      ok = outside.ok;
      reason = outside.ok ? reason : outside.reason;
      message = `${message}; ${outside.message}`;
    }
    if (ok && layer === CONDITION.ResourcePolicyReady && input.endpoint.id && !input.allowed.some((a) => a.id === input.endpoint.id)) {
      ok = false;
      reason = 'EndpointNotAllowed';
      message = `endpoint ${input.endpoint.id} is not yet in the resource policy`;
    }
    if (ok && layer === CONDITION.EndpointPolicyReady && input.endpointPolicyMissing) {
      ok = false;
      reason = 'NotInEndpointPolicy';
      message = input.endpointPolicyMissing;
    }
    if (ok) readyLayers++;
    conditions.push(cond(layer, ok, reason, message, gen, now));
  }
  const problem = input.problems[0];
  const allReady = readyLayers === LAYERS.length && !problem && input.renderComplete !== false;
  const notReady = conditions.find((c) => c.status !== 'True');
  const pendingMessage = notReady ? `${notReady.type}: ${notReady.message}` : 'objects that need an ID ACK has not reported yet are not rendered yet';
  conditions.unshift(
    cond(
      CONDITION.Ready,
      allReady,
      allReady ? 'Ready' : problem ? problem.reason : terminal ? terminal.reason : (notReady?.reason ?? 'Pending'),
      allReady ? 'all four layers are in place' : problem ? problem.message : terminal ? terminal.message : pendingMessage,
      gen,
      now,
    ),
  );
  if (input.audit) {
    const a = auditCondition(input.audit, auditStates);
    conditions.push(cond(CONDITION.AuditReady, a.ok, a.reason, a.message, gen, now));
  }
  const degraded = problem ?? (terminal ? { reason: terminal.reason, message: terminal.message } : undefined);
  conditions.push(cond(CONDITION.Degraded, !!degraded, degraded?.reason ?? 'AsExpected', degraded?.message ?? 'no problems', gen, now));

  const status: CrossAccountApiStatus = {
    conditions: mergeConditions(cr.status?.conditions, conditions),
    allowedEndpoints: input.allowed,
    layers: `${readyLayers}/${LAYERS.length}`,
  };
  if (gen !== undefined) status.observedGeneration = gen;
  if (Object.keys(input.endpoint).length > 0) status.endpoint = input.endpoint;
  if (input.api && Object.keys(input.api).length > 0) status.api = input.api;
  if (input.securityGroups && Object.keys(input.securityGroups).length > 0) status.securityGroups = input.securityGroups;
  return status;
}

/** AuditReady: every enabled part's objects Ready, the flow logs on the ENIs, the access log settings on the stage. */
export function auditCondition(audit: AuditStatusInput, states: readonly ObjectState[]): { ok: boolean; reason: string; message: string } {
  const { enabled } = audit;
  if (!enabled.flowLogs && !enabled.accessLogs && !enabled.cloudTrail) {
    return { ok: false, reason: 'Disabled', message: 'spec.audit switches every part off: no flow logs, access logs or CloudTrail record' };
  }
  const bad = states.find((s) => s.terminal) ?? states.find((s) => !s.ready);
  if (bad) return { ok: false, reason: bad.reason, message: bad.message };
  if (enabled.flowLogs && !audit.flowLogsRendered) {
    return { ok: false, reason: 'WaitingForNetworkInterfaces', message: "the flow logs wait for the VPCEndpoint's status.networkInterfaceIDs" };
  }
  const access = audit.accessLog;
  if (enabled.accessLogs && access) {
    if (!access.stageExists) return { ok: false, reason: 'Pending', message: 'the access log settings wait for the Stage' };
    if (access.stageDestinationArn !== access.destinationArn) {
      const now = access.stageDestinationArn ? `they name ${access.stageDestinationArn}` : 'it has none';
      return {
        ok: false,
        reason: 'AccessLogsNotOnStage',
        message: `the Stage's access logs must go to ${access.destinationArn} but ${now}; ACK's apigateway controller cannot set them: ${access.command ?? 'run aws apigateway update-stage once the API ID is known (docs/audit.md)'}`,
      };
    }
  }
  const parts = [enabled.flowLogs && 'flow logs', enabled.accessLogs && 'access logs', enabled.cloudTrail && 'CloudTrail event data store'].filter(Boolean);
  const off = [!enabled.flowLogs && 'flow logs', !enabled.accessLogs && 'access logs', !enabled.cloudTrail && 'CloudTrail'].filter(Boolean);
  return { ok: true, reason: 'Ready', message: `${parts.join(', ')} in place${off.length ? `; switched off: ${off.join(', ')}` : ''}` };
}

/** Status for a spec that failed validation: Ready=False InvalidSpec, nothing else claimed. */
export function invalidSpecStatus(cr: CrossAccountApi, message: string, now: Date): CrossAccountApiStatus {
  const gen = cr.metadata.generation;
  const conditions = [cond(CONDITION.Ready, false, 'InvalidSpec', message, gen, now), cond(CONDITION.Degraded, true, 'InvalidSpec', message, gen, now)];
  const status: CrossAccountApiStatus = { ...(cr.status ?? {}), conditions: mergeConditions(cr.status?.conditions, conditions), layers: '0/4' };
  if (gen !== undefined) status.observedGeneration = gen;
  return status;
}

/** Status for a CR that may not be applied as it stands (e.g. EndpointConflict): Ready=False, Degraded=True, nothing applied. */
export function refusedStatus(cr: CrossAccountApi, reason: string, message: string, now: Date): CrossAccountApiStatus {
  const gen = cr.metadata.generation;
  const conditions = [cond(CONDITION.Ready, false, reason, message, gen, now), cond(CONDITION.Degraded, true, reason, message, gen, now)];
  const kept = (cr.status?.conditions ?? []).filter((c) => c.type !== CONDITION.Ready && c.type !== CONDITION.Degraded);
  const status: CrossAccountApiStatus = { ...(cr.status ?? {}), conditions: [...mergeConditions(cr.status?.conditions, conditions), ...kept] };
  if (gen !== undefined) status.observedGeneration = gen;
  return status;
}

/** Deep equality on JSON values, key order ignored; decides whether status needs a write. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => jsonEqual(ao[k], bo[k]));
}

export function statusChanged(previous: CrossAccountApiStatus | undefined, next: CrossAccountApiStatus): boolean {
  return !jsonEqual(previous ?? {}, next);
}

/** The condition whose status flipped between two statuses (for Events). */
export function transitions(previous: CrossAccountApiStatus | undefined, next: CrossAccountApiStatus): Condition[] {
  return (next.conditions ?? []).filter((c) => previous?.conditions?.find((p) => p.type === c.type)?.status !== c.status);
}

/**
 * The Ready/Degraded flips worth an Event. A CR's first status (Ready=False Pending,
 * Degraded=False) says nothing a user did not expect; at 1,000 CRs those two Events were 2,000
 * writes of no use. A first status that is a problem (or already Ready) is still reported.
 */
export function eventTransitions(previous: CrossAccountApiStatus | undefined, next: CrossAccountApiStatus): Condition[] {
  return transitions(previous, next).filter((c) => {
    if (c.type !== CONDITION.Ready && c.type !== CONDITION.Degraded) return false;
    if (previous?.conditions?.some((p) => p.type === c.type)) return true;
    const quietStart = c.type === CONDITION.Ready ? c.status === 'False' && c.reason === 'Pending' : c.status === 'False';
    return !quietStart;
  });
}

/**
 * While the CR is being deleted: Ready=False (reason `Deleting`, or `DeletionBlocked` when a
 * cluster cannot be reached), and Degraded=True when something stops the deletion.
 */
export function deletionStatus(cr: CrossAccountApi, d: { reason: 'Deleting' | 'DeletionBlocked'; message: string; degraded?: string }, now: Date): CrossAccountApiStatus {
  const previous = cr.status?.conditions ?? [];
  const at = now.toISOString();
  const gen = cr.metadata.generation;
  const set = (type: string, status: Condition['status'], reason: string, message: string): Condition => ({
    type,
    status,
    reason,
    message,
    lastTransitionTime: at,
    ...(gen !== undefined && { observedGeneration: gen }),
  });
  const replaced = [
    set(CONDITION.Ready, 'False', d.reason, d.message),
    d.degraded ? set(CONDITION.Degraded, 'True', d.reason, d.degraded) : set(CONDITION.Degraded, 'False', d.reason, 'nothing stops the deletion'),
  ];
  const others = previous.filter((c) => c.type !== CONDITION.Ready && c.type !== CONDITION.Degraded);
  return { ...(cr.status ?? {}), conditions: mergeConditions(previous, [...replaced, ...others]) };
}
