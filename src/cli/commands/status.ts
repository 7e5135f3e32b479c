// `xapi status [NAME]`: each CrossAccountApi's four layers as the operator reported them (status
// conditions, IDs), plus the Ready state of its ACK objects in both clusters where reachable.
// Exit 0 only when every CR shown is Ready for its current generation.
import type { Command } from 'commander';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { ACK, CONSUMER_KINDS, PROVIDER_KINDS, type AckKindName } from '../../api/ack.js';
import { CONDITION, GROUP, OWNER_LABEL, PLURAL, VERSION, type Condition, type CrossAccountApi } from '../../api/types.js';
import { ackObject } from '../../api/ack-wire.js';
import { costEstimate, costLine, type CostEstimate } from '../../charts/audit.js';
import { ownerLabelValue } from '../../charts/names.js';
import type { SecretLike } from '../../reconciler/cluster-secret.js';
import { kubeConfigFromSecret } from '../../reconciler/clusters.js';
import type { LiveObject } from '../../reconciler/observed.js';
import { LAYERS, objectState } from '../../reconciler/status.js';
import { processIo, table, type CliIo } from '../io.js';
import { checkKubeconfig } from '../kubeconfig.js';

export interface StatusFlags {
  namespace?: string;
  allNamespaces?: boolean;
  kubeconfig?: string;
  output: string;
}

export interface LayerState {
  layer: number;
  condition: string;
  status: string;
  reason: string;
  message: string;
}

export interface AckObjectState {
  account: 'A' | 'B';
  kind: string;
  name: string;
  namespace: string;
  ready: boolean;
  reason: string;
  message: string;
}

export interface CrStatusReport {
  name: string;
  namespace: string;
  ready: boolean;
  reason: string;
  message: string;
  generation: number | null;
  observedGeneration: number | null;
  layersReady: string | null;
  layers: LayerState[];
  ids: {
    endpointId: string | null;
    endpointState: string | null;
    allowedEndpoints: string[];
    restApiId: string | null;
    stage: string | null;
    invokeUrl: string | null;
    callerSecurityGroupId: string | null;
    endpointSecurityGroupId: string | null;
  };
  objects: AckObjectState[];
  /** The audit trail (AuditReady; not one of the four layers, not part of Ready). */
  audit: { status: string; reason: string; message: string };
  /** The endpoint's monthly estimate from the rate table (docs/audit.md#cost). */
  cost: CostEstimate;
  /** Clusters or object lists that could not be read. */
  unreachable: string[];
}

const LAYER_NUMBER: Record<string, number> = Object.fromEntries(LAYERS.map((l, i) => [l, i + 1]));

/** The report for one CR from its status and the ACK objects read. Pure. */
export function crReport(cr: CrossAccountApi, objects: AckObjectState[], unreachable: string[], storedBytes?: number): CrStatusReport {
  const conds: Condition[] = cr.status?.conditions ?? [];
  const get = (t: string) => conds.find((c) => c.type === t);
  const ready = get(CONDITION.Ready);
  const generation = cr.metadata.generation ?? null;
  const observed = cr.status?.observedGeneration ?? null;
  const stale = generation !== null && observed !== null && observed < generation;
  const isReady = ready?.status === 'True' && !stale;
  const layers = LAYERS.map((type) => {
    const c = get(type);
    return { layer: LAYER_NUMBER[type]!, condition: type, status: c?.status ?? 'Unknown', reason: c?.reason ?? 'NotReported', message: c?.message ?? 'the operator has not reported this layer yet' };
  });
  const s = cr.status;
  return {
    name: cr.metadata.name,
    namespace: cr.metadata.namespace ?? 'default',
    ready: isReady,
    reason: stale ? 'Stale' : (ready?.reason ?? 'NotReported'),
    message: stale ? `status is for generation ${observed}, the spec is at ${generation}` : (ready?.message ?? 'the operator has not reported a status yet'),
    generation,
    observedGeneration: observed,
    layersReady: s?.layers ?? null,
    layers,
    ids: {
      endpointId: s?.endpoint?.id ?? null,
      endpointState: s?.endpoint?.state ?? null,
      allowedEndpoints: (s?.allowedEndpoints ?? []).map((a) => (a.until ? `${a.id} (until ${a.until})` : a.id)),
      restApiId: s?.api?.id ?? null,
      stage: s?.api?.stage ?? null,
      invokeUrl: s?.api?.invokeUrl ?? null,
      callerSecurityGroupId: s?.securityGroups?.callerId ?? null,
      endpointSecurityGroupId: s?.securityGroups?.endpointId ?? null,
    },
    objects,
    audit: (() => {
      const a = get(CONDITION.AuditReady);
      return { status: a?.status ?? 'Unknown', reason: a?.reason ?? 'NotReported', message: a?.message ?? 'the operator has not reported the audit trail yet' };
    })(),
    // One endpoint per CR until endpoints are shared: sharedBy 1.
    cost: costEstimate({ azCount: Math.max(1, new Set(cr.spec.consumer?.subnetIds ?? []).size), sharedBy: 1, ...(storedBytes !== undefined && { storedBytes }) }),
    unreachable,
  };
}

export function formatReports(reports: readonly CrStatusReport[]): string {
  const parts = reports.map((r) => {
    const head = `${r.namespace}/${r.name}  Ready=${r.ready ? 'True' : 'False'} (${r.reason})  layers ${r.layersReady ?? '?/4'}  generation ${r.generation ?? '?'} observed ${r.observedGeneration ?? '?'}\n  ${r.message}\n`;
    const layers = table(['LAYER', 'CONDITION', 'STATUS', 'REASON', 'MESSAGE'], r.layers.map((l) => [String(l.layer), l.condition, l.status, l.reason, l.message]));
    const id = (v: string | null) => v ?? '-';
    const ids = [
      `endpoint ${id(r.ids.endpointId)} (${id(r.ids.endpointState)})`,
      `allowed endpoints ${r.ids.allowedEndpoints.join(', ') || '-'}`,
      `api ${id(r.ids.restApiId)} stage ${id(r.ids.stage)} ${id(r.ids.invokeUrl)}`,
      `security groups caller ${id(r.ids.callerSecurityGroupId)} endpoint ${id(r.ids.endpointSecurityGroupId)}`,
    ].map((l) => `  ${l}`).join('\n');
    const objects = r.objects.length
      ? table(['ACCOUNT', 'KIND', 'NAME', 'READY', 'MESSAGE'], r.objects.map((o) => [o.account, o.kind, `${o.namespace}/${o.name}`, o.ready ? 'True' : 'False', o.message]))
      : '(no ACK objects found)\n';
    const audit = `  AuditReady=${r.audit.status} (${r.audit.reason}): ${r.audit.message}\n  cost: ${costLine(r.cost)}\n`;
    const unreachable = r.unreachable.length ? `unreachable:\n${r.unreachable.map((u) => `  - ${u}`).join('\n')}\n` : '';
    return `${head}\n${layers}\nIDs:\n${ids}\n\nAudit and cost:\n${audit}\nACK objects:\n${objects}${unreachable}`;
  });
  return parts.join('\n');
}

function errorMessage(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  if (typeof e.code === 'number') {
    let detail = '';
    try {
      const body = typeof e.body === 'string' ? (JSON.parse(e.body) as { message?: string }) : (e.body as { message?: string } | undefined);
      detail = body?.message ?? '';
    } catch {
      detail = String(e.body ?? '');
    }
    return `HTTP ${e.code}${detail ? `: ${detail}` : ''}`;
  }
  return e.message ?? String(err);
}

async function sideConfig(main: KubeConfig, cr: CrossAccountApi, side: 'consumer' | 'provider'): Promise<KubeConfig> {
  const ref = cr.spec[side].cluster;
  if (!ref) return main;
  const core = main.makeApiClient(CoreV1Api);
  const secret = await core.readNamespacedSecret({ name: ref.secretName, namespace: ref.namespace ?? cr.metadata.namespace ?? 'default' });
  return kubeConfigFromSecret(secret as SecretLike, ref.key);
}

async function readAckObjects(main: KubeConfig, cr: CrossAccountApi): Promise<{ objects: AckObjectState[]; unreachable: string[]; storedBytes?: number }> {
  let storedBytes: number | undefined;
  const objects: AckObjectState[] = [];
  const unreachable: string[] = [];
  const selector = `${OWNER_LABEL}=${ownerLabelValue(cr)}`;
  for (const [side, account, kinds] of [['consumer', 'A', CONSUMER_KINDS], ['provider', 'B', PROVIDER_KINDS]] as const) {
    const namespace = cr.spec[side].namespace;
    const where = `account ${account} (${cr.spec[side].cluster ? `cluster Secret ${cr.spec[side].cluster!.secretName}` : 'this cluster'}, namespace ${namespace})`;
    let kc: KubeConfig;
    try {
      kc = await sideConfig(main, cr, side);
    } catch (err) {
      unreachable.push(`${where}: cannot read the cluster Secret: ${errorMessage(err)}`);
      continue;
    }
    const custom = kc.makeApiClient(CustomObjectsApi);
    for (const kind of kinds as readonly AckKindName[]) {
      const ref = ACK[kind];
      try {
        const res = (await custom.listNamespacedCustomObject({ group: ref.group, version: ref.version, namespace, plural: ref.plural, labelSelector: selector })) as { items?: LiveObject[] };
        for (const item of res.items ?? []) {
          const st = objectState({ ...item, kind: ref.kind });
          const bytes = kind === 'LogGroup' ? ackObject(item, 'LogGroup')?.status.storedBytes : undefined;
          if (typeof bytes === 'number') storedBytes = (storedBytes ?? 0) + bytes;
          objects.push({ account, kind: ref.kind, name: item.metadata?.name ?? '?', namespace, ready: st.ready, reason: st.reason, message: st.message });
        }
      } catch (err) {
        unreachable.push(`${where}: ${ref.kind}: ${errorMessage(err)}`);
        if (typeof (err as { code?: unknown }).code !== 'number') break; // connection failure: the other kinds will fail the same way
      }
    }
  }
  return { objects, unreachable, ...(storedBytes !== undefined && { storedBytes }) };
}

export async function runStatus(name: string | undefined, flags: StatusFlags, io: CliIo): Promise<CrStatusReport[]> {
  if (!['table', 'json'].includes(flags.output)) throw new Error(`--output must be table or json, got ${flags.output}`);
  checkKubeconfig(flags.kubeconfig);
  const kc = new KubeConfig();
  if (flags.kubeconfig) kc.loadFromFile(flags.kubeconfig);
  else kc.loadFromDefault();
  const custom = kc.makeApiClient(CustomObjectsApi);
  const namespace = flags.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  let crs: CrossAccountApi[];
  try {
    if (name) {
      crs = [(await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name })) as CrossAccountApi];
    } else if (flags.allNamespaces) {
      crs = ((await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as { items: CrossAccountApi[] }).items;
    } else {
      crs = ((await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL })) as { items: CrossAccountApi[] }).items;
    }
  } catch (err) {
    if ((err as { code?: number }).code === 404 && name) {
      io.err(`xapi status: crossaccountapi ${namespace}/${name} not found\n`);
      io.exitCode(1);
      return [];
    }
    throw new Error(`cannot read CrossAccountApis from ${kc.getCurrentCluster()?.server ?? 'the cluster'}: ${errorMessage(err)}`);
  }
  if (crs.length === 0) {
    io.err(`xapi status: no CrossAccountApi in ${flags.allNamespaces ? 'any namespace' : `namespace ${namespace}`}\n`);
    io.exitCode(1);
    return [];
  }
  const reports: CrStatusReport[] = [];
  for (const cr of crs.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))) {
    const { objects, unreachable, storedBytes } = await readAckObjects(kc, cr);
    reports.push(crReport(cr, objects, unreachable, storedBytes));
  }
  io.out(flags.output === 'json' ? `${JSON.stringify({ ready: reports.every((r) => r.ready), items: reports }, null, 2)}\n` : formatReports(reports));
  io.exitCode(reports.every((r) => r.ready) ? 0 : 1);
  return reports;
}

export function registerStatus(program: Command, io: CliIo = processIo): void {
  program
    .command('status')
    .description("show each CrossAccountApi's four layers, IDs, audit trail, monthly cost estimate and ACK objects (exit 0 only when Ready)")
    .argument('[name]', 'CrossAccountApi name (default: all in the namespace)')
    .option('-n, --namespace <ns>', 'namespace (default: the kubeconfig context\'s, else default)')
    .option('-A, --all-namespaces', 'every namespace')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--output <format>', 'table | json', 'table')
    .action(async (name: string | undefined, opts: StatusFlags) => {
      await runStatus(name, opts, io);
    });
}
