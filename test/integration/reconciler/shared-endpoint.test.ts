// Issue 15, one endpoint per VPC, on the two shared real API servers with the operator as its own
// process and the test playing ACK: 50 CRs over 5 VPCs converge to 5 endpoints; a restart with
// the shared objects in place changes nothing; another manager's edit of a shared endpoint's
// policy is restored once; replacing one shared endpoint rotates all 10 of
// its APIs, each with its grace period, and no other; deleting one group's CRs one by one
// removes exactly their statements and rules, and the last one the endpoint and its group.
import { readFileSync } from 'node:fs';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { ACK } from '../../../src/api/ack.js';
import { GROUP, PLURAL, VERSION, type CrossAccountApi } from '../../../src/api/types.js';
import { endpointGroup, type EndpointGroup } from '../../../src/charts/names.js';
import { executeApiArn, type PolicyDocument } from '../../../src/policy/documents.js';
import { Fixture } from '../faults/fixture.js';
import { OperatorProcess, waitWorking } from '../faults/operator-process.js';
import { clients, kubeconfigPath, sleep, until, type Clients } from '../helpers.js';

const RUN = Date.now().toString(36).slice(-4);
const COUNT = 50;
const VPCS = 5;
const GRACE_SECONDS = 20;
let a: Clients;
let f: Fixture;
let op: OperatorProcess;

type Obj = { metadata: { name: string; uid?: string; generation?: number; labels?: Record<string, string>; deletionTimestamp?: string }; spec?: Record<string, any>; status?: Record<string, any> };

async function shared(kind: 'VPCEndpoint' | 'SecurityGroup'): Promise<Obj[]> {
  const r = ACK[kind];
  const list = (await a.custom.listNamespacedCustomObject({ group: r.group, version: r.version, plural: r.plural, namespace: f.aNs, labelSelector: 'xapi.dev/endpoint-group' })) as { items: Obj[] };
  return list.items;
}
async function get(kind: 'VPCEndpoint' | 'SecurityGroup' | 'RestAPI', name: string): Promise<Obj | undefined> {
  const r = ACK[kind];
  const c = kind === 'RestAPI' ? f.o.b : a;
  try {
    return (await c.custom.getNamespacedCustomObject({ group: r.group, version: r.version, plural: r.plural, namespace: kind === 'RestAPI' ? f.bNs : f.aNs, name })) as Obj;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}
const groupOf = (i: number): EndpointGroup => endpointGroup(f.cr(i))!;
/** CR indexes of the group of CR i. */
const membersOf = (i: number) => Array.from({ length: COUNT }, (_, j) => j).filter((j) => j % VPCS === i % VPCS);

/** What the shared endpoint of CR i's group grants (API ARNs of its Allows) and admits (caller SG IDs). */
async function groupGrants(i: number): Promise<{ apis: string[]; callers: string[] } | undefined> {
  const g = groupOf(i);
  const vpce = await get('VPCEndpoint', g.vpcEndpoint);
  const sg = await get('SecurityGroup', g.endpointSecurityGroup);
  if (!vpce || !sg) return undefined;
  const doc = JSON.parse(String(vpce.spec?.policyDocument)) as PolicyDocument;
  return {
    apis: doc.Statement.filter((s) => s.Effect === 'Allow').map((s) => String(s.Resource)).sort(),
    callers: (sg.spec?.ingressRules ?? []).flatMap((r: any) => r.userIDGroupPairs.map((p: any) => p.groupID)).sort(),
  };
}
/** What the group should grant with these members: their API ARNs and caller SG IDs, from ACK's (the player's) status. */
async function expectedGrants(members: number[]): Promise<{ apis: string[]; callers: string[] }> {
  const apis: string[] = [];
  const callers: string[] = [];
  for (const j of members) {
    const cr = f.cr(j);
    const api = await get('RestAPI', `${cr.metadata.name}-api`);
    const caller = await get('SecurityGroup', `${cr.metadata.name}-caller-sg`);
    apis.push(executeApiArn(cr.spec.region, cr.spec.provider.accountId, String(api?.status?.id), '*'));
    callers.push(String(caller?.status?.id));
  }
  return { apis: apis.sort(), callers: callers.sort() };
}
async function crOf(i: number): Promise<CrossAccountApi | undefined> {
  try {
    return (await a.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: f.ns, name: f.crName(i) })) as CrossAccountApi;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

beforeAll(async () => {
  a = clients('A');
  f = await Fixture.create({ name: `shep-${RUN}`, a, b: clients('B'), bKubeconfig: readFileSync(kubeconfigPath('B'), 'utf8'), count: COUNT, vpcs: VPCS, graceSeconds: GRACE_SECONDS });
  await f.createCrs(4);
  op = await OperatorProcess.start({ kubeconfig: kubeconfigPath('A'), namespace: f.ns, leaseName: `${f.ns}-lease`, identity: `${f.ns}-op`, resyncSeconds: 30 });
}, 300_000);

afterAll(async () => {
  await op?.kill('SIGKILL');
  await f?.stop();
});

describe('one execute-api endpoint per VPC', () => {
  it(
    '50 CRs over 5 VPCs converge to 5 endpoints, each granting exactly its 10 APIs and admitting their 10 caller groups',
    async () => {
      await f.waitAllReady(600_000);
      const groups = [...new Set(Array.from({ length: COUNT }, (_, i) => groupOf(i).vpcEndpoint))];
      expect(groups).toHaveLength(VPCS);
      expect((await shared('VPCEndpoint')).map((o) => o.metadata.name).sort()).toEqual(groups.sort());
      expect(await shared('SecurityGroup')).toHaveLength(VPCS);
      for (let v = 0; v < VPCS; v++) {
        const want = await expectedGrants(membersOf(v));
        expect(want.apis).toHaveLength(10);
        await until(`group ${v} grants its 10 APIs`, async () => JSON.stringify(await groupGrants(v)) === JSON.stringify(want), 120_000, 500);
      }
      // Each member shows the shared endpoint, and how many APIs share it.
      const crs = await f.listCrs();
      for (const cr of crs) {
        const i = Number(cr.metadata.name.slice(f.crName(0).length - 1));
        const vpce = await get('VPCEndpoint', groupOf(i).vpcEndpoint);
        expect([cr.metadata.name, cr.status?.endpoint?.name, cr.status?.endpoint?.sharedBy, cr.status?.endpoint?.id]).toEqual([cr.metadata.name, groupOf(i).vpcEndpoint, 10, vpce?.status?.vpcEndpointID]);
      }
    },
    700_000,
  );

  it(
    'an operator restart (SIGTERM) with the shared objects in place deletes, recreates and changes nothing',
    async () => {
      await sleep(2000);
      const before = await f.snapshot();
      const sharedKeys = [...before.keys()].filter((k) => before.get(k)!.owner.startsWith('group:'));
      expect(sharedKeys).toHaveLength(2 * VPCS);
      f.changes!.mark();
      expect(await op.kill('SIGTERM')).toEqual({ code: 0, signal: null });
      await op.restart();
      await waitWorking(op, COUNT);
      await f.waitAllReady();
      await sleep(5000);
      expect({ snapshot: f.compare(before, await f.snapshot()), watched: f.logged(true) }).toEqual({ snapshot: [], watched: [] });
    },
    600_000,
  );

  it(
    "another field manager edits a shared endpoint's policy: its group restores it in one write, and no more",
    async () => {
      // The group's own objects wake it for a change beyond their status (not for ACK's status writes).
      const g = groupOf(0);
      const r = ACK.VPCEndpoint;
      const original = (await get('VPCEndpoint', g.vpcEndpoint))!;
      const foreign = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:*', Resource: '*' }] });
      await a.custom.patchNamespacedCustomObject(
        { group: r.group, version: r.version, plural: r.plural, namespace: f.aNs, name: g.vpcEndpoint, body: { spec: { policyDocument: foreign } }, fieldManager: 'someone-else' },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      const restored = await until(
        'the shared policy restored',
        async () => {
          const o = await get('VPCEndpoint', g.vpcEndpoint);
          return o?.spec?.policyDocument === original.spec?.policyDocument && o;
        },
        120_000,
        100,
      );
      // Edited once, restored once; then left alone (no write loop with the other manager gone).
      expect(restored.metadata.generation).toBe(original.metadata.generation! + 2);
      await sleep(5000);
      expect((await get('VPCEndpoint', g.vpcEndpoint))?.metadata.generation).toBe(restored.metadata.generation);
    },
    300_000,
  );

  it(
    'replacing one shared endpoint rotates all 10 of its APIs with their grace period, and no other API',
    async () => {
      const g = groupOf(0);
      const members = membersOf(0);
      const old = String((await get('VPCEndpoint', g.vpcEndpoint))?.status?.vpcEndpointID);
      const before = await f.snapshot();
      const { id } = await f.player.rotate('A', f.aNs, g.vpcEndpoint);
      expect(id).not.toBe(old);
      // Every member's resource policy admits the new endpoint while the old one is in its grace.
      await until(
        'the new endpoint in all 10 resource policies, the old one still there',
        async () => {
          for (const j of members) {
            const p = await f.restApiPolicy(j);
            if (!p.includes(id) || !p.includes(old)) return false;
          }
          return true;
        },
        180_000,
        500,
      );
      // Each member's status shows the old endpoint in its grace period (written after the apply).
      await until(
        'each member lists the old endpoint with its grace deadline',
        async () => {
          for (const j of members) if (!(await crOf(j))?.status?.allowedEndpoints?.find((e) => e.id === old)?.until) return false;
          return true;
        },
        60_000,
        500,
      );
      // After the grace: only the new one, in every member; nothing of another group changed.
      await until(
        'the old endpoint dropped from all 10 after the grace',
        async () => {
          for (const j of members) if ((await f.restApiPolicy(j)).includes(old)) return false;
          return true;
        },
        180_000,
        1000,
      );
      for (const j of members) expect(await f.restApiPolicy(j)).toContain(id);
      await f.waitAllReady();
      expect(f.compare(before, await f.snapshot(), { changedOwners: members.map((j) => f.owner(j)) })).toEqual([]);
    },
    600_000,
  );

  it(
    "deleting one group's CRs one by one removes exactly their statements and rules; the last one removes the endpoint and its group",
    async () => {
      const g = groupOf(1);
      const members = membersOf(1);
      const others = [0, 2, 3, 4].map((v) => groupOf(v).vpcEndpoint);
      const othersBefore = await Promise.all(others.map((n) => get('VPCEndpoint', n)));
      const full = await expectedGrants(members);
      for (const [k, j] of members.entries()) {
        const remaining = members.slice(k + 1);
        const want = remaining.length > 0 ? await expectedGrants(remaining) : undefined;
        await a.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: f.ns, name: f.crName(j) });
        await until(`${f.crName(j)} gone`, async () => !(await crOf(j)), 120_000, 300);
        if (want) {
          await until(`group 1 grants exactly the ${remaining.length} remaining`, async () => JSON.stringify(await groupGrants(1)) === JSON.stringify(want), 60_000, 300);
          // exactly this CR's statement and rule went
          const gone = { apis: full.apis.filter((x) => !want.apis.includes(x)), callers: full.callers.filter((x) => !want.callers.includes(x)) };
          expect(gone.apis).toHaveLength(k + 1);
          expect(gone.callers).toHaveLength(k + 1);
        }
      }
      await until('the shared endpoint and its group gone with the last member', async () => !(await get('VPCEndpoint', g.vpcEndpoint)) && !(await get('SecurityGroup', g.endpointSecurityGroup)), 60_000, 300);
      // The other groups' endpoints were never replaced.
      const othersAfter = await Promise.all(others.map((n) => get('VPCEndpoint', n)));
      expect(othersAfter.map((o) => o?.metadata.uid)).toEqual(othersBefore.map((o) => o?.metadata.uid));
      expect(await shared('VPCEndpoint')).toHaveLength(VPCS - 1);
    },
    600_000,
  );
});
