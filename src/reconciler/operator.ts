// The operator process: the CR watch, the cluster registry (ACK and Secret watches), the work
// queue, leader election, and the health and metrics endpoints. `startOperator` is what
// `xapi operator` and the integration tests run. Workers start only once the CR list has
// completed; each CR waits for the clusters it needs (reconcile.ts).

import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { ACK } from '../api/ack.js';
import { API_VERSION, GROUP, KIND, OWNER_LABEL, PLURAL, VERSION, type CrossAccountApi } from '../api/types.js';
import { endpointGroup, ownerLabelValue, type EndpointGroup } from '../charts/names.js';
import { renderPart } from '../charts/render.js';
import { partWithAppliedHashes } from './apply.js';
import { BurstGate } from './burst.js';
import { Cluster } from './cluster.js';
import { ClusterRegistry, LOCAL } from './clusters.js';
import { CrWriter } from './cr-writes.js';
import { changesGroupObject, groupIdChanged, memberChangesGroup, reconcileGroup } from './endpoint-group.js';
import { ConnectedKubeConfig, DEFAULT_REQUEST_TIMEOUT_MS, NotLeaderError, errText } from './kube.js';
import { LeaderElector, leaseApi } from './leader.js';
import { OperatorMetrics } from './metrics.js';
import { statusMovedUnseen, type LiveObject } from './observed.js';
import { WorkQueue } from './queue.js';
import { RenderCache, type PartRenderFn } from './render-cache.js';
import { SpreadResync } from './resync.js';
import { checkedSpec } from './spec-check.js';
import { Reconciler, type Logger, type RenderFn } from './reconcile.js';
import { ListWatch, listPages } from './watch.js';

export const DEFAULT_RESYNC_SECONDS = 300;
/**
 * Workers kept for rotations, beside the ordinary ones. A rotation's reconcile holds its worker
 * for several writes (policy, Deployment, status): in bench:scale, of 100 endpoints replaced at
 * once, half waited 1.2 s for a worker with 32, and with 64 the last third waited up to 1.3 s.
 * Only rotations use them, and each is an API refusing its callers until handled.
 */
export const DEFAULT_URGENT_CONCURRENCY = 128;

/** Index values of the CR cache: by consumer VPC, by the existing endpoint a CR names. */
const crVpcIndex = (vpcId: string) => `vpc|${vpcId}`;
const crEndpointIndex = (endpointId: string) => `endpoint|${endpointId}`;

export interface OperatorOptions {
  /** Kubeconfig of the operator's own cluster (path); default: the usual loading rules. */
  kubeconfig?: string;
  kubeConfig?: KubeConfig;
  /** Watch CrossAccountApi objects in this namespace only; default all. */
  namespace?: string;
  /** -1 = do not serve; 0 = a free port; undefined = 8080 / 8081. */
  metricsPort?: number;
  healthPort?: number;
  leaderElect?: boolean;
  leaseName?: string;
  leaseNamespace?: string;
  identity?: string;
  concurrency?: number;
  /** Extra workers that take only urgent keys (a rotated endpoint); default DEFAULT_URGENT_CONCURRENCY. */
  urgentConcurrency?: number;
  /** One part of a CR's render (default: the charts' renderPart). */
  renderPart?: PartRenderFn;
  logger?: Logger;
  /** Retry backoff bounds, ms. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  /** Every CR is reconciled, and every watch relisted, this often (zero writes when nothing drifted). */
  resyncSeconds?: number;
  /** Timeout of every API request, ms. */
  requestTimeoutMs?: number;
  /** Called when this replica lost the lease (the CLI exits so that its Deployment restarts it). */
  onLostLeadership?: () => void;
}

export interface RunningOperator {
  stop(): Promise<void>;
  metrics: OperatorMetrics;
  readonly isLeader: boolean;
  /** Ports actually bound (with port 0: a free one). */
  metricsPort?: number;
  healthPort?: number;
}

async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : port;
}

const crKey = (cr: { metadata?: { namespace?: string; name?: string } }) => `${cr.metadata?.namespace}/${cr.metadata?.name}`;

export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const log: Logger = options.logger ?? pino({ base: { component: 'xapi-operator' } });
  const given = options.kubeConfig ?? new KubeConfig();
  if (!options.kubeConfig) {
    if (options.kubeconfig) given.loadFromFile(options.kubeconfig);
    else given.loadFromDefault();
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  let elector: LeaderElector | undefined;
  // With leader election, every write checks that this replica still holds the lease.
  const writeGate = options.leaderElect ? () => !!elector?.holdsLease() : undefined;
  const kc = ConnectedKubeConfig.from(given, requestTimeoutMs, writeGate);
  const resyncMs = (options.resyncSeconds ?? DEFAULT_RESYNC_SECONDS) * 1000;
  // The server ends each watch after this; the client notices a dead one a little later.
  const watchTimeoutSeconds = Math.min(300, Math.max(10, Math.round(resyncMs / 1000)));
  const metrics = new OperatorMetrics(!options.kubeConfig);
  const newQueue = () => new WorkQueue({ baseDelayMs: options.baseBackoffMs ?? 200, maxDelayMs: options.maxBackoffMs ?? 30_000 });
  let queue = newQueue();
  let working = false;

  /** CR keys by what they depend on (a Secret, a cluster), from their last reconcile. */
  const users = new Map<string, Set<string>>();
  const depsOf = new Map<string, string[]>();
  const ownerToKey = new Map<string, string>();
  /** When ACK last reported a new endpoint ID, per owner (rotation latency). */
  const endpointSeenAt = new Map<string, number>();
  // Endpoint groups (one shared endpoint per VPC) are work keys of their own. A group stays known
  // after its last member leaves, until it is drained.
  const groups = new Map<string, EndpointGroup>();
  /** Group label value → group keys: a shared object's event finds its groups without a scan. */
  const groupsByLabel = new Map<string, Set<string>>();
  const groupOfCr = new Map<string, string>();
  const crsByGroup = new Map<string, Set<string>>();
  const setGroupOf = (key: string, group: EndpointGroup | undefined) => {
    const before = groupOfCr.get(key);
    if (before) crsByGroup.get(before)?.delete(key);
    if (!group) return void groupOfCr.delete(key);
    groups.set(group.key, group);
    let labelled = groupsByLabel.get(group.label);
    if (!labelled) groupsByLabel.set(group.label, (labelled = new Set()));
    labelled.add(group.key);
    groupOfCr.set(key, group.key);
    let set = crsByGroup.get(group.key);
    if (!set) crsByGroup.set(group.key, (set = new Set()));
    set.add(key);
  };
  const refusedIn = new Map<string, Map<string, string>>();
  const sharedBy = new Map<string, number>();
  const groupOf = (cr: CrossAccountApi) => {
    const valid = checkedSpec(cr.spec);
    return valid.ok ? endpointGroup({ ...cr, spec: valid.spec }) : undefined;
  };
  /** CR keys of a group; members are the ones not being deleted. */
  const crsOf = (groupKey: string) => [...(crsByGroup.get(groupKey) ?? [])];
  const membersOf = (groupKey: string) =>
    crsOf(groupKey)
      .map((k) => crWatch.get(...(k.split('/') as [string, string])) as unknown as CrossAccountApi | undefined)
      .filter((cr): cr is CrossAccountApi => !!cr && !cr.metadata.deletionTimestamp);
  const renderOne = options.renderPart ?? renderPart;
  // Stamped once per render, kept by the cache (apply.ts).
  const renders = new RenderCache((part, cr, ids) => partWithAppliedHashes(renderOne(part, cr, ids)));

  const burst = new BurstGate();
  const enqueue = (key: string, urgent = false) => {
    if (urgent) burst.begin(key);
    queue.add(key, urgent);
    metrics.queueDepth.set(queue.depth);
  };
  const onChange = (dep: string) => {
    for (const key of users.get(dep) ?? []) enqueue(key);
  };
  /**
   * ACK reported a new ID for an endpoint that had one: its callers are refused until the APIs'
   * policies name it. Logged when seen, so a rotation's time can be told apart from the API servers'.
   */
  const logReplaced = (cluster: string, obj: LiveObject, old: LiveObject | undefined, crs: number) =>
    log.info({ cluster, endpoint: `${obj.metadata?.namespace}/${obj.metadata?.name}`, from: old?.status?.vpcEndpointID, to: obj.status?.vpcEndpointID, crs }, 'endpoint replaced');
  const onOwnerEvent = (owner: string, obj: LiveObject, old: LiveObject | undefined, cluster: string, type: string) => {
    // A new endpoint ID: its traffic is refused until the provider's policy admits it, so the CR
    // goes ahead of any backlog (a rotation must not wait for a resync or a convergence).
    let rotated = false;
    if (obj.kind === ACK.VPCEndpoint.kind) {
      const id = obj.status?.vpcEndpointID;
      if (id && id !== old?.status?.vpcEndpointID) {
        endpointSeenAt.set(owner, Date.now());
        rotated = old?.status?.vpcEndpointID !== undefined;
      }
    }
    const key = ownerToKey.get(owner);
    if (rotated) logReplaced(cluster, obj, old, key ? 1 : 0);
    if (key) enqueue(key, rotated);
    // A member's API ID, role or caller group feeds its group's policy and rules.
    const group = key && groupOfCr.get(key);
    if (group && memberChangesGroup(type, obj, old)) enqueue(group);
  };
  /**
   * The answer to one of the operator's own writes can carry an ID ACK reported meanwhile, and the
   * watch event that brought the ID is then dropped as an echo: a group that reads that ID is
   * woken here (the events alone left a group without a caller's rule until a restart).
   */
  const onOwnWrite = (obj: LiveObject, old: LiveObject | undefined, owner: string | undefined, label: string | undefined) => {
    const key = owner === undefined ? undefined : ownerToKey.get(owner);
    // The owner's pass reads the status too (the pass that wrote ran with the older one).
    if (key !== undefined && statusMovedUnseen(obj, old)) enqueue(key);
    if (!groupIdChanged(obj, old)) return;
    const group = key === undefined ? undefined : groupOfCr.get(key);
    if (group) enqueue(group);
    if (owner === undefined && label !== undefined) for (const groupKey of groupsByLabel.get(label) ?? []) enqueue(groupKey);
  };
  /** A shared object changed: its group (unless only its status did) and every CR of the group (members read its ID and state). */
  const onGroupEvent = (label: string, obj: LiveObject, old: LiveObject | undefined, cluster: string, type: string) => {
    const newId = obj.kind === ACK.VPCEndpoint.kind && obj.status?.vpcEndpointID && obj.status.vpcEndpointID !== old?.status?.vpcEndpointID;
    const replaced = !!newId && old?.status?.vpcEndpointID !== undefined;
    let members = 0;
    const groupToo = changesGroupObject(type, obj, old);
    for (const groupKey of groupsByLabel.get(label) ?? []) {
      if (groupToo) enqueue(groupKey);
      for (const key of crsOf(groupKey)) {
        members++;
        if (newId) {
          const cr = crWatch.get(...(key.split('/') as [string, string]));
          if (cr) endpointSeenAt.set(ownerLabelValue(cr as unknown as CrossAccountApi), Date.now());
        }
        // A replaced endpoint's members go ahead of any backlog (their traffic is refused meanwhile).
        enqueue(key, replaced);
      }
    }
    if (replaced) logReplaced(cluster, obj, old, members);
  };
  /**
   * CRs of a VPC whose admission may change: those refused for it (EndpointConflict), and, for
   * an endpoint xapi does not own, every CR of the VPC and every CR naming it. Narrow on purpose:
   * a busy VPC must not wake all its CRs on every status write.
   */
  const enqueueVpc = (vpcId: unknown, o: { everyone?: boolean; endpointId?: unknown; except?: string } = {}) => {
    // Called for every endpoint event: the CRs come from the CR cache's indexes (a scan of 1,000
    // CRs per event showed in profiles at that scale).
    const named = typeof o.endpointId === 'string' ? crWatch.byIndex(crEndpointIndex(o.endpointId)) : [];
    const ofVpc = typeof vpcId === 'string' ? crWatch.byIndex(crVpcIndex(vpcId)) : [];
    for (const obj of named) if (crKey(obj) !== o.except) enqueue(crKey(obj));
    for (const obj of ofVpc) {
      const cr = obj as unknown as CrossAccountApi;
      const key = crKey(obj);
      if (key === o.except) continue;
      if (o.everyone || cr.status?.conditions?.some((x) => x.type === 'Ready' && x.reason === 'EndpointConflict')) enqueue(key);
    }
  };
  const onEndpointEvent = (obj: LiveObject, old: LiveObject | undefined, type: string) => {
    type Vpce = { spec?: { vpcID?: unknown; privateDNSEnabled?: unknown }; status?: { vpcEndpointID?: unknown } };
    const v = obj as Vpce;
    if (obj.metadata?.labels?.[OWNER_LABEL]) {
      // xapi's own endpoint: its CR is woken through the owner label; others only when it appears,
      // goes or changes what admission reads.
      const was = old as Vpce | undefined;
      if (type === 'MODIFIED' && was?.spec?.vpcID === v.spec?.vpcID && was?.spec?.privateDNSEnabled === v.spec?.privateDNSEnabled) return;
      enqueueVpc(v.spec?.vpcID);
      return;
    }
    enqueueVpc(v.spec?.vpcID, { everyone: true, endpointId: v.status?.vpcEndpointID });
  };
  const clusterOptions = {
    resyncMs,
    watchTimeoutSeconds,
    onOwnerEvent,
    onGroupEvent,
    onOwnWrite,
    onEndpointEvent,
    onWrite: (verb: 'apply' | 'delete') => metrics.writes.inc({ op: verb }),
  };

  let registry!: ClusterRegistry;
  const newRegistry = () => {
    const local = new Cluster('local', kc, { ...clusterOptions, onState: () => onChange(LOCAL) });
    return new ClusterRegistry({ ...clusterOptions, local, localKc: kc, requestTimeoutMs, writeGate, onChange });
  };

  const custom = kc.makeApiClient(CustomObjectsApi);
  const crWatch = new ListWatch({
    kc,
    path: `/apis/${GROUP}/${VERSION}/${options.namespace ? `namespaces/${options.namespace}/` : ''}${PLURAL}`,
    list: () =>
      listPages((page) =>
        options.namespace
          ? custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: options.namespace, ...page })
          : custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, ...page }),
      ),
    kind: KIND,
    apiVersion: API_VERSION,
    resyncMs,
    watchTimeoutSeconds,
    // By consumer VPC (admission reads the CRs of one VPC on every reconcile; all of them was
    // O(n²)) and by the existing endpoint a CR names (endpoint events wake those).
    indexBy: (obj) => {
      const consumer = (obj as unknown as CrossAccountApi).spec?.consumer;
      const vpc = consumer?.vpcId;
      const endpoint = consumer?.endpoint?.id;
      return [...(typeof vpc === 'string' ? [crVpcIndex(vpc)] : []), ...(typeof endpoint === 'string' ? [crEndpointIndex(endpoint)] : [])];
    },
    onEvent: (type, obj, old) => {
      const cr = obj as unknown as CrossAccountApi;
      const key = crKey(cr);
      // The group(s) a CR joins or leaves: a new CR, a spec change, a deletion (old and new group).
      const before = groupOfCr.get(key);
      // A CR that changes its spec or goes may admit a newer one refused for its VPC (a new CR
      // never refuses an older one, so its creation wakes nobody).
      const generation = (o: LiveObject | undefined) => (o?.metadata as { generation?: number } | undefined)?.generation;
      if (type === 'DELETED' || (old && generation(obj) !== generation(old))) enqueueVpc(cr.spec?.consumer?.vpcId, { except: key });
      if (type === 'DELETED') {
        ownerToKey.delete(ownerLabelValue(cr));
        endpointSeenAt.delete(ownerLabelValue(cr));
        setGroupOf(key, undefined);
        if (before) enqueue(before);
        renders.forget(key);
        queue.forget(key);
        burst.end(key);
        setDeps(key, []);
        releaseUnused();
        return;
      }
      ownerToKey.set(ownerLabelValue(cr), key);
      const group = groupOf(cr);
      setGroupOf(key, group);
      if (before && before !== group?.key) enqueue(before);
      const changed = !old || (old as { metadata?: { generation?: number } }).metadata?.generation !== cr.metadata.generation;
      const deleting = !!cr.metadata.deletionTimestamp !== !!(old as { metadata?: { deletionTimestamp?: string } } | undefined)?.metadata?.deletionTimestamp;
      if (group && (changed || deleting || before !== group.key)) enqueue(group.key);
      enqueue(key);
    },
    onState: (live) => {
      if (live) startWorkers();
    },
  });

  const setDeps = (key: string, deps: string[]) => {
    for (const dep of depsOf.get(key) ?? []) if (!deps.includes(dep)) users.get(dep)?.delete(key);
    for (const dep of deps) {
      let set = users.get(dep);
      if (!set) users.set(dep, (set = new Set()));
      set.add(key);
    }
    if (deps.length > 0) depsOf.set(key, deps);
    else depsOf.delete(key);
  };
  const releaseUnused = () => {
    const used = new Set<string>();
    for (const [dep, keys] of users) if (keys.size > 0 && dep.startsWith('secret:')) used.add(dep.slice('secret:'.length));
    registry.retain(used);
  };

  /** Keys whose reconcile had a write refused by the write gate: run again after the next renewal. */
  const refused = new Set<string>();
  let reconciler!: Reconciler;
  const handleGroup = async (key: string) => {
    const group = groups.get(key);
    if (!group) return;
    const members = membersOf(key);
    const outcome = await reconcileGroup(group, members, { registry, log, refusal: (cr, consumer) => reconciler.admissionRefusal(cr, consumer) });
    setDeps(key, outcome.deps);
    if (outcome.waiting) return;
    // Members show how many APIs share the endpoint and whether the group left them out.
    const refused = JSON.stringify([...(outcome.refused ?? [])]);
    if (refused !== JSON.stringify([...(refusedIn.get(key) ?? [])]) || sharedBy.get(key) !== members.length) {
      if (outcome.refused) refusedIn.set(key, outcome.refused);
      else refusedIn.delete(key);
      sharedBy.set(key, members.length);
      for (const k of crsOf(key)) enqueue(k);
    }
    if (outcome.requeueAfterMs !== undefined) queue.addAfter(key, outcome.requeueAfterMs);
    else if (members.length === 0 && crsOf(key).length === 0) {
      // Drained: forget the group.
      const label = groups.get(key)?.label;
      groups.delete(key);
      const labelled = label === undefined ? undefined : groupsByLabel.get(label);
      labelled?.delete(key);
      if (label !== undefined && labelled?.size === 0) groupsByLabel.delete(label);
      crsByGroup.delete(key);
      refusedIn.delete(key);
      sharedBy.delete(key);
      setDeps(key, []);
      releaseUnused();
    }
  };
  const handle = async (key: string) => {
    metrics.queueDepth.set(queue.depth);
    if (key.startsWith('endpoint-group|')) {
      metrics.groupReconciles.inc();
      const end = metrics.duration.startTimer();
      try {
        await handleGroup(key);
      } catch (err) {
        log.warn({ key, err: errText(err) }, 'endpoint group reconcile failed');
        throw err;
      } finally {
        end();
      }
      return;
    }
    const [namespace, name] = key.split('/') as [string, string];
    const cr = crWatch.get(namespace, name) as unknown as CrossAccountApi | undefined;
    if (!cr) return;
    const end = metrics.duration.startTimer();
    try {
      const outcome = await reconciler.reconcile(cr);
      setDeps(key, outcome.deps);
      // A pass that waited for a cluster to be listed did nothing: it is not counted as a reconcile.
      if (outcome.waiting) metrics.waiting.inc();
      else metrics.reconciles.inc({ result: 'ok' });
      if (outcome.requeueAfterMs !== undefined) queue.addAfter(key, outcome.requeueAfterMs);
    } catch (err) {
      if (err instanceof NotLeaderError) {
        // The lease is not renewed yet (a slow renewal, a step-down): not a failure to back off
        // from; the key runs again as soon as a renewal succeeds.
        refused.add(key);
        return;
      }
      const e = err as { reason?: string; code?: number };
      metrics.reconciles.inc({ result: 'error' });
      metrics.errors.inc({ reason: e.reason ?? (e.code ? String(e.code) : 'Error') });
      log.warn({ key, err: errText(err) }, 'reconcile failed');
      throw err;
    } finally {
      // However the pass ended, a burst no longer waits for it.
      burst.end(key);
      end();
    }
  };

  let running: Promise<void> | undefined;
  let resync: SpreadResync | undefined;
  /** The caches (CR watch, cluster registry and their watches) are running. */
  let caching = false;
  const startWorkers = () => {
    if (!working || running) return;
    running = queue.run(handle, options.concurrency ?? 4, options.urgentConcurrency ?? DEFAULT_URGENT_CONCURRENCY);
  };
  const startCaches = () => {
    if (caching) return;
    caching = true;
    registry = newRegistry();
    const writer = new CrWriter(kc, log, () => new Date(), (cr) => crWatch.remember(cr as unknown as LiveObject), (what) => metrics.writes.inc({ op: what }));
    reconciler = new Reconciler({
      registry,
      writer,
      render: renders.fn,
      metrics,
      log,
      endpointSeenAt: (owner) => endpointSeenAt.get(owner),
      policiesWritten: (cr, hold) => {
        burst.end(crKey(cr));
        // A pass with nothing to write does not keep its worker waiting for the burst.
        return hold ? burst.settled() : Promise.resolve();
      },
      endpointGroup: (cr) => {
        const key = groupOfCr.get(crKey(cr));
        if (!key) return undefined;
        const refused = refusedIn.get(key)?.get(crKey(cr));
        return { sharedBy: sharedBy.get(key) ?? membersOf(key).length, ...(refused && { refused }) };
      },
      peers: (vpcId) => crWatch.byIndex(crVpcIndex(vpcId)) as unknown as CrossAccountApi[],
    });
    registry.local.startWatches();
    crWatch.start();
    // A periodic pass over every CR repairs what a missed event left behind; with no drift it writes nothing.
    resync = new SpreadResync(resyncMs, () => [...crWatch.list().map((o) => crKey(o)), ...groups.keys()], enqueue);
    resync.start();
  };
  const stopCaches = () => {
    if (!caching) return;
    caching = false;
    resync?.stop();
    crWatch.stop();
    registry.stop();
    users.clear();
    depsOf.clear();
    renders.clear();
  };
  const startWork = () => {
    if (working) return;
    working = true;
    metrics.leader.set(1);
    queue = newQueue();
    const kept = caching;
    startCaches();
    // Caches kept across a step-down: every CR is looked at again (no write where nothing drifted).
    if (kept) for (const cr of crWatch.list()) enqueue(crKey(cr));
    if (crWatch.live) startWorkers();
  };
  /**
   * Stops the work; resolves when the reconciles under way have finished. With `keepCaches` the
   * watches go on (a replica that could not renew in time leads again cheaply; the write gate
   * refuses every write meanwhile), else they stop too.
   */
  const stopWork = (keepCaches = false): Promise<void> => {
    const draining = running ?? Promise.resolve();
    if (working) {
      working = false;
      metrics.leader.set(0);
      queue.shutDown();
      running = undefined;
      refused.clear();
    }
    if (!keepCaches) stopCaches();
    return draining;
  };

  let stopping = false;
  const leaseKc = ConnectedKubeConfig.from(given, requestTimeoutMs);
  if (options.leaderElect) {
    elector = new LeaderElector({
      // The Lease has its own connection, outside the write gate.
      api: leaseApi(leaseKc),
      namespace: options.leaseNamespace ?? options.namespace ?? 'default',
      name: options.leaseName ?? 'xapi-operator',
      identity: options.identity ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      leaseDurationSeconds: options.leaseDurationSeconds,
      renewDeadlineSeconds: options.renewDeadlineSeconds,
      retryPeriodSeconds: options.retryPeriodSeconds,
      onStartedLeading: startWork,
      onRenewed: () => {
        if (!working || refused.size === 0) return;
        const keys = [...refused];
        refused.clear();
        for (const key of keys) enqueue(key);
      },
      // Work stops at once. When another replica holds the lease, `xapi operator` exits and its
      // Deployment restarts it as a follower; embedded (no handler), it campaigns again once its
      // work has drained.
      onStoppedLeading: ({ lost }) => {
        const drained = stopWork(!lost);
        if (!lost) return; // the elector campaigns on and resumes the work if it gets the lease back
        if (options.onLostLeadership) options.onLostLeadership();
        else void drained.then(() => !stopping && elector?.start());
      },
      log: (msg, extra) => log.info({ ...extra }, msg),
    });
    elector.start();
  } else startWork();

  const ready = () => !working || (crWatch.live && registry.live);
  const servers: Server[] = [];
  let metricsPort: number | undefined;
  let healthPort: number | undefined;
  if (options.metricsPort !== -1) {
    const s = createServer((req, res) => {
      if (req.url?.startsWith('/metrics')) {
        metrics.queueDepth.set(queue.depth);
        metrics.watchesLive.set(working && ready() ? 1 : 0);
        metrics.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
          (err) => res.writeHead(500).end(String(err)),
        );
      } else res.writeHead(404).end('not found\n');
    });
    servers.push(s);
    metricsPort = await listen(s, options.metricsPort ?? 8080);
  }
  if (options.healthPort !== -1) {
    const s = createServer((req, res) => {
      if (req.url === '/healthz') res.writeHead(200).end('ok\n');
      else if (req.url === '/readyz') {
        // A follower is ready (it waits for the lease); a leader while every watch it needs is live.
        const ok = ready();
        res.writeHead(ok ? 200 : 503).end(ok ? 'ok\n' : 'a watch the operator needs is not live\n');
      } else res.writeHead(404).end('not found\n');
    });
    servers.push(s);
    healthPort = await listen(s, options.healthPort ?? 8081);
  }

  return {
    metrics,
    metricsPort,
    healthPort,
    get isLeader() {
      return working;
    },
    async stop() {
      stopping = true;
      if (elector) await elector.stop();
      await stopWork();
      kc.close();
      leaseKc.close();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
    },
  };
}
