/**
 * The resilience layer's metrics, read from its live state at scrape time: each circuit
 * breaker's state, and the running totals of breaker refusals, retries, fallbacks and stale
 * copies served, by server.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { BreakerState } from '../resilience/breakers.ts';
import type { ResilienceTotals } from '../resilience/resilience.ts';
import type { LabelCap } from './label-cap.ts';

export type ResilienceReadings = {
  breakers?(): Iterable<{ readonly server: string; readonly tenant: string; readonly state: BreakerState }>;
  /** Totals by server, and refusals by an open breaker by server. */
  resilience?(): ReadonlyMap<string, Readonly<ResilienceTotals>>;
  breakerRejections?(): ReadonlyMap<string, number>;
};

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

export function registerResilienceCollectors(
  registry: Registry,
  readings: ResilienceReadings,
  tenants: LabelCap | undefined,
): void {
  const registers = [registry];
  new Gauge({
    name: 'mcplane_circuit_breaker_state',
    help: 'Circuit breaker state per server (and tenant, with the tenant label): 0 closed, 1 half-open, 2 open; without the tenant label, the worst over tenants.',
    labelNames: ['server', ...(tenants ? ['tenant'] : [])],
    registers,
    collect() {
      const worst = new Map<string, { labels: Record<string, string>; value: number }>();
      for (const { server, tenant, state } of readings.breakers?.() ?? []) {
        const labels: Record<string, string> = tenants
          ? { server, tenant: tenants.value(tenant) }
          : { server };
        const key = JSON.stringify(labels);
        const value = STATE_VALUE[state];
        if ((worst.get(key)?.value ?? -1) < value) worst.set(key, { labels, value });
      }
      this.reset();
      for (const { labels, value } of worst.values()) this.set(labels, value);
    },
  });
  new Counter({
    name: 'mcplane_circuit_breaker_rejections_total',
    help: 'Calls refused at once (BREAKER_OPEN) because their circuit breaker was open.',
    labelNames: ['server'],
    registers,
    collect() {
      this.reset();
      for (const [server, count] of readings.breakerRejections?.() ?? []) this.inc({ server }, count);
    },
  });
  const total = (name: string, help: string, read: (totals: Readonly<ResilienceTotals>) => number): void => {
    new Counter({
      name,
      help,
      labelNames: ['server'],
      registers,
      collect() {
        this.reset();
        for (const [server, totals] of readings.resilience?.() ?? []) this.inc({ server }, read(totals));
      },
    });
  };
  total('mcplane_retries_total', 'Retries of calls after a gateway-side failure.', (t) => t.retries);
  total(
    'mcplane_retries_refused_total',
    'Retries not made because the server’s retry budget (at most 10% of calls) was spent.',
    (t) => t.retriesRefused,
  );
  total('mcplane_fallbacks_total', 'Calls served by a fallback server.', (t) => t.fallbacks);
  total(
    'mcplane_stale_served_total',
    'Calls served from a stale copy while the server was down.',
    (t) => t.staleServed,
  );
}
