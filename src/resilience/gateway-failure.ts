/**
 * Which failures are the gateway's side of a call going wrong (the server could not be reached,
 * timed out, exited, or its pool could not take the call) as opposed to the server answering.
 * Only these count against a circuit breaker, and only the transient ones are retried. An
 * upstream JSON-RPC error or an `isError` result is the server's answer: it is data, it passes
 * through unchanged and never trips a breaker (STYLE.md, "Errors").
 */
import { GatewayError, type ErrorCode } from '../errors.ts';

/** Failures that count against the (server, tenant) breaker. */
const BREAKER_FAILURES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_EXITED',
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_MESSAGE_TOO_LARGE',
  'POOL_QUEUE_FULL',
  'POOL_QUEUE_TIMEOUT',
]);

/**
 * Failures worth another attempt: a fresh process or a moment later may succeed. An oversized
 * answer would be as large again, and a full queue is load the retry would only add to.
 */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_EXITED',
  'UPSTREAM_TIMEOUT',
  'POOL_QUEUE_TIMEOUT',
]);

export function isGatewayFailure(error: unknown): error is GatewayError {
  return error instanceof GatewayError && BREAKER_FAILURES.has(error.code);
}

export function isTransientFailure(error: unknown): error is GatewayError {
  return error instanceof GatewayError && TRANSIENT.has(error.code);
}
