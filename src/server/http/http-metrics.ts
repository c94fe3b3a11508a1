/**
 * `GET /metrics`: Prometheus text from a Registry of this server's own (two servers in one process
 * never share counters). Runs by status, the queue depth and notification deliveries by status are
 * read from the catalog when scraped; queries are counted and timed as they are answered.
 *
 * No token: Prometheus scrapes without one, and nothing here names a table, a principal or a value
 * (labels are statuses, outcomes and the face). Put the port behind the network policy that guards
 * the rest of serve.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ServerHandle } from '../../platform.ts';

/** How a query ended, as the metrics count it. */
export type QueryOutcomeLabel = 'allowed' | 'refused' | 'failed' | 'cancelled' | 'timeout';

const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'] as const;
const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;

export class HttpMetrics {
  readonly registry = new Registry();
  readonly #queries: Counter<'face' | 'outcome'>;
  readonly #latency: Histogram<'face'>;

  constructor(handle: ServerHandle) {
    const registry = this.registry;
    new Gauge({
      name: 'tessera_runs',
      help: 'Runs recorded in the catalog, by status',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        const counts = new Map<string, number>(RUN_STATUSES.map((status) => [status, 0]));
        for (const run of await handle.platform.catalog.runs())
          counts.set(run.status, (counts.get(run.status) ?? 0) + 1);
        for (const [status, count] of counts) this.set({ status }, count);
      },
    });
    new Gauge({
      name: 'tessera_run_queue_depth',
      help: 'Runs queued and not started',
      registers: [registry],
      async collect() {
        this.set((await handle.platform.catalog.runs({ status: 'queued' })).length);
      },
    });
    new Gauge({
      name: 'tessera_notification_deliveries',
      help: 'Notification deliveries, by status',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        const counts = new Map<string, number>(DELIVERY_STATUSES.map((status) => [status, 0]));
        for (const delivery of await handle.platform.catalog.deliveries()) {
          counts.set(delivery.status, (counts.get(delivery.status) ?? 0) + 1);
        }
        for (const [status, count] of counts) this.set({ status }, count);
      },
    });
    this.#queries = new Counter({
      name: 'tessera_queries_total',
      help: 'Governed queries answered, by face and outcome',
      labelNames: ['face', 'outcome'],
      registers: [registry],
    });
    this.#latency = new Histogram({
      name: 'tessera_query_duration_seconds',
      help: 'Governed query latency from arrival to the answer starting, by face',
      labelNames: ['face'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    });
  }

  /** Count one query of the HTTP face and its latency in seconds. */
  query(outcome: QueryOutcomeLabel, seconds: number): void {
    this.#queries.inc({ face: 'http', outcome });
    this.#latency.observe({ face: 'http' }, seconds);
  }
}
