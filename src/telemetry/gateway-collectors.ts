/**
 * Metrics read from the gateway's live state when Prometheus scrapes, not written as things
 * happen: open sessions, what each pool holds, the running totals of each server's processes,
 * and the audit log's backlog. Reading costs nothing between scrapes, and the state itself stays
 * the only source of truth.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AuditBacklog } from '../audit/audit-log.ts';
import type { ProcessCounts } from '../upstream/process-counts.ts';
import type { PoolReading } from '../upstream/upstream-server.ts';
import type { LabelCap } from './label-cap.ts';
import { registerResilienceCollectors, type ResilienceReadings } from './resilience-collectors.ts';

/** What the collectors read of the gateway, at scrape time. */
export type GatewayReadings = ResilienceReadings & {
  /** Open sessions, by face and tenant. */
  sessionCounts(): Iterable<{ readonly face: string; readonly tenant: string; readonly count: number }>;
  /** The servers in the config now, by name. */
  pools(): Iterable<readonly [server: string, readings: readonly PoolReading[]]>;
  /** Each server name's running totals (kept across reloads, so counters never go down). */
  processCounts(): Iterable<readonly [server: string, counts: Readonly<ProcessCounts>]>;
  /** The audit log's backlog, when there is an audit log. */
  auditBacklog(): AuditBacklog | undefined;
};

type Labels = Record<string, string>;

/** Sums values per label set, so that series merged by a dropped tenant label add up. */
class Sums {
  readonly #sums = new Map<string, { labels: Labels; value: number }>();

  add(labels: Labels, value: number): void {
    const key = JSON.stringify(labels);
    const entry = this.#sums.get(key);
    if (entry) entry.value += value;
    else this.#sums.set(key, { labels, value });
  }

  into(gauge: Gauge): void {
    gauge.reset();
    for (const { labels, value } of this.#sums.values()) gauge.set(labels, value);
  }
}

export function registerGatewayCollectors(
  registry: Registry,
  readings: GatewayReadings,
  tenants: LabelCap | undefined,
): void {
  const registers = [registry];
  const tenant = tenants ? ['tenant'] : [];
  /** The owner labels of a tenant's pool, or of a shared one (tenant ""). */
  const owner = (server: string, tenantId: string | undefined): Labels =>
    tenants ? { server, tenant: tenantId === undefined ? '' : tenants.value(tenantId) } : { server };

  new Gauge({
    name: 'mcplane_sessions_open',
    help: 'Client sessions open, by face (streamable-http, legacy-sse, stdio).',
    labelNames: ['face', ...tenant],
    registers,
    collect() {
      const sums = new Sums();
      for (const { face, tenant: id, count } of readings.sessionCounts()) {
        sums.add(tenants ? { face, tenant: tenants.value(id) } : { face }, count);
      }
      sums.into(this);
    },
  });

  /** A gauge summed over every pool at scrape time; `fill` adds one pool's values. */
  const poolGauge = (
    name: string,
    help: string,
    extraLabels: readonly string[],
    fill: (sums: Sums, labels: Labels, pool: PoolReading) => void,
  ): Gauge =>
    new Gauge({
      name,
      help,
      labelNames: ['server', ...tenant, ...extraLabels],
      registers,
      collect() {
        const sums = new Sums();
        for (const [server, pools] of readings.pools()) {
          for (const pool of pools) fill(sums, owner(server, pool.tenant), pool);
        }
        sums.into(this);
      },
    });
  poolGauge(
    'mcplane_pool_processes',
    'Live server processes, by state: ready, starting; in session mode also dedicated and spare (both counted in ready).',
    ['state'],
    (sums, labels, pool) => {
      sums.add({ ...labels, state: 'ready' }, pool.ready);
      sums.add({ ...labels, state: 'starting' }, pool.starting);
      if (pool.dedicated !== undefined) sums.add({ ...labels, state: 'dedicated' }, pool.dedicated);
      if (pool.spares !== undefined) sums.add({ ...labels, state: 'spare' }, pool.spares);
    },
  );
  poolGauge(
    'mcplane_pool_inflight',
    'Requests in flight on the processes of a pool.',
    [],
    (sums, labels, pool) => sums.add(labels, pool.inflight),
  );
  poolGauge(
    'mcplane_pool_queue_depth',
    'Requests waiting for a free process slot.',
    [],
    (sums, labels, pool) => sums.add(labels, pool.queued),
  );
  poolGauge(
    'mcplane_pool_queue_capacity',
    'How many requests may wait (servers.<name>.pool.queue.max, per pool); past it requests are refused with POOL_QUEUE_FULL.',
    [],
    (sums, labels, pool) => sums.add(labels, pool.queueLimit),
  );

  registerProcessCounters(registry, readings);
  registerAuditGauges(registry, readings);
  registerResilienceCollectors(registry, readings, tenants);
}

function registerProcessCounters(registry: Registry, readings: GatewayReadings): void {
  const registers = [registry];
  const perServer = (
    name: string,
    help: string,
    read: (counts: Readonly<ProcessCounts>) => number,
  ): Counter =>
    new Counter({
      name,
      help,
      labelNames: ['server'],
      registers,
      collect() {
        this.reset();
        for (const [server, counts] of readings.processCounts()) this.inc({ server }, read(counts));
      },
    });
  perServer(
    'mcplane_pool_spawns_total',
    'Server processes spawned (warm spares and admin probes included).',
    (c) => c.spawned,
  );
  perServer(
    'mcplane_pool_restarts_total',
    'Processes started to replace one that died (a crash, an exit the gateway did not ask for).',
    (c) => c.restarts,
  );
  perServer(
    'mcplane_unattributable_messages_total',
    'Server-to-client requests and notifications refused or dropped because no session could be found for them.',
    (c) => c.unattributable,
  );
  perServer(
    'mcplane_dropped_logs_total',
    'Log messages a process shared across tenants sent on its own, dropped rather than shown to any tenant.',
    (c) => c.droppedLogs,
  );
  new Counter({
    name: 'mcplane_pool_exits_total',
    help: 'Server processes that exited: stopped (by the gateway), crashed (on their own, after starting), start_failed (before they were ready).',
    labelNames: ['server', 'reason'],
    registers,
    collect() {
      this.reset();
      for (const [server, counts] of readings.processCounts()) {
        this.inc({ server, reason: 'stopped' }, counts.stopped);
        this.inc({ server, reason: 'crashed' }, counts.crashed);
        this.inc({ server, reason: 'start_failed' }, counts.startFailed);
      }
    },
  });
}

function registerAuditGauges(registry: Registry, readings: GatewayReadings): void {
  const registers = [registry];
  const audit = (name: string, help: string, read: (backlog: AuditBacklog) => number): Gauge =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const backlog = readings.auditBacklog();
        this.set(backlog ? read(backlog) : 0);
      },
    });
  const counter = (name: string, help: string, read: (backlog: AuditBacklog) => number): Counter =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        const backlog = readings.auditBacklog();
        this.reset();
        this.inc(backlog ? read(backlog) : 0);
      },
    });
  audit(
    'mcplane_audit_backlog_records',
    'Audit records appended and not yet written (0 when the audit log is off).',
    (b) => b.records,
  );
  audit(
    'mcplane_audit_backlog_limit',
    'Most records the audit log holds in memory (gateway.audit.maxBacklog); past it events are counted as dropped.',
    (b) => b.limit,
  );
  counter('mcplane_audit_records_written_total', 'Audit records written to the sink.', (b) => b.written);
  counter(
    'mcplane_audit_dropped_total',
    'Audit events not kept because the backlog was full (each is counted in a dropped record).',
    (b) => b.dropped,
  );
  counter(
    'mcplane_audit_write_failures_total',
    'Failed writes to the audit sink (retried).',
    (b) => b.writeFailures,
  );
}
