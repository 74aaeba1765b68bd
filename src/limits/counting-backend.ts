/**
 * Where counts live: this process's memory, or Redis (shared by replicas) with this process's
 * memory behind it for when Redis cannot be reached and `gateway.redis.onError` is `open`.
 * A Redis failure is logged at most every {@link LOG_EVERY_MS} and counted in the metrics.
 */
import type { Redis } from 'ioredis';
import { GatewayError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { LimitEvents } from './limit-events.ts';

const LOG_EVERY_MS = 10_000;

export type CountingBackend = {
  /** Absent: counts live in this process only. */
  readonly redis?: Redis;
  readonly keyPrefix: string;
  readonly onError: 'open' | 'closed';
  /** The share of a budget one Redis request takes for this process (rate-leases.ts); 0: one per call. */
  readonly leaseFraction: number;
  readonly log: Logger;
  readonly events: LimitEvents;
  /**
   * Called when Redis failed a command; throws LIMITS_UNAVAILABLE when failing closed (`onError`
   * overrides the configured choice for this one failure).
   */
  failed(error: unknown, onError?: 'open' | 'closed'): void;
};

export function countingBackend(options: {
  redis?: Redis;
  keyPrefix: string;
  onError: 'open' | 'closed';
  leaseFraction?: number;
  log: Logger;
  events: LimitEvents;
}): CountingBackend {
  let loggedAt = 0;
  return {
    ...options,
    leaseFraction: options.leaseFraction ?? 0,
    failed(error, onError = options.onError) {
      options.events.backendError();
      const now = Date.now();
      if (now - loggedAt >= LOG_EVERY_MS) {
        loggedAt = now;
        options.log.warn(
          { err: error, onError },
          onError === 'open'
            ? 'Redis unreachable: limits and quotas count in this process only until it answers'
            : 'Redis unreachable: calls that need a count are refused until it answers',
        );
      }
      if (onError === 'closed') {
        throw new GatewayError('LIMITS_UNAVAILABLE', undefined, {
          data: { retryAfterMs: 1_000, retryAfterSeconds: 1 },
          cause: error,
        });
      }
    },
  };
}
