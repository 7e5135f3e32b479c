import { InvalidArgumentError, type Command } from 'commander';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < -1 || n > 65535) throw new InvalidArgumentError(`not a port: ${value}`);
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`not a positive integer: ${value}`);
  return n;
}

export function registerOperator(program: Command): void {
  const env = process.env;
  program
    .command('operator')
    .description('Run the controller: reconcile CrossAccountApi objects into ACK resources in both clusters')
    .option('--kubeconfig <path>', 'kubeconfig of the cluster holding the CrossAccountApi objects (env XAPI_KUBECONFIG, else KUBECONFIG, else in-cluster)', env.XAPI_KUBECONFIG)
    .option('--namespace <ns>', 'watch CrossAccountApi objects in this namespace only (env XAPI_NAMESPACE; default all)', env.XAPI_NAMESPACE)
    .option('--metrics-port <port>', 'Prometheus /metrics port, -1 to disable (env XAPI_METRICS_PORT)', port, env.XAPI_METRICS_PORT ? port(env.XAPI_METRICS_PORT) : 8080)
    .option('--health-port <port>', '/healthz and /readyz port, -1 to disable (env XAPI_HEALTH_PORT)', port, env.XAPI_HEALTH_PORT ? port(env.XAPI_HEALTH_PORT) : 8081)
    .option('--leader-elect', 'elect a leader on a Lease so only one replica works (env XAPI_LEADER_ELECT=true)', env.XAPI_LEADER_ELECT === 'true')
    .option('--lease-name <name>', 'name of the Lease (env XAPI_LEASE_NAME)', env.XAPI_LEASE_NAME ?? 'xapi-operator')
    .option('--lease-namespace <ns>', 'namespace of the Lease (env XAPI_LEASE_NAMESPACE or POD_NAMESPACE; default --namespace or "default")', env.XAPI_LEASE_NAMESPACE ?? env.POD_NAMESPACE)
    .option('--concurrency <n>', 'CRs reconciled in parallel (env XAPI_CONCURRENCY)', positive, env.XAPI_CONCURRENCY ? positive(env.XAPI_CONCURRENCY) : 4)
    .option('--resync-seconds <s>', 'reconcile every CR and relist every watch this often; no writes when nothing drifted (env XAPI_RESYNC_SECONDS)', positive, env.XAPI_RESYNC_SECONDS ? positive(env.XAPI_RESYNC_SECONDS) : 300)
    .option('--request-timeout-seconds <s>', 'timeout of every API request (env XAPI_REQUEST_TIMEOUT_SECONDS)', positive, env.XAPI_REQUEST_TIMEOUT_SECONDS ? positive(env.XAPI_REQUEST_TIMEOUT_SECONDS) : 30)
    .action(async (opts: { kubeconfig?: string; namespace?: string; metricsPort: number; healthPort: number; leaderElect: boolean; leaseName: string; leaseNamespace?: string; concurrency: number; resyncSeconds: number; requestTimeoutSeconds: number }) => {
      const { startOperator } = await import('../../reconciler/operator.js');
      const op = await startOperator({
        kubeconfig: opts.kubeconfig,
        namespace: opts.namespace,
        metricsPort: opts.metricsPort,
        healthPort: opts.healthPort,
        leaderElect: opts.leaderElect,
        leaseName: opts.leaseName,
        leaseNamespace: opts.leaseNamespace,
        concurrency: opts.concurrency,
        identity: env.POD_NAME,
        resyncSeconds: opts.resyncSeconds,
        requestTimeoutMs: opts.requestTimeoutSeconds * 1000,
        // A replica that lost the lease must not go on: exit, and its Deployment restarts it as a follower.
        onLostLeadership: () => {
          process.stderr.write('xapi operator: lost the leader lease; exiting\n');
          process.exit(1);
        },
      });
      await new Promise<void>((resolve) => {
        const stop = () => {
          void op.stop().then(resolve);
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });
}
