/**
 * The gateway's Prometheus registry (prom-client): the call metrics the pipeline feeds, the
 * collectors that read live state at scrape time, the limits' and the breakers' metrics. Each gateway has a registry of its own, never prom-client's global one, so that two
 * gateways in one process (tests, the bench) do not count into each other.
 *
 * prom-client rather than the OpenTelemetry Prometheus exporter: the gauges here are read from
 * live state on each scrape, which prom-client's `collect` does directly, and it costs one map
 * lookup per series per call; the OTel SDK's metrics pipeline (views, aggregation temporality,
 * a reader) buys nothing for a pull exporter and is not started at all when tracing is off.
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { CallMetrics } from './call-metrics.ts';
import { registerGatewayCollectors, type GatewayReadings } from './gateway-collectors.ts';
import { LabelCap } from './label-cap.ts';
import { LimitMetrics } from './limit-metrics.ts';
import type { MetricsSettings } from './telemetry-schema.ts';

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly calls: CallMetrics;
  readonly limits: LimitMetrics;
  #processMetrics = false;

  constructor(settings: MetricsSettings, readings: GatewayReadings, version: string) {
    const tenants = settings.tenantLabel ? new LabelCap(settings.maxTenants) : undefined;
    const tools = settings.toolLabel ? new LabelCap(settings.maxTools) : undefined;
    this.calls = new CallMetrics(this.registry, { tenants, tools });
    registerGatewayCollectors(this.registry, readings, tenants);
    this.limits = new LimitMetrics(this.registry, tenants);
    new Gauge({
      name: 'mcplane_build_info',
      help: 'Always 1; the version label says which mcplane is running.',
      labelNames: ['version'],
      registers: [this.registry],
    }).set({ version }, 1);
  }

  /**
   * Adds Node's own metrics (CPU, memory, event loop lag, GC) under `mcplane_`. For the process
   * that serves, once: they describe the process, not one gateway, and they start observers.
   */
  addProcessMetrics(): void {
    if (this.#processMetrics) return;
    this.#processMetrics = true;
    collectDefaultMetrics({ register: this.registry, prefix: 'mcplane_' });
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
