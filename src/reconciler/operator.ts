// The operator process: CR watch, ACK watches per cluster, work queue, leader election, health
// and metrics endpoints. `startOperator` is what `xapi operator` and the integration tests run.

import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { KubeConfig, CustomObjectsApi } from '@kubernetes/client-node';
import { pino } from 'pino';
import { GROUP, PLURAL, VERSION, KIND, type CrossAccountApi } from '../api/types.js';
import { ownerLabelValue } from '../charts/names.js';
import { Cluster } from './cluster.js';
import { LeaderElector } from './leader.js';
import { OperatorMetrics } from './metrics.js';
import { WorkQueue } from './queue.js';
import { Reconciler, type Logger, type RenderFn } from './reconcile.js';
import { ListWatch } from './watch.js';

export interface OperatorOptions {
  /** Kubeconfig of the operator's own cluster (path); default: the usual loading rules. */
  kubeconfig?: string;
  kubeConfig?: KubeConfig;
  /** Watch CrossAccountApi objects in this namespace only; default all. */
  namespace?: string;
  /** 0 = do not serve; undefined = defaults 8080 / 8081. */
  metricsPort?: number;
  healthPort?: number;
  leaderElect?: boolean;
  leaseName?: string;
  leaseNamespace?: string;
  identity?: string;
  concurrency?: number;
  render: RenderFn;
  logger?: Logger;
  /** Retry backoff bounds, ms. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  leaseDurationSeconds?: number;
}

export interface RunningOperator {
  stop(): Promise<void>;
  metrics: OperatorMetrics;
  readonly isLeader: boolean;
  /** Ports actually bound (useful with port 0 → random in tests: pass -1 for none). */
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

export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const log: Logger = options.logger ?? pino({ base: { component: 'xapi-operator' } });
  const kc = options.kubeConfig ?? new KubeConfig();
  if (!options.kubeConfig) {
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
  }
  const metrics = new OperatorMetrics(!options.kubeConfig);
  const newQueue = () => new WorkQueue({ baseDelayMs: options.baseBackoffMs ?? 200, maxDelayMs: options.maxBackoffMs ?? 30_000 });
  let queue = newQueue();
  const crs = new Map<string, CrossAccountApi>();
  const ownerToKey = new Map<string, string>();
  let working = false;

  const enqueue = (key: string) => {
    queue.add(key);
    metrics.queueDepth.set(queue.depth);
  };

  let reconciler!: Reconciler;
  const makeCluster = (name: string, ckc: KubeConfig): Cluster => {
    const cluster = new Cluster(
      name,
      ckc,
      (owner) => {
        reconciler.lastOwnerEvent.set(owner, Date.now());
        const key = ownerToKey.get(owner);
        if (key) enqueue(key);
      },
      (c) => {
        for (const key of reconciler.usersOfCluster.get(c) ?? []) enqueue(key);
      },
    );
    if (working) cluster.startWatches();
    return cluster;
  };
  const local = makeCluster('local', kc);
  reconciler = new Reconciler({ kc, local, render: options.render, metrics, log, makeCluster });

  const setCr = (cr: CrossAccountApi) => {
    const key = `${cr.metadata.namespace}/${cr.metadata.name}`;
    const old = crs.get(key);
    if (old && Number(old.metadata.resourceVersion) > Number(cr.metadata.resourceVersion)) return key;
    crs.set(key, cr);
    ownerToKey.set(ownerLabelValue(cr), key);
    return key;
  };
  reconciler.onCrWritten = (cr) => void setCr(cr);

  const crWatch = new ListWatch({
    kc,
    api: kc.makeApiClient(CustomObjectsApi),
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    kind: KIND,
    namespace: options.namespace,
    onEvent: (type, obj) => {
      if (type === 'SYNCED') return;
      const cr = obj as unknown as CrossAccountApi;
      const key = `${cr.metadata.namespace}/${cr.metadata.name}`;
      if (type === 'DELETED') {
        crs.delete(key);
        ownerToKey.delete(ownerLabelValue(cr));
        return;
      }
      setCr(cr);
      enqueue(key);
    },
    onError: (err) => log.warn({ err: String(err) }, 'CrossAccountApi watch error'),
  });

  const handle = async (key: string) => {
    metrics.queueDepth.set(queue.depth);
    const cr = crs.get(key);
    if (!cr) return;
    const end = metrics.duration.startTimer();
    try {
      const result = await reconciler.reconcile(key, cr);
      metrics.reconciles.inc({ result: 'ok' });
      if (result.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      const e = err as { reason?: string; code?: number };
      metrics.reconciles.inc({ result: 'error' });
      metrics.errors.inc({ reason: e.reason ?? (e.code ? String(e.code) : 'Error') });
      log.warn({ key, err: (err as Error).message ?? String(err) }, 'reconcile failed');
      throw err;
    } finally {
      end();
    }
  };

  let running: Promise<void> | undefined;
  const startWork = () => {
    if (working) return;
    working = true;
    metrics.leader.set(1);
    queue = newQueue();
    local.startWatches();
    crWatch.start();
    running = queue.run(handle, options.concurrency ?? 4);
  };
  const stopWork = () => {
    if (!working) return;
    working = false;
    metrics.leader.set(0);
    crWatch.stop();
    local.stop();
    reconciler.stop();
    queue.shutDown();
  };

  let elector: LeaderElector | undefined;
  if (options.leaderElect) {
    elector = new LeaderElector({
      kc,
      namespace: options.leaseNamespace ?? options.namespace ?? 'default',
      name: options.leaseName ?? 'xapi-operator',
      identity: options.identity ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      leaseDurationSeconds: options.leaseDurationSeconds,
      onStart: startWork,
      // A replica that lost the lease stops; its process manager restarts it as a follower.
      onStop: stopWork,
      log: (msg, extra) => log.info({ ...extra }, msg),
    });
    elector.start();
  } else startWork();

  const servers: Server[] = [];
  let metricsPort: number | undefined;
  let healthPort: number | undefined;
  if (options.metricsPort !== -1) {
    const s = createServer((req, res) => {
      if (req.url?.startsWith('/metrics')) {
        metrics.queueDepth.set(queue.depth);
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
        // A follower is ready (it is waiting for the lease); a leader once its caches are filled.
        const ready = !working || (crWatch.synced && local.synced);
        res.writeHead(ready ? 200 : 503).end(ready ? 'ok\n' : 'caches not synced\n');
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
      if (elector) await elector.stop();
      stopWork();
      await running;
      await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
    },
  };
}
