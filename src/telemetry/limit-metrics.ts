/**
 * The limits' metrics (docs/limits.md): refusals by rate limit and by quota, quota use and its
 * alerts, and failures of the counting backend (Redis). Fed by the limits through
 * {@link LimitEvents}; tenants are capped like the call metrics' (or left out).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LimitEvents, QuotaKind } from '../limits/limit-events.ts';
import type { LimitScope } from '../limits/rate-windows.ts';
import type { LabelCap } from './label-cap.ts';

export class LimitMetrics implements LimitEvents {
  readonly #rateLimited: Counter;
  readonly #quotaExceeded: Counter;
  readonly #quotaUsage: Gauge;
  readonly #quotaAlerts: Counter;
  readonly #backendErrors: Counter;
  readonly #tenants: LabelCap | undefined;

  constructor(registry: Registry, tenants: LabelCap | undefined) {
    this.#tenants = tenants;
    const tenant = tenants ? ['tenant'] : [];
    const registers = [registry];
    this.#rateLimited = new Counter({
      name: 'mcplane_rate_limit_rejections_total',
      help: 'Requests a rate limit refused (429), by scope: key, tenant, tool, or ip (failed authentications).',
      labelNames: [...tenant, 'scope'],
      registers,
    });
    this.#quotaExceeded = new Counter({
      name: 'mcplane_quota_rejections_total',
      help: 'Tool calls refused because a monthly quota was used up (quota: monthly-calls of the tenant, monthly-calls-per-key of a key).',
      labelNames: [...tenant, 'quota'],
      registers,
    });
    this.#quotaUsage = new Gauge({
      name: 'mcplane_quota_usage_ratio',
      help: "How much of the tenant's monthly call quota is used this month, 0 to 1 (set by each counted call).",
      labelNames: [...tenant, 'quota'],
      registers,
    });
    this.#quotaAlerts = new Counter({
      name: 'mcplane_quota_alerts_total',
      help: 'Times a monthly quota crossed 80% (threshold 0.8) or reached 100% (threshold 1), of a tenant or of a key.',
      labelNames: [...tenant, 'quota', 'threshold'],
      registers,
    });
    this.#backendErrors = new Counter({
      name: 'mcplane_limit_backend_errors_total',
      help: 'Redis commands of the limits that failed (gateway.redis.onError decides what the call got).',
      registers,
    });
  }

  rateLimited(tenantId: string, scope: LimitScope): void {
    this.#rateLimited.inc(this.#labels(tenantId, { scope }));
  }

  quotaExceeded(tenantId: string, quota: QuotaKind): void {
    this.#quotaExceeded.inc(this.#labels(tenantId, { quota }));
  }

  quotaUsage(tenantId: string, quota: QuotaKind, ratio: number): void {
    this.#quotaUsage.set(this.#labels(tenantId, { quota }), ratio);
  }

  quotaAlert(tenantId: string, quota: QuotaKind, threshold: 0.8 | 1): void {
    this.#quotaAlerts.inc(this.#labels(tenantId, { quota, threshold: String(threshold) }));
  }

  backendError(): void {
    this.#backendErrors.inc();
  }

  #labels(tenantId: string, labels: Record<string, string>): Record<string, string> {
    // An IP refusal has no tenant: it is counted under the empty one.
    return this.#tenants
      ? { tenant: tenantId === '' ? '' : this.#tenants.value(tenantId), ...labels }
      : labels;
  }
}
