/**
 * Metrics the issue asks for whose source does not exist yet: rate limits and quotas are not
 * built (circuit breakers are: telemetry/resilience-collectors.ts). They are registered under their final names, so that the shipped
 * dashboard and alert rules can already refer to them and /metrics lists them, but they have no
 * series (only `# HELP` and `# TYPE`) until the stage that feeds them lands. That stage records
 * into these objects through the pipeline's notes like every other call metric.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export type PlaceholderMetrics = {
  readonly rateLimitRejections: Counter;
  readonly quotaRejections: Counter;
  readonly quotaUsage: Gauge;
};

export function registerPlaceholderMetrics(registry: Registry, tenantLabel: boolean): PlaceholderMetrics {
  const registers = [registry];
  const tenant = tenantLabel ? ['tenant'] : [];
  return {
    rateLimitRejections: new Counter({
      name: 'mcplane_rate_limit_rejections_total',
      help: 'Calls refused by a rate limit. Placeholder: rate limits are not built yet, so there are no series.',
      labelNames: [...tenant, 'server'],
      registers,
    }),
    quotaRejections: new Counter({
      name: 'mcplane_quota_rejections_total',
      help: 'Calls refused because a quota was used up. Placeholder: quotas are not built yet, so there are no series.',
      labelNames: [...tenant, 'quota'],
      registers,
    }),
    quotaUsage: new Gauge({
      name: 'mcplane_quota_usage_ratio',
      help: 'How much of a quota is used in its current window, 0 to 1. Placeholder: quotas are not built yet, so there are no series.',
      labelNames: [...tenant, 'quota'],
      registers,
    }),
  };
}
