/**
 * Metering's own health on /metrics, read at scrape time: records queued, written and dropped,
 * failed writes, and CPU seconds charged and left unattributed (docs/metering.md).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Meter } from './meter.ts';

function counter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

export function registerUsageMetrics(registry: Registry, meter: Meter): void {
  new Gauge({
    name: 'mcplane_usage_events_buffered',
    help: 'Usage records waiting in memory to be written to the store.',
    registers: [registry],
    collect() {
      this.set(meter.stats().buffered);
    },
  });
  counter(
    registry,
    'mcplane_usage_events_written_total',
    'Usage records written to the store.',
    () => meter.stats().written,
  );
  counter(
    registry,
    'mcplane_usage_events_dropped_total',
    'Usage records lost: the metering buffer was full (store slow or down), or the store was down at shutdown.',
    () => meter.stats().dropped,
  );
  counter(
    registry,
    'mcplane_usage_write_failures_total',
    'Batches of usage records the store refused (retried while they fit in the buffer).',
    () => meter.stats().failedWrites,
  );
  counter(
    registry,
    'mcplane_cost_cpu_seconds_total',
    "Upstream processes' CPU seconds charged to tenants.",
    () => meter.stats().chargedCpuSeconds,
  );
  counter(
    registry,
    'mcplane_cost_unattributed_cpu_seconds_total',
    'CPU seconds of shared processes with nothing in flight (startup, idling): charged to no tenant.',
    () => meter.stats().unattributedCpuSeconds,
  );
}
