// Rotation of the VPC endpoint ID through the provider's resource policy. Pure: previous allowed
// set (from status) + observed endpoint + now + grace → next allowed set and next wake-up.

import type { AllowedEndpoint } from '../api/types.js';

export interface ObservedEndpoint {
  id?: string;
  state?: string;
}

export interface RotationResult {
  allowed: AllowedEndpoint[];
  /** When the reconciler must look again (earliest `until` still in the future), if any. */
  wakeAt?: Date;
}

const AVAILABLE = 'available';

export function isAvailable(state: string | undefined): boolean {
  return (state ?? '').toLowerCase() === AVAILABLE;
}

/**
 * A new ID joins at once. Old IDs stay while the new endpoint is not yet available; once it is,
 * each old ID gets `until = now + grace` and is dropped when that time has passed. With no
 * current endpoint observed, the previous set is kept unchanged (never drop to nothing).
 */
export function rotate(previous: readonly AllowedEndpoint[] | undefined, endpoint: ObservedEndpoint, now: Date, graceSeconds: number): RotationResult {
  const prior = (previous ?? []).filter((e) => typeof e.id === 'string' && e.id.length > 0);
  const current = endpoint.id;
  if (!current) return withWake(prior.map((e) => ({ ...e })), now);

  const allowed: AllowedEndpoint[] = [{ id: current }];
  const ready = isAvailable(endpoint.state);
  for (const old of prior) {
    if (old.id === current || allowed.some((e) => e.id === old.id)) continue;
    if (!ready) {
      // The new endpoint cannot carry traffic yet: the old one stays, with no clock running.
      allowed.push({ id: old.id });
      continue;
    }
    const until = old.until ? new Date(old.until) : new Date(now.getTime() + graceSeconds * 1000);
    if (Number.isNaN(until.getTime())) {
      allowed.push({ id: old.id, until: new Date(now.getTime() + graceSeconds * 1000).toISOString() });
    } else if (until.getTime() > now.getTime()) {
      allowed.push({ id: old.id, until: until.toISOString() });
    }
  }
  return withWake(allowed, now);
}

function withWake(allowed: AllowedEndpoint[], now: Date): RotationResult {
  let wake: number | undefined;
  for (const e of allowed) {
    if (!e.until) continue;
    const t = new Date(e.until).getTime();
    if (t > now.getTime() && (wake === undefined || t < wake)) wake = t;
  }
  return wake === undefined ? { allowed } : { allowed, wakeAt: new Date(wake) };
}

export function allowedIds(allowed: readonly AllowedEndpoint[]): string[] {
  return allowed.map((e) => e.id);
}
