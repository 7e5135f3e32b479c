import { InvalidArgumentError, type Command } from 'commander';
import type { OperatorOptions } from '../../reconciler/operator.js';
import { checkKubeconfig } from '../kubeconfig.js';

// 0 and -1 both turn a server off (the CLI's meaning; startOperator itself takes -1 for off and
// 0 for a random port, which tests use).
const PORT_HELP = 'a port 1-65535, or 0 (or -1) to turn the server off';

function port(value: string): number {
  const n = /^-?[0-9]+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < -1 || n > 65535) throw new InvalidArgumentError(`not a port: ${value} (${PORT_HELP})`);
  return n <= 0 ? -1 : n;
}

function positive(value: string): number {
  const n = /^[0-9]+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`not a positive integer: ${value}`);
  return n;
}

/** A flag's value from the environment, read only when `operator` runs (other commands never fail on it). */
function fromEnv<T>(name: string, parse: (v: string) => T): T | undefined {
  const value = process.env[name];
  if (value === undefined || value === '') return undefined;
  try {
    return parse(value);
  } catch (err) {
    throw new Error(`${name}=${value}: ${(err as Error).message}`);
  }
}

/** The flags are the operator's own options (a type import: the operator loads only when it runs). */
type OperatorFlags = Pick<
  OperatorOptions,
  'kubeconfig' | 'namespace' | 'metricsPort' | 'healthPort' | 'leaderElect' | 'leaseName' | 'leaseNamespace' | 'concurrency' | 'urgentConcurrency' | 'resyncSeconds'
> & { requestTimeoutSeconds?: number };

export function registerOperator(program: Command): void {
  program
    .command('operator')
    .description('Run the controller: reconcile CrossAccountApi objects into ACK resources in both clusters')
    .option('--kubeconfig <path>', 'kubeconfig of the cluster holding the CrossAccountApi objects (env XAPI_KUBECONFIG, else KUBECONFIG, else ~/.kube/config, else in-cluster)')
    .option('--namespace <ns>', 'watch CrossAccountApi objects in this namespace only (env XAPI_NAMESPACE; default all)')
    .option('--metrics-port <port>', `Prometheus /metrics port, default 8080; 0 or -1 turns it off (env XAPI_METRICS_PORT)`, port)
    .option('--health-port <port>', `/healthz and /readyz port, default 8081; 0 or -1 turns it off (env XAPI_HEALTH_PORT)`, port)
    .option('--leader-elect', 'elect a leader on a Lease so only one replica works (env XAPI_LEADER_ELECT=true)')
    .option('--lease-name <name>', 'name of the Lease (env XAPI_LEASE_NAME; default xapi-operator)')
    .option('--lease-namespace <ns>', 'namespace of the Lease (env XAPI_LEASE_NAMESPACE or POD_NAMESPACE; default --namespace or "default")')
    .option('--concurrency <n>', 'CRs reconciled in parallel (env XAPI_CONCURRENCY; default 4)', positive)
    .option('--urgent-concurrency <n>', 'extra workers for rotated endpoints only, so a rotation never waits behind a backlog (env XAPI_URGENT_CONCURRENCY; default 128)', positive)
    .option('--resync-seconds <s>', 'reconcile every CR and relist every watch this often; no writes when nothing drifted (env XAPI_RESYNC_SECONDS; default 300)', positive)
    .option('--request-timeout-seconds <s>', 'timeout of every API request (env XAPI_REQUEST_TIMEOUT_SECONDS; default 30)', positive)
    .action(async (flags: OperatorFlags) => {
      const env = process.env;
      const bool = (v: string) => {
        if (v !== 'true' && v !== 'false') throw new Error('must be true or false');
        return v === 'true';
      };
      const opts = {
        kubeconfig: flags.kubeconfig ?? (env.XAPI_KUBECONFIG || undefined),
        namespace: flags.namespace ?? (env.XAPI_NAMESPACE || undefined),
        metricsPort: flags.metricsPort ?? fromEnv('XAPI_METRICS_PORT', port) ?? 8080,
        healthPort: flags.healthPort ?? fromEnv('XAPI_HEALTH_PORT', port) ?? 8081,
        leaderElect: flags.leaderElect ?? fromEnv('XAPI_LEADER_ELECT', bool) ?? false,
        leaseName: flags.leaseName ?? (env.XAPI_LEASE_NAME || 'xapi-operator'),
        leaseNamespace: flags.leaseNamespace ?? (env.XAPI_LEASE_NAMESPACE || env.POD_NAMESPACE || undefined),
        concurrency: flags.concurrency ?? fromEnv('XAPI_CONCURRENCY', positive) ?? 4,
        urgentConcurrency: flags.urgentConcurrency ?? fromEnv('XAPI_URGENT_CONCURRENCY', positive),
        resyncSeconds: flags.resyncSeconds ?? fromEnv('XAPI_RESYNC_SECONDS', positive) ?? 300,
        requestTimeoutMs: (flags.requestTimeoutSeconds ?? fromEnv('XAPI_REQUEST_TIMEOUT_SECONDS', positive) ?? 30) * 1000,
      };
      checkKubeconfig(opts.kubeconfig, flags.kubeconfig ? '--kubeconfig' : 'XAPI_KUBECONFIG');
      const { startOperator } = await import('../../reconciler/operator.js');
      const op = await startOperator({
        ...opts,
        identity: env.POD_NAME,
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
      // Stopped gracefully (work drained, Lease released): exit now rather than wait for idle
      // sockets and timers of libraries to let go.
      process.exit(0);
    });
}
