import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per app instance (no global default registry), so tests and
 * several apps in one process never share counters.
 */
export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  /** Register a gauge whose value is read when /metrics is scraped. */
  gauge(name: string, help: string, read: () => Promise<number> | number): void;
  /** Register a labelled gauge read at scrape time. */
  labelledGauge<L extends string>(
    name: string,
    help: string,
    labels: L[],
    read: () => Promise<{ labels: Record<L, string>; value: number }[]>,
  ): void;
  counter<L extends string>(name: string, help: string, labels: L[]): Counter<L>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'shuxiang_' });
  const httpRequests = new Counter({
    name: 'shuxiang_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'shuxiang_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return {
    registry,
    httpRequests,
    httpDuration,
    gauge(name, help, read) {
      new Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          this.set(await read());
        },
      });
    },
    labelledGauge(name, help, labels, read) {
      new Gauge({
        name,
        help,
        labelNames: labels,
        registers: [registry],
        async collect() {
          this.reset();
          for (const r of await read()) this.set(r.labels, r.value);
        },
      });
    },
    counter(name, help, labels) {
      return new Counter({ name, help, labelNames: labels, registers: [registry] });
    },
  };
}
