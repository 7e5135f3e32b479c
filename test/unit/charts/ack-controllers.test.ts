// The ACK controller settings xapi ships: the Helm values under manifests/ack-controllers/ and the
// flags the e2e tests run the controllers with must say the same thing, and every kind that holds
// one of the four layers must resync within a minute (ACK's default is 10 hours).
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ACK_CONTROLLER_NAMES, ACK_CONTROLLER_TAGS, LAYER_RESYNC_SECONDS, RECOMMENDED_SETTINGS, controllerFlags, resyncSeconds } from '../../../src/charts/ack-controllers.js';

const root = new URL('../../../', import.meta.url).pathname;

describe('recommended ACK controller settings', () => {
  it.each(ACK_CONTROLLER_NAMES)('manifests/ack-controllers/%s-controller.values.yaml states the flags the tests run with', (name) => {
    const text = readFileSync(`${root}manifests/ack-controllers/${name}-controller.values.yaml`, 'utf8');
    const values = parse(text) as { reconcile: { defaultResyncPeriod: number; resourceResyncPeriods: Record<string, number> } };
    // the values, turned into flags as the chart does, are exactly the flags
    const fromValues = [
      `--reconcile-default-resync-seconds=${values.reconcile.defaultResyncPeriod}`,
      ...Object.entries(values.reconcile.resourceResyncPeriods)
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([kind, s]) => `--reconcile-resource-resync-seconds=${kind}=${s}`),
    ];
    expect(fromValues).toEqual(controllerFlags(name));
    for (const flag of controllerFlags(name)) expect(text).toContain(`#   ${flag}\n`);
  });

  it.each([
    ['ec2', 'SecurityGroup'],
    ['ec2', 'VPCEndpoint'],
    ['apigateway', 'RestAPI'],
    ['apigateway', 'Method'],
    ['apigateway', 'Stage'],
    ['iam', 'Role'],
  ] as const)('%s %s (a layer) resyncs every %s s', (name, kind) => {
    expect(resyncSeconds(name, kind)).toBe(LAYER_RESYNC_SECONDS);
    expect(LAYER_RESYNC_SECONDS).toBeLessThanOrEqual(60);
  });

  it('keeps a longer period for the rest, below ACK default of 10 hours', () => {
    for (const name of ACK_CONTROLLER_NAMES) expect(RECOMMENDED_SETTINGS[name].defaultResyncSeconds).toBeLessThan(36000);
    expect(resyncSeconds('apigateway', 'Deployment')).toBe(RECOMMENDED_SETTINGS.apigateway.defaultResyncSeconds);
  });
});

describe('pinned controller tags', () => {
  it('scripts/ack-controllers.sh and scripts/ack-crds.sh pin the tags src/charts/ack-controllers.ts names', () => {
    const build = readFileSync(`${root}scripts/ack-controllers.sh`, 'utf8');
    const crds = readFileSync(`${root}scripts/ack-crds.sh`, 'utf8');
    const tags = Object.fromEntries([...build.matchAll(/\[([a-z0-9]+)\]=(v[0-9.]+)/g)].map((m) => [m[1], m[2]]));
    const crdTags = Object.fromEntries([.../CONTROLLERS=\(([^)]*)\)/.exec(crds)![1]!.matchAll(/([a-z0-9]+):(v[0-9.]+)/g)].map((m) => [m[1], m[2]]));
    expect(tags).toEqual(ACK_CONTROLLER_TAGS);
    expect(crdTags).toEqual(ACK_CONTROLLER_TAGS);
  });
});
