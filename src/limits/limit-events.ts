/**
 * What the limits tell telemetry: refusals, quota use and its alerts, and a counting backend
 * (Redis) that failed. The composition root joins it to the metrics; without metrics it is
 * {@link NO_LIMIT_EVENTS}.
 */
import type { LimitScope } from './rate-windows.ts';

/** `monthly-calls` is the tenant's monthly quota, `monthly-calls-per-key` a key's. */
export type QuotaKind = 'monthly-calls' | 'monthly-calls-per-key';

export type LimitEvents = {
  rateLimited(tenantId: string, scope: LimitScope): void;
  quotaExceeded(tenantId: string, quota: QuotaKind): void;
  /** The tenant's monthly quota's use, 0 to 1, after a counted call. */
  quotaUsage(tenantId: string, quota: QuotaKind, ratio: number): void;
  /** A quota's use crossed 80% (`0.8`) or reached 100% (`1`). */
  quotaAlert(tenantId: string, quota: QuotaKind, threshold: 0.8 | 1): void;
  backendError(): void;
};

export const NO_LIMIT_EVENTS: LimitEvents = {
  rateLimited: () => undefined,
  quotaExceeded: () => undefined,
  quotaUsage: () => undefined,
  quotaAlert: () => undefined,
  backendError: () => undefined,
};
