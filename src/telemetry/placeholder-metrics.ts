/**
 * Metrics the issue asks for whose source does not exist yet: circuit breakers are not built.
 * They are registered under their final names, so that the shipped dashboard and alert rules can
 * already refer to them and /metrics lists them, but they have no series (only `# HELP` and
 * `# TYPE`) until the stage that feeds them lands. (The rate-limit and quota metrics are real
 * now: limit-metrics.ts.)
 */
import { Gauge, type Registry } from 'prom-client';

export type PlaceholderMetrics = {
  readonly breakerState: Gauge;
};

export function registerPlaceholderMetrics(registry: Registry): PlaceholderMetrics {
  const registers = [registry];
  return {
    breakerState: new Gauge({
      name: 'mcplane_circuit_breaker_state',
      help: 'Circuit breaker state per server: 0 closed, 1 half-open, 2 open. Placeholder: breakers are not built yet, so there are no series.',
      labelNames: ['server'],
      registers,
    }),
  };
}
