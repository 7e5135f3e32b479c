// Helpers of the e2e tests: the clusters and the emulator of global-setup.ts, AWS state read
// through the AWS API (SDK v3) in each account, the operator as a process (`xapi operator`), and
// polling with generous deadlines.
import { until as sharedUntil } from '../integration/helpers.js';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { APIGatewayClient, GetDeploymentsCommand, GetResourcesCommand, GetRestApisCommand, GetStagesCommand } from '@aws-sdk/client-api-gateway';
import { DescribeSecurityGroupRulesCommand, DescribeSecurityGroupsCommand, DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetRolePolicyCommand, IAMClient, ListAttachedRolePoliciesCommand, ListRolePoliciesCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { ACK, type AckKindName } from '../../src/api/ack.js';
import type { CrossAccountApi } from '../../src/api/types.js';
import { endpointGroup, ownerLabelValue } from '../../src/charts/names.js';
import { EMULATOR_CREDENTIALS, createNetwork, networkFor } from '../../src/envtest/aws.js';
import { freePort } from '../../src/envtest/ports.js';
import { isAlive } from '../../src/envtest/processes.js';

const ROOT = new URL('../../', import.meta.url).pathname;
export const EXAMPLE_PATH = join(ROOT, 'examples', 'orders.yaml');

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: the e2e global setup (test/e2e/global-setup.ts) must run first`);
  return v;
}
export const e2eDir = () => env('XAPI_E2E_DIR');
export const endpoint = () => env('XAPI_E2E_AWS_ENDPOINT');
export const region = () => env('XAPI_E2E_AWS_REGION');
export const kubeconfigPath = (which: 'A' | 'B') => env(`XAPI_E2E_KUBECONFIG_${which}`);

export function clients(which: 'A' | 'B') {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath(which));
  return { kc, core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

export { sleep } from '../integration/helpers.js';

/** The shared poller, every 500 ms by default (the emulator and the controllers are slower to change). */
export const until = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 500): Promise<T> => sharedUntil(what, fn, timeoutMs, everyMs);

export function exampleCr(): CrossAccountApi {
  return parse(readFileSync(EXAMPLE_PATH, 'utf8')) as CrossAccountApi;
}

/** The real kubectl from the envtest assets; never throws on exit code. */
export function kubectl(which: 'A' | 'B', args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(env('XAPI_E2E_KUBECTL'), ['--kubeconfig', kubeconfigPath(which), ...args], { timeout: 600_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

export async function ensureNamespace(core: CoreV1Api, name: string): Promise<void> {
  try {
    await core.createNamespace({ body: { metadata: { name } } });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
}

/** A cluster Secret holding a kubeconfig, as the CR's `cluster.secretName` names it. */
export async function clusterSecret(core: CoreV1Api, namespace: string, name: string, kubeconfigFile: string): Promise<void> {
  const body = { metadata: { name, namespace }, stringData: { kubeconfig: readFileSync(kubeconfigFile, 'utf8') } };
  try {
    await core.createNamespacedSecret({ namespace, body });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
    await core.replaceNamespacedSecret({ name, namespace, body });
  }
}

export async function seedNetwork(cr: CrossAccountApi): Promise<void> {
  await createNetwork(endpoint(), networkFor(cr));
}

// --- the operator, as the `xapi operator` process users run -----------------------------------

/** One log line, short: a controller's JSON line as time, object, message and error. */
function brief(line: string): string {
  try {
    const j = JSON.parse(line) as Record<string, unknown>;
    if (typeof j.ts === 'string') return `${j.ts} ${String(j.controllerKind ?? '')}/${String(j.name ?? '')} ${String(j.msg ?? '')}: ${String(j.error ?? '')}`.slice(0, 400);
  } catch {
    // not JSON: as it is
  }
  return line.slice(0, 400);
}

/**
 * What the run's processes last said, for a failure message: the last lines of each operator log
 * and the last error lines of each ACK controller's and the emulator's log (CI keeps no files).
 */
export function runLogs(lines = 8): string {
  const dir = e2eDir();
  const logs = readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => join(dir, f));
  for (const sub of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    logs.push(...readdirSync(join(dir, sub.name)).filter((f) => f.endsWith('.log')).map((f) => join(dir, sub.name, f)));
  }
  const dead = controllerArgs()
    .filter((c) => !isAlive(c.pid))
    .map((c) => `ACK ${c.name} controller (${c.logPath.slice(dir.length + 1)}) is not running`);
  return [...dead, ...logs
    .filter((path) => existsSync(path))
    .map((path) => {
      const all = readFileSync(path, 'utf8').trimEnd().split('\n');
      const picked = path.includes('operator-') ? all : all.filter((l) => /error|fatal|panic|Traceback/i.test(l));
      return `--- ${path.slice(dir.length + 1)} (${all.length} lines; last ${path.includes('operator-') ? '' : 'error '}lines) ---\n${picked.slice(-lines).map(brief).join('\n')}`;
    })].join('\n');
}

export interface OperatorProcess {
  child: ChildProcess;
  metricsPort: number;
  logPath: string;
  stop(): Promise<void>;
  /** xapi_reconcile_total summed over results. */
  reconciles(): Promise<number>;
}

export async function startOperatorProcess(label: string, namespace: string): Promise<OperatorProcess> {
  const metricsPort = await freePort();
  const healthPort = await freePort();
  const logPath = join(e2eDir(), `operator-${label}.log`);
  const fd = openSync(logPath, 'a');
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'xapi.js'), 'operator', '--kubeconfig', kubeconfigPath('A'), '--namespace', namespace, '--metrics-port', String(metricsPort), '--health-port', String(healthPort)], {
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = signal ?? String(code)));
  await until(
    `the operator (${logPath}) to answer /readyz`,
    async () => {
      if (exited !== undefined) throw new Error(`xapi operator exited (${exited}):\n${readFileSync(logPath, 'utf8').slice(-2000)}`);
      return (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).ok;
    },
    60_000,
    200,
  );
  return {
    child,
    metricsPort,
    logPath,
    async stop() {
      if (exited !== undefined) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await gone;
      clearTimeout(timer);
    },
    async reconciles() {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return text
        .split('\n')
        .filter((l) => l.startsWith('xapi_reconcile_total'))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    },
  };
}

// --- CRs and ACK objects ------------------------------------------------------------------------

const CR = { group: 'xapi.dev', version: 'v1alpha1', plural: 'crossaccountapis' };

export async function getCr(namespace: string, name: string): Promise<CrossAccountApi | undefined> {
  try {
    return (await clients('A').custom.getNamespacedCustomObject({ ...CR, namespace, name })) as CrossAccountApi;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

export const condition = (cr: CrossAccountApi | undefined, type: string) => cr?.status?.conditions?.find((c) => c.type === type);

export interface AckObject {
  kind: string;
  metadata: { name: string; namespace: string; generation?: number; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
  status?: { conditions?: Array<{ type: string; status: string; message?: string }>; [k: string]: unknown };
}

/** Every ACK object of the CR in one cluster: its own (owner label) and its VPC's shared endpoint objects (endpoint group label). */
export async function ackObjects(which: 'A' | 'B', cr: CrossAccountApi): Promise<AckObject[]> {
  const { custom } = clients(which);
  const group = endpointGroup(cr);
  const selectors = [`xapi.dev/owner=${ownerLabelValue(cr)}`, ...(group ? [`xapi.dev/endpoint-group=${group.label}`] : [])];
  const out: AckObject[] = [];
  for (const kind of Object.keys(ACK) as AckKindName[]) {
    const r = ACK[kind];
    for (const labelSelector of selectors) {
      const res = (await custom.listClusterCustomObject({ group: r.group, version: r.version, plural: r.plural, labelSelector })) as { items: AckObject[] };
      out.push(...res.items.map((i) => ({ ...i, kind: r.kind })));
    }
  }
  return out;
}

export const terminalOf = (objs: AckObject[]) =>
  objs.flatMap((o) => (o.status?.conditions ?? []).filter((c) => c.type === 'ACK.Terminal' && c.status === 'True').map((c) => `${o.kind}/${o.metadata.name}: ${c.message}`));

// --- AWS through its API, per account -----------------------------------------------------------

const credentials = new Map<string, Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string }>>();

/** Credentials in `account`: AssumeRole from the emulator's home account, as CARM does. */
function accountCredentials(account: string) {
  let c = credentials.get(account);
  if (!c) {
    const sts = new STSClient({ endpoint: endpoint(), region: region(), credentials: EMULATOR_CREDENTIALS });
    c = sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/xapi-e2e-reader`, RoleSessionName: 'xapi-e2e' })).then((r) => ({
      accessKeyId: r.Credentials!.AccessKeyId!,
      secretAccessKey: r.Credentials!.SecretAccessKey!,
      sessionToken: r.Credentials!.SessionToken!,
    }));
    credentials.set(account, c);
  }
  return c;
}

export async function aws(account: string) {
  const creds = await accountCredentials(account);
  const cfg = { endpoint: endpoint(), region: region(), credentials: creds };
  return { ec2: new EC2Client(cfg), apigw: new APIGatewayClient(cfg), iam: new IAMClient(cfg) };
}

/** API Gateway stores a resource policy as escaped JSON; EC2 and IAM as JSON (IAM URL-encoded). */
export function parsePolicy(text: string | undefined): Record<string, any> | undefined {
  if (!text) return undefined;
  let t = text;
  if (/^%7B/i.test(t)) t = decodeURIComponent(t);
  try {
    return JSON.parse(t);
  } catch {
    return JSON.parse(t.replace(/\\"/g, '"').replace(/\\\\/g, '\\'));
  }
}

export interface SgRule {
  egress: boolean;
  protocol: string;
  from: number;
  to: number;
  groupId?: string;
  cidr?: string;
}

export interface ConsumerState {
  securityGroups: Array<{ id: string; name: string; rules: SgRule[]; tags: Record<string, string> }>;
  endpoints: Array<{ id: string; type: string; service: string; privateDns: boolean; policy?: Record<string, any>; securityGroups: string[]; subnets: string[]; tags: Record<string, string>; state: string }>;
  roles: Array<{ name: string; arn: string; inline: Record<string, Record<string, any>>; attached: string[] }>;
}

export interface ProviderState {
  apis: Array<{
    id: string;
    name: string;
    types: string[];
    policy?: Record<string, any>;
    methods: Array<{ path: string; method: string; authorizationType?: string; integration?: { type?: string; uri?: string } }>;
    /** `policy`: the resource policy the deployment serves (the emulator's record; AWS shows it nowhere). */
    deployments: Array<{ id: string; createdDate?: number; policy?: Record<string, any> }>;
    stages: Array<{ name: string; deploymentId?: string }>;
  }>;
}

const tagMap = (tags: Array<{ Key?: string; Value?: string }> | undefined) => Object.fromEntries((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));

/** Everything xapi may have created in the consumer account (the default security group aside). */
export async function consumerState(account: string): Promise<ConsumerState> {
  const { ec2, iam } = await aws(account);
  const groups = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
  const securityGroups: ConsumerState['securityGroups'] = [];
  for (const g of groups.filter((x) => x.GroupName !== 'default').sort((x, y) => x.GroupName!.localeCompare(y.GroupName!))) {
    const rules = (await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [g.GroupId!] }] }))).SecurityGroupRules ?? [];
    securityGroups.push({
      id: g.GroupId!,
      name: g.GroupName!,
      tags: tagMap(g.Tags),
      rules: rules
        .map((r) => ({
          egress: !!r.IsEgress,
          protocol: r.IpProtocol!,
          from: r.FromPort!,
          to: r.ToPort!,
          ...(r.ReferencedGroupInfo?.GroupId && { groupId: r.ReferencedGroupInfo.GroupId }),
          ...(r.CidrIpv4 && { cidr: r.CidrIpv4 }),
        }))
        .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
    });
  }
  const eps = (await ec2.send(new DescribeVpcEndpointsCommand({}))).VpcEndpoints ?? [];
  const endpoints = eps
    .filter((e) => (e.State ?? '').toLowerCase() !== 'deleted')
    .map((e) => ({
      id: e.VpcEndpointId!,
      type: String(e.VpcEndpointType),
      service: e.ServiceName!,
      privateDns: !!e.PrivateDnsEnabled,
      policy: parsePolicy(e.PolicyDocument),
      securityGroups: (e.Groups ?? []).map((g) => g.GroupId!).sort(),
      subnets: [...(e.SubnetIds ?? [])].sort(),
      tags: tagMap(e.Tags),
      state: String(e.State),
    }))
    .sort((x, y) => x.id.localeCompare(y.id));
  const roles: ConsumerState['roles'] = [];
  for (const r of ((await iam.send(new ListRolesCommand({}))).Roles ?? []).sort((x, y) => x.RoleName!.localeCompare(y.RoleName!))) {
    const inline: Record<string, Record<string, any>> = {};
    for (const name of (await iam.send(new ListRolePoliciesCommand({ RoleName: r.RoleName! }))).PolicyNames ?? []) {
      inline[name] = parsePolicy((await iam.send(new GetRolePolicyCommand({ RoleName: r.RoleName!, PolicyName: name }))).PolicyDocument)!;
    }
    const attached = ((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: r.RoleName! }))).AttachedPolicies ?? []).map((p) => p.PolicyArn!).sort();
    roles.push({ name: r.RoleName!, arn: r.Arn!, inline, attached });
  }
  return { securityGroups, endpoints, roles };
}

/** Deployment ID → the resource policy it serves, as the emulator recorded it at CreateDeployment. */
async function deploymentPolicies(account: string, restApiId: string): Promise<Record<string, string | null>> {
  const query = new URLSearchParams({ account, region: region(), restApiId });
  const res = await fetch(`${endpoint()}/xapi/deployment-policies?${query}`);
  if (!res.ok) throw new Error(`the emulator's deployment policies for ${restApiId}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, string | null>;
}

export async function providerState(account: string): Promise<ProviderState> {
  const { apigw } = await aws(account);
  const apis: ProviderState['apis'] = [];
  for (const a of ((await apigw.send(new GetRestApisCommand({}))).items ?? []).sort((x, y) => x.id!.localeCompare(y.id!))) {
    const resources = (await apigw.send(new GetResourcesCommand({ restApiId: a.id!, embed: ['methods'] }))).items ?? [];
    const methods = resources
      .flatMap((r) =>
        Object.entries(r.resourceMethods ?? {}).map(([method, m]) => ({
          path: r.path!,
          method,
          authorizationType: m.authorizationType,
          ...(m.methodIntegration && { integration: { type: m.methodIntegration.type, uri: m.methodIntegration.uri } }),
        })),
      )
      .sort((x, y) => `${x.path} ${x.method}`.localeCompare(`${y.path} ${y.method}`));
    // Stages before deployments: a Stage can only name a deployment that exists when it is read, so
    // the later reads hold it, with its policy, unless it was deleted in between. Read the other
    // way round, a deployment made and served between the reads looked like one without a policy.
    const stages = ((await apigw.send(new GetStagesCommand({ restApiId: a.id! }))).item ?? []).map((s) => ({ name: s.stageName!, deploymentId: s.deploymentId })).sort((x, y) => x.name.localeCompare(y.name));
    const served = await deploymentPolicies(account, a.id!);
    const deployments = ((await apigw.send(new GetDeploymentsCommand({ restApiId: a.id! }))).items ?? [])
      .map((d) => ({ id: d.id!, ...(d.createdDate && { createdDate: new Date(d.createdDate).getTime() }), ...(served[d.id!] && { policy: parsePolicy(served[d.id!]!) }) }))
      .sort((x, y) => x.id.localeCompare(y.id));
    apis.push({ id: a.id!, name: a.name!, types: (a.endpointConfiguration?.types ?? []).map(String), policy: parsePolicy(a.policy), methods, deployments, stages });
  }
  return { apis };
}

/** All values of aws:sourceVpce named in a resource policy's conditions. */
export function sourceVpces(policy: Record<string, any> | undefined): string[] {
  const out = new Set<string>();
  for (const st of policy?.Statement ?? []) {
    for (const block of Object.values((st.Condition ?? {}) as Record<string, Record<string, unknown>>)) {
      const v = block['aws:sourceVpce'];
      for (const id of Array.isArray(v) ? v : v === undefined ? [] : [v]) out.add(String(id));
    }
  }
  return [...out].sort();
}

/** The ACK controllers' command lines, as global-setup.ts started them. */
export function controllerArgs(): Array<{ name: string; args: string[]; pid: number; logPath: string }> {
  return JSON.parse(env('XAPI_E2E_CONTROLLER_ARGS')) as Array<{ name: string; args: string[]; pid: number; logPath: string }>;
}
