// Prometheus metrics of the operator, on a registry of its own so tests can run several.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({ name: 'xapi_reconcile_total', help: 'Reconciles run', labelNames: ['result'], registers: [this.registry] });
  readonly groupReconciles = new Counter({ name: 'xapi_endpoint_group_reconcile_total', help: 'Passes over an endpoint group (the endpoint and security group that the CRs of one VPC share)', registers: [this.registry] });
  readonly waiting = new Counter({ name: 'xapi_reconcile_waiting_total', help: 'Passes that did nothing because a cluster the CR needs has not been listed yet', registers: [this.registry] });
  readonly errors = new Counter({ name: 'xapi_reconcile_errors_total', help: 'Reconciles that failed', labelNames: ['reason'], registers: [this.registry] });
  readonly duration = new Histogram({ name: 'xapi_reconcile_duration_seconds', help: 'Time per reconcile', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'xapi_workqueue_depth', help: 'Keys waiting in the work queue', registers: [this.registry] });
  readonly rotationLatency = new Histogram({
    name: 'xapi_rotation_latency_seconds',
    help: 'From the watch event of the ACK status change that carried a new endpoint ID to the end of the writes that admit it (provider policy, the Deployment carrying it, the Stage moved to it)',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [this.registry],
  });
  readonly writes = new Counter({ name: 'xapi_api_writes_total', help: 'Writes sent to an API server, by what was written', labelNames: ['op'], registers: [this.registry] });
  readonly watchesLive = new Gauge({ name: 'xapi_watches_live', help: '1 while every watch the operator needs is listed and connected', registers: [this.registry] });
  readonly leader = new Gauge({ name: 'xapi_leader', help: '1 while this replica holds the lease', registers: [this.registry] });

  constructor(defaults = false) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }
}
