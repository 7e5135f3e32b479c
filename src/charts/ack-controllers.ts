// The ACK controllers xapi is written against, and the settings xapi recommends running them with.
// ACK re-reads AWS only at its resync, 10 hours by default (ACK community #3041): a resource
// policy or security group rule edited by hand in the account stays wrong that long. The kinds
// that carry one of the four layers resync every minute; the rest keep a longer period. The same
// settings become Helm values under manifests/ack-controllers/ (synth) and the flags the
// end-to-end tests and `xapi dev up --aws` start the controllers with, so what is tested is what
// ships. Pure data and formatting.

export const ACK_CONTROLLER_NAMES = ['ec2', 'apigateway', 'iam', 'lambda', 'cloudwatchlogs', 'cloudtrail'] as const;
export type AckControllerName = (typeof ACK_CONTROLLER_NAMES)[number];

/** Pinned tags (ACK.md); scripts/ack-controllers.sh and scripts/ack-crds.sh pin the same. */
export const ACK_CONTROLLER_TAGS: Readonly<Record<AckControllerName, string>> = {
  ec2: 'v1.20.0',
  apigateway: 'v1.8.1',
  iam: 'v1.8.1',
  lambda: 'v1.14.1',
  cloudwatchlogs: 'v1.4.1',
  cloudtrail: 'v1.3.2',
};

export interface ControllerSettings {
  /** `--reconcile-default-resync-seconds`, Helm `reconcile.defaultResyncPeriod`. */
  defaultResyncSeconds: number;
  /** `--reconcile-resource-resync-seconds KIND=N`, Helm `reconcile.resourceResyncPeriods`. */
  resourceResyncSeconds: Readonly<Record<string, number>>;
}

/** How long a hand edit of a layer may last in AWS before ACK writes the desired state back. */
export const LAYER_RESYNC_SECONDS = 60;
/** Everything else: drift there breaks no access control, so fewer AWS reads. */
export const OTHER_RESYNC_SECONDS = 1800;

export const RECOMMENDED_SETTINGS: Readonly<Record<AckControllerName, ControllerSettings>> = {
  // layer 1 (security group rules) and layer 2 (endpoint policy, its security groups)
  ec2: { defaultResyncSeconds: OTHER_RESYNC_SECONDS, resourceResyncSeconds: { SecurityGroup: LAYER_RESYNC_SECONDS, VPCEndpoint: LAYER_RESYNC_SECONDS } },
  // layer 3 (resource policy), layer 4 (authorizationType) and which deployment the stage serves
  apigateway: { defaultResyncSeconds: OTHER_RESYNC_SECONDS, resourceResyncSeconds: { RestAPI: LAYER_RESYNC_SECONDS, Method: LAYER_RESYNC_SECONDS, Stage: LAYER_RESYNC_SECONDS } },
  // layer 4 (the route ARNs in the caller role's inline policy)
  iam: { defaultResyncSeconds: OTHER_RESYNC_SECONDS, resourceResyncSeconds: { Role: LAYER_RESYNC_SECONDS } },
  // the caller's security group and role
  lambda: { defaultResyncSeconds: OTHER_RESYNC_SECONDS, resourceResyncSeconds: { Function: 300 } },
  // the audit trail (log groups, CloudTrail Lake): not one of the layers
  cloudwatchlogs: { defaultResyncSeconds: OTHER_RESYNC_SECONDS, resourceResyncSeconds: {} },
  cloudtrail: { defaultResyncSeconds: OTHER_RESYNC_SECONDS, resourceResyncSeconds: {} },
};

/** The controller flags for these settings (what the Helm chart turns its values into). */
export function controllerFlags(name: AckControllerName, settings: ControllerSettings = RECOMMENDED_SETTINGS[name]): string[] {
  const flags = [`--reconcile-default-resync-seconds=${settings.defaultResyncSeconds}`];
  for (const [kind, seconds] of Object.entries(settings.resourceResyncSeconds).sort(([x], [y]) => x.localeCompare(y))) {
    flags.push(`--reconcile-resource-resync-seconds=${kind}=${seconds}`);
  }
  return flags;
}

/** Helm values for the controller's chart (`<name>-chart` from public.ecr.aws/aws-controllers-k8s). */
export function helmValues(name: AckControllerName, settings: ControllerSettings = RECOMMENDED_SETTINGS[name]): { reconcile: { defaultResyncPeriod: number; resourceResyncPeriods: Record<string, number> } } {
  const periods: Record<string, number> = {};
  for (const kind of Object.keys(settings.resourceResyncSeconds).sort()) periods[kind] = settings.resourceResyncSeconds[kind]!;
  return { reconcile: { defaultResyncPeriod: settings.defaultResyncSeconds, resourceResyncPeriods: periods } };
}

/** The resync period that applies to one kind. */
export function resyncSeconds(name: AckControllerName, kind: string, settings: ControllerSettings = RECOMMENDED_SETTINGS[name]): number {
  return settings.resourceResyncSeconds[kind] ?? settings.defaultResyncSeconds;
}
