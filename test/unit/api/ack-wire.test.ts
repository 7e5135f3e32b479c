// Every field the read side names (src/api/ack-wire.ts) exists, with that spelling and type, in
// the real CRDs of the pinned ACK controllers (../shared/ack-crds, or XAPI_CRDS_DIR).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ACK, type AckKindName } from '../../../src/api/ack.js';
import { WIRE, ackObject, wirePaths } from '../../../src/api/ack-wire.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const crdsDir = process.env.XAPI_CRDS_DIR ?? join(root, '..', 'shared', 'ack-crds');

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
}

function schemaOf(kind: AckKindName): Schema {
  const ref = ACK[kind];
  const file = join(crdsDir, `${ref.group}_${ref.plural}.yaml`);
  if (!existsSync(file)) throw new Error(`CRD ${file} not found: set XAPI_CRDS_DIR or run "bash scripts/ack-crds.sh" (npm test and npm run test:unit do)`);
  const crd = parse(readFileSync(file, 'utf8')) as { spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: Schema } }> } };
  return crd.spec.versions.find((v) => v.name === ref.version)!.schema.openAPIV3Schema;
}

/** Follows "spec.a[].b{}.c" through the schema; returns the leaf's type or why it failed. */
function resolve(schema: Schema, path: string): string {
  let s: Schema | undefined = schema;
  for (const part of path.match(/[^.[\]{}]+|\[\]|\{\}/g) ?? []) {
    if (part === '[]') s = s?.items;
    else if (part === '{}') s = typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined;
    else s = s?.properties?.[part];
    if (!s) return `missing at "${part}"`;
  }
  return s?.type ?? 'untyped';
}

describe('ACK wire names', () => {
  for (const kind of Object.keys(WIRE) as AckKindName[]) {
    it(`${kind}: every field read is in the CRD with that type`, () => {
      const schema = schemaOf(kind);
      const found = wirePaths(kind).map(({ path }) => ({ path, type: resolve(schema, path) }));
      expect(found).toEqual(wirePaths(kind));
    });
  }

  it("checks spelling: the constructs' names are not the wire's", () => {
    const schema = schemaOf('SecurityGroup');
    expect(wirePaths('SecurityGroup')).toContainEqual({ path: 'spec.ingressRules[].fromPort', type: 'integer' });
    expect(resolve(schema, 'spec.ingressRules[].userIdGroupPairs[].groupId')).toMatch(/^missing/);
  });

  it('ackObject views an object of that kind only', () => {
    const sg = { apiVersion: 'ec2.services.k8s.aws/v1alpha1', kind: 'SecurityGroup', metadata: { name: 'x' }, spec: { egressRules: [{ userIDGroupPairs: [{ groupID: 'sg-1' }] }] }, status: { id: 'sg-2' } };
    expect(ackObject(sg, 'SecurityGroup')?.spec.egressRules?.[0]?.userIDGroupPairs?.[0]?.groupID).toBe('sg-1');
    expect(ackObject(sg, 'SecurityGroup')?.status.id).toBe('sg-2');
    expect(ackObject(sg, 'VPCEndpoint')).toBeUndefined();
    expect(ackObject({ ...sg, apiVersion: 'ec2.services.k8s.aws/v1beta1' }, 'SecurityGroup')).toBeUndefined();
    expect(ackObject({ kind: 'SecurityGroup', spec: 'not an object' }, 'SecurityGroup')?.spec).toEqual({});
  });
});
