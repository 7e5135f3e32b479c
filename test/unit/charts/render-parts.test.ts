// The operator renders a CR in parts, each given only the IDs PART_IDS lists for it (the render
// cache keys each part by those). If a part read an ID missing from its list, it would render as
// if that ID were unknown; so the parts joined must equal the render that sees every ID (synth's
// path, addCrossAccountApi), for several specs and for every ID known, missing, or alone.
import { readFileSync } from 'node:fs';
import { App, Chart } from 'cdk8s';
import { parse } from 'yaml';
import type { CrossAccountApi, KubeObject, ObservedIds } from '../../../src/api/types.js';
import { MEMBER_PARTS, PART_IDS, addCrossAccountApi, partIds, renderMember, renderPart, type RenderedObjects } from '../../../src/charts/render.js';
import { FULL_OBSERVED } from '../../fixtures/observed.js';

const example = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;

function variant(edit: (c: CrossAccountApi) => void): CrossAccountApi {
  const c = structuredClone(example);
  edit(c);
  return c;
}

const SPECS: Record<string, CrossAccountApi> = {
  example,
  'an existing endpoint': variant((c) => (c.spec.consumer.endpoint = { id: 'vpce-0feedfacefeedface' })),
  'private DNS off': variant((c) => (c.spec.consumer.endpoint = { privateDns: false })),
  'with a Function': variant((c) => (c.spec.consumer.function = { name: 'orders-caller', code: { s3Bucket: 'b', s3Key: 'k.zip' } })),
  'a given role ARN': variant((c) => (c.spec.consumer.roleArn = 'arn:aws:iam::111111111111:role/given')),
};

const routes = example.spec.provider.routes.map((r) => `${r.method} ${r.path}`);
const ALL: ObservedIds = {
  ...FULL_OBSERVED,
  allowedEndpointIds: ['vpce-0bbbbbbbbbbbbbbbb', 'vpce-0aaaaaaaaaaaaaaaa'],
  roleArn: 'arn:aws:iam::111111111111:role/reported',
  endpointSecurityGroupIds: ['sg-0other00000000000'],
  endpointNetworkInterfaceIds: ['eni-0aaaaaaaaaaaaaaaa'],
  createdMethods: routes,
  createdIntegrations: routes,
};
const FIELDS = Object.keys(ALL) as (keyof ObservedIds)[];

/** Every ID known, each one missing, each one alone, none. */
function states(): [string, ObservedIds][] {
  const out: [string, ObservedIds][] = [['all', ALL], ['none', {}]];
  for (const f of FIELDS) {
    const { [f]: _gone, ...without } = ALL;
    out.push([`all but ${f}`, without], [`only ${f}`, { [f]: ALL[f] } as ObservedIds]);
  }
  out.push(['some methods created', { ...ALL, createdMethods: routes.slice(1), createdIntegrations: [] }]);
  return out;
}

/** One CR with every ID in sight, the way synth renders it. */
function seeingEverything(cr: CrossAccountApi, observed: ObservedIds): RenderedObjects {
  const app = new App({ outdir: '/nonexistent' });
  const consumer = new Chart(app, 'consumer', { disableResourceNameHashes: true });
  const provider = new Chart(app, 'provider', { disableResourceNameHashes: true });
  const { complete, undecided } = addCrossAccountApi(consumer, provider, cr, observed);
  return { consumer: consumer.toJson() as KubeObject[], provider: provider.toJson() as KubeObject[], complete, undecided };
}

describe.each(Object.entries(SPECS))('render parts: %s', (_name, cr) => {
  it.each(states())('joined, they equal the render that sees every ID (%s)', (_state, observed) => {
    expect(renderMember(cr, observed)).toEqual(seeingEverything(cr, observed));
  });
});

it('a part is given only the IDs listed for it, and every ID is listed for some part', () => {
  for (const part of MEMBER_PARTS) expect(Object.keys(partIds(part, ALL)).sort()).toEqual([...PART_IDS[part]].sort());
  expect(new Set(MEMBER_PARTS.flatMap((p) => PART_IDS[p]))).toEqual(new Set(FIELDS));
  // An ID a part does not read does not change it.
  expect(renderPart('routes', example, { ...ALL, allowedEndpointIds: ['vpce-0ccccccccccccccc'] })).toEqual(renderPart('routes', example, ALL));
});
