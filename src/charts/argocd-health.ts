// Health checks Argo CD lacks for the kinds xapi syncs, as Lua (Argo CD's resource.customizations
// language): `obj` is the live object, the script returns {status, message}. Argo CD v3.5 ships no
// check for CrossAccountApi or the ACK kinds (they would count as Healthy at once, so sync waves
// would not wait for AWS), nor one for Application (so an app of apps would not wait for a child).
import { ACK, type AckKindName } from '../api/ack.js';
import { GROUP, KIND } from '../api/types.js';

/** The argocd-cm key of a kind's health check. */
export const healthKey = (group: string, kind: string) => `resource.customizations.health.${group}_${kind}`;

// A condition lookup used by every script below.
const CONDITION_FN = `local function condition(t)
  if obj.status == nil or obj.status.conditions == nil then return nil end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == t then return c end
  end
  return nil
end
`;

/**
 * CrossAccountApi: Healthy exactly when the operator reports Ready for the current generation;
 * Degraded when it reports Degraded or a spec it rejects; Progressing otherwise.
 */
export const CROSS_ACCOUNT_API_HEALTH = `${CONDITION_FN}hs = { status = "Progressing", message = "waiting for the xapi operator" }
if obj.metadata.deletionTimestamp ~= nil then
  hs.message = "deleting its ACK objects"
  return hs
end
if obj.status == nil then return hs end
if obj.status.observedGeneration ~= nil and obj.metadata.generation ~= nil and obj.status.observedGeneration < obj.metadata.generation then
  hs.message = "the operator has not seen this generation yet"
  return hs
end
local ready = condition("Ready")
local degraded = condition("Degraded")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = "Ready, layers " .. tostring(obj.status.layers)
elseif degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = degraded.message or degraded.reason or "Degraded"
elseif ready ~= nil and ready.reason == "InvalidSpec" then
  hs.status = "Degraded"
  hs.message = ready.message or "InvalidSpec"
elseif ready ~= nil and ready.message ~= nil then
  hs.message = ready.message
end
return hs
`;

/**
 * An ACK object: Degraded on ACK.Terminal (ACK does not retry), Healthy on Ready (or
 * ACK.ResourceSynced where Ready is absent), Progressing otherwise (ACK.Recoverable retries).
 * `created`: Healthy already once AWS holds the object (ackResourceMetadata.ownerAccountID with no
 * ACK.Recoverable error standing: ACK writes the owner account on a failed create too) — for
 * the API Gateway pieces the next wave needs to exist, not to be in sync (docs/charts.md: a MOCK
 * Integration never reports synced, aws-controllers-k8s/community#2926).
 */
export function ackHealth(created: boolean): string {
  return `${CONDITION_FN}hs = { status = "Progressing", message = "waiting for ACK" }
if obj.metadata.deletionTimestamp ~= nil then
  hs.message = "ACK is deleting it in AWS"
end
local terminal = condition("ACK.Terminal")
if terminal ~= nil and terminal.status == "True" then
  hs.status = "Degraded"
  hs.message = terminal.message or "ACK.Terminal"
  return hs
end
if obj.metadata.deletionTimestamp ~= nil then return hs end
local ready = condition("Ready")
if ready == nil then ready = condition("ACK.ResourceSynced") end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = "in sync with AWS"
  return hs
end
local recoverable = condition("ACK.Recoverable")
if recoverable ~= nil and recoverable.status == "True" then
  hs.message = recoverable.message or "ACK.Recoverable"
  return hs
end
${
  created
    ? `if obj.status ~= nil and obj.status.ackResourceMetadata ~= nil and obj.status.ackResourceMetadata.ownerAccountID ~= nil then
  hs.status = "Healthy"
  hs.message = "created in AWS"
  return hs
end
`
    : ''
}if ready ~= nil and ready.message ~= nil then
  hs.message = ready.message
end
return hs
`;
}

/**
 * A child Application of the app of apps: Healthy once its last sync succeeded, it is Synced and
 * its resources are Healthy, so the parent's next sync wave starts only then.
 */
export const APPLICATION_HEALTH = `hs = { status = "Progressing", message = "waiting for the first sync" }
if obj.status == nil then return hs end
local op = obj.status.operationState
if op ~= nil and (op.phase == "Failed" or op.phase == "Error") then
  hs.status = "Degraded"
  hs.message = op.message or op.phase
  return hs
end
if obj.status.sync == nil or obj.status.sync.status ~= "Synced" then
  hs.message = "not synced yet"
  return hs
end
if op ~= nil and op.phase ~= "Succeeded" then
  hs.message = "sync " .. tostring(op.phase)
  return hs
end
if obj.status.health ~= nil and obj.status.health.status ~= nil then
  hs.status = obj.status.health.status
  hs.message = obj.status.health.message or ""
  if hs.status == "Missing" or hs.status == "Unknown" then hs.status = "Progressing" end
end
return hs
`;

/** The API Gateway kinds whose next wave only needs them to exist in AWS. */
const CREATED_IS_ENOUGH: readonly AckKindName[] = ['Resource', 'Method', 'Integration', 'Deployment'];

/** Every argocd-cm health key xapi needs, key → Lua. */
export function healthChecks(): Record<string, string> {
  const out: Record<string, string> = {
    [healthKey(GROUP, KIND)]: CROSS_ACCOUNT_API_HEALTH,
    [healthKey('argoproj.io', 'Application')]: APPLICATION_HEALTH,
  };
  for (const name of Object.keys(ACK) as AckKindName[]) {
    out[healthKey(ACK[name].group, ACK[name].kind)] = ackHealth(CREATED_IS_ENOUGH.includes(name));
  }
  return out;
}
