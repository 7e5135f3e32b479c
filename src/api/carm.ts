// Before the operator applies a side's ACK objects into a namespace, the namespace's CARM
// annotations must name that side's account and region: ACK creates the objects in whatever
// account the namespace maps to, so a conflict would create them in the wrong account.
import { ACK_ANNOTATION } from './ack.js';

/**
 * Why `namespace` must not receive objects for `accountId`/`region`, or undefined when it may.
 * A namespace without the annotations is free (the operator annotates it); one with another
 * account or region belongs to something else.
 */
export function carmConflict(
  namespace: { name: string; annotations?: Record<string, string> | undefined },
  accountId: string,
  region: string,
): string | undefined {
  const owner = namespace.annotations?.[ACK_ANNOTATION.ownerAccountId];
  const defaultRegion = namespace.annotations?.[ACK_ANNOTATION.defaultRegion];
  const problems: string[] = [];
  if (owner !== undefined && owner !== accountId) problems.push(`${ACK_ANNOTATION.ownerAccountId}=${owner}, not ${accountId}`);
  if (defaultRegion !== undefined && defaultRegion !== region) problems.push(`${ACK_ANNOTATION.defaultRegion}=${defaultRegion}, not ${region}`);
  if (problems.length === 0) return undefined;
  return `namespace ${namespace.name} is annotated ${problems.join(' and ')}: ACK would create this side's objects in another account or region; use a namespace of its own, or fix the annotation if it is wrong`;
}
