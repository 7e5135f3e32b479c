// What AWS must hold for one CrossAccountApi, read through the AWS API in both accounts: the four
// layers exactly, nothing more. The expected values are derived here from the spec and the IDs
// the emulator assigned, not from the render.
import { objectNames } from '../../src/charts/names.js';
import { flowLogNames } from '../../src/charts/audit.js';
import type { CrossAccountApi } from '../../src/api/types.js';
import { readFileSync } from 'node:fs';
import { ackObjects, condition, consumerState, getCr, providerState, runLogs, sourceVpces, terminalOf, until, type ConsumerState, type OperatorProcess, type ProviderState } from './helpers.js';

export interface Live {
  consumer: ConsumerState;
  provider: ProviderState;
  callerSg: string;
  endpointSg: string;
  endpointId: string;
  apiId: string;
  roleArn: string;
  stageDeployment: string;
}

const HTTPS = 443;

/** arn:aws:execute-api:R:B:API/STAGE/METHOD/path with {param} segments as '*'. */
function routeArn(cr: CrossAccountApi, apiId: string, method: string, path: string): string {
  const rest = path
    .split('/')
    .filter(Boolean)
    .map((s) => (s.startsWith('{') ? '*' : s))
    .join('/');
  return `arn:aws:execute-api:${cr.spec.region}:${cr.spec.provider.accountId}:${apiId}/${cr.spec.provider.stage}/${method}/${rest}`;
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

export async function expectFourLayers(cr: CrossAccountApi, renderedEndpointPolicy: string): Promise<Live> {
  const { spec } = cr;
  const names = objectNames(cr);
  const consumer = await consumerState(spec.consumer.accountId);
  const provider = await providerState(spec.provider.accountId);

  // Layer 1: two groups, each with exactly one group-to-group 443 rule, no default egress.
  expect(consumer.securityGroups.map((g) => g.name).sort()).toEqual([names.callerSecurityGroup, names.endpointSecurityGroup].sort());
  const caller = consumer.securityGroups.find((g) => g.name === names.callerSecurityGroup)!;
  const endpointSg = consumer.securityGroups.find((g) => g.name === names.endpointSecurityGroup)!;
  expect(caller.rules).toEqual([{ egress: true, protocol: 'tcp', from: HTTPS, to: HTTPS, groupId: endpointSg.id }]);
  expect(endpointSg.rules).toEqual([{ egress: false, protocol: 'tcp', from: HTTPS, to: HTTPS, groupId: caller.id }]);
  for (const g of [caller, endpointSg]) expect(g.tags.Project).toBe(spec.project);

  // The caller role: exact route ARNs, nothing else granted.
  // the flow logs' delivery role (docs/audit.md) is not one of the layers
  const flowLogRole = flowLogNames(spec.consumer.namespace, cr.metadata.name).roleName;
  const callerRoles = consumer.roles.filter((r) => r.name !== flowLogRole);
  expect(callerRoles.map((r) => r.name)).toEqual([spec.consumer.roleName]);
  const role = callerRoles[0]!;
  expect(provider.apis.map((a) => a.name)).toEqual([spec.provider.apiName]);
  const api = provider.apis[0]!;
  expect(Object.keys(role.inline)).toEqual(['xapi-invoke']);
  const grants = (role.inline['xapi-invoke']!.Statement as Array<Record<string, unknown>>).filter((s) => s.Effect === 'Allow');
  expect(grants.flatMap((s) => asList(s.Action))).toEqual(['execute-api:Invoke']);
  const expectedArns = [...new Set(spec.provider.routes.map((r) => routeArn(cr, api.id, r.method, r.path)))].sort();
  expect(grants.flatMap((s) => asList(s.Resource)).map(String).sort()).toEqual(expectedArns);

  // Layer 2: one Interface endpoint for execute-api with private DNS, the rendered policy and the Project tag.
  expect(consumer.endpoints).toHaveLength(1);
  const ep = consumer.endpoints[0]!;
  expect(ep).toMatchObject({
    type: 'Interface',
    service: `com.amazonaws.${spec.region}.execute-api`,
    privateDns: true,
    securityGroups: [endpointSg.id],
    subnets: [...spec.consumer.subnetIds].sort(),
    state: 'available',
  });
  expect(ep.tags.Project).toBe(spec.project);
  expect(ep.policy).toEqual(JSON.parse(renderedEndpointPolicy));
  const apiArn = `arn:aws:execute-api:${spec.region}:${spec.provider.accountId}:${api.id}/*`;
  const epAllow = (ep.policy!.Statement as Array<Record<string, any>>).filter((s) => s.Effect === 'Allow');
  expect(epAllow).toHaveLength(1);
  expect(epAllow[0]).toMatchObject({ Principal: { AWS: role.arn }, Action: 'execute-api:Invoke', Resource: apiArn, Condition: { StringEquals: { 'aws:resourceTag/Project': spec.project } } });

  // Layer 3: PRIVATE, the stored policy admits exactly the live endpoint and grants only the role.
  expect(api.types).toEqual(['PRIVATE']);
  expect(sourceVpces(api.policy)).toEqual([ep.id]);
  const apiAllow = (api.policy!.Statement as Array<Record<string, any>>).filter((s) => s.Effect === 'Allow');
  expect(apiAllow.map((s) => s.Principal)).toEqual([{ AWS: role.arn }]);

  // Layer 4: every route's method is AWS_IAM with the integration, and there are no other methods.
  const integration = spec.provider.integration!;
  expect(api.methods.map((m) => `${m.method} ${m.path}`).sort()).toEqual(spec.provider.routes.map((r) => `${r.method} ${r.path}`).sort());
  for (const m of api.methods) {
    expect({ route: `${m.method} ${m.path}`, auth: m.authorizationType }).toEqual({ route: `${m.method} ${m.path}`, auth: 'AWS_IAM' });
    expect(m.integration).toEqual({ type: integration.type, ...(integration.uri && { uri: integration.uri }) });
  }

  // The stage serves the newest deployment.
  expect(api.stages.map((s) => s.name)).toEqual([spec.provider.stage]);
  const stage = api.stages[0]!;
  const newest = Math.max(...api.deployments.map((d) => d.createdDate ?? 0));
  const served = api.deployments.find((d) => d.id === stage.deploymentId);
  expect(served).toBeDefined();
  expect(served!.createdDate).toBe(newest);
  // What callers meet is the policy deployed, not the one stored: the served deployment must have
  // been created after the stored policy reached AWS (a Deployment created before ACK's
  // UpdateRestApi serves the policy before it).
  expect(served!.policy).toEqual(api.policy);

  return { consumer, provider, callerSg: caller.id, endpointSg: endpointSg.id, endpointId: ep.id, apiId: api.id, roleArn: role.arn, stageDeployment: stage.deploymentId! };
}

/**
 * Waits for the CR's Ready condition to be True, recording every change of its reason or message
 * on the way (printed once Ready, so a slow step shows in the log). A timeout names what the CR
 * last said and every ACK object that is not yet Synced, so a failed run explains itself.
 */
export async function expectReady(cr: CrossAccountApi, clusters: Array<'A' | 'B'>, timeoutMs: number, tag: string): Promise<number> {
  const ns = cr.metadata.namespace!;
  const started = Date.now();
  const seen: string[] = [];
  let said = '';
  try {
    await until(
      'the CR to become Ready',
      async () => {
        const ready = condition(await getCr(ns, cr.metadata.name), 'Ready');
        const now = ready ? `${ready.status} ${ready.reason ?? ''}: ${ready.message ?? ''}` : 'no Ready condition';
        if (now !== said) seen.push(`+${((Date.now() - started) / 1000).toFixed(1)} s ${now}`);
        said = now;
        return ready?.status === 'True';
      },
      timeoutMs,
      1000,
    );
  } catch (err) {
    const objs = (await Promise.all(clusters.map((c) => ackObjects(c, cr).catch(() => [])))).flat();
    const unsynced = objs.flatMap((o) => {
      const synced = o.status?.conditions?.find((c) => c.type === 'ACK.ResourceSynced');
      return synced?.status === 'True' ? [] : [`${o.kind}/${o.metadata.name}: ${(o.status?.conditions ?? []).map((c) => `${c.type}=${c.status} ${c.message ?? ''}`).join('; ') || 'no conditions'}`];
    });
    throw new Error(`${(err as Error).message}\nReady on the way:\n  ${seen.join('\n  ')}\nACK objects not Synced:\n  ${unsynced.join('\n  ') || 'none'}\n${runLogs()}`);
  }
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write(`[e2e ${tag}] Ready ${seconds.toFixed(1)} s after kubectl apply; on the way:\n  ${seen.join('\n  ')}\n`);
  return seconds;
}

/**
 * Deletes nothing itself: waits until the CR and every ACK object it owns are gone, collecting
 * every Terminal condition (and a Degraded CR) seen on the way; then both accounts must be empty.
 */
export async function expectCleanDeletion(cr: CrossAccountApi, clusters: Array<'A' | 'B'>, timeoutMs: number): Promise<void> {
  const ns = cr.metadata.namespace!;
  const terminal = new Set<string>();
  let remaining: string[] = [];
  try {
    await until(
      'the CR and its ACK objects to be gone',
      async () => {
        const objs = (await Promise.all(clusters.map((c) => ackObjects(c, cr)))).flat();
        for (const t of terminalOf(objs)) terminal.add(t);
        const live = await getCr(ns, cr.metadata.name);
        const degraded = condition(live, 'Degraded');
        if (degraded?.status === 'True') terminal.add(`CR Degraded: ${degraded.message}`);
        remaining = [
          ...(live ? [`CR: ${condition(live, 'Ready')?.message ?? ''}`] : []),
          ...objs.map((o) => `${o.kind}/${o.metadata.name}: ${(o.status?.conditions ?? []).filter((c) => c.status !== 'True' || c.type !== 'Ready').map((c) => `${c.type}=${c.status} ${c.message ?? ''}`).join('; ')}`),
        ];
        return !live && objs.length === 0;
      },
      timeoutMs,
      500,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\nstill there:\n  ${remaining.join('\n  ')}\nTerminal on the way: ${[...terminal].join('; ') || 'none'}\n${runLogs()}`);
  }
  expect([...terminal]).toEqual([]);
  const consumer = await consumerState(cr.spec.consumer.accountId);
  expect({ groups: consumer.securityGroups, endpoints: consumer.endpoints, roles: consumer.roles }).toEqual({ groups: [], endpoints: [], roles: [] });
  expect((await providerState(cr.spec.provider.accountId)).apis).toEqual([]);
}

/**
 * Stops the operator, starts a new one, lets it reconcile, and expects no change: the AWS state in
 * both accounts, the spec generation of every ACK object, and no write in the new operator's log.
 * Returns the new operator.
 */
export async function expectRestartChangesNothing(cr: CrossAccountApi, old: OperatorProcess, start: () => Promise<OperatorProcess>): Promise<OperatorProcess> {
  const generations = async () =>
    (await Promise.all([ackObjects('A', cr), ackObjects('B', cr)])).flat().map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}@${o.metadata.generation}`).sort();
  const snapshot = async () => ({ consumer: await consumerState(cr.spec.consumer.accountId), provider: await providerState(cr.spec.provider.accountId), generations: await generations() });
  const before = await snapshot();
  await old.stop();
  const operator = await start();
  // the new process has looked at the CR (and would have written by now if it disagreed)
  await until('the restarted operator to reconcile', async () => (await operator.reconciles()) >= 1, 120_000, 500);
  await new Promise((r) => setTimeout(r, 15_000));
  const writes = readFileSync(operator.logPath, 'utf8')
    .split('\n')
    .filter((l) => /"msg":"(applied|pruned)"/.test(l))
    .map((l) => {
      const o = JSON.parse(l) as { msg: string; kind: string; name: string };
      return `${o.msg} ${o.kind}/${o.name}`;
    });
  expect(writes).toEqual([]);
  expect(await snapshot()).toEqual(before);
  expect(condition(await getCr(cr.metadata.namespace!, cr.metadata.name), 'Ready')?.status).toBe('True');
  return operator;
}
