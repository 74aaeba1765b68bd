/**
 * The metrics a call feeds when it leaves the pipeline: its count by outcome, its durations
 * (the whole call; the server's part; the wait for a process; what is left, the gateway's own
 * time), its policy denial and its guard findings. Everything comes from the call's notes, which
 * the stages filled in; nothing else writes these series.
 *
 * Label values are bounded: the method is one of MCP's (else `other`), the server one of the
 * config's, the outcome one of the audit's (a fixed set plus the error registry's codes), the
 * tool only a tool the router resolved to a server that lists it (never what a client typed),
 * and tenants and tools are capped ({@link LabelCap}) or left out, as `gateway.metrics` says.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Call } from '../guard/pipeline.ts';
import type { LabelCap } from './label-cap.ts';

/** Methods that reach the pipeline and get their own label value. */
const METHODS: ReadonlySet<string> = new Set([
  'tools/call',
  'tools/list',
  'prompts/get',
  'prompts/list',
  'resources/read',
  'resources/list',
  'resources/templates/list',
  'resources/subscribe',
  'resources/unsubscribe',
  'completion/complete',
  'tasks/get',
  'tasks/list',
  'tasks/result',
  'tasks/cancel',
]);

/** Seconds. From 1 ms (a cached list) to a minute (a tool's default call timeout). */
const CALL_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** The gateway's own time is counted in tens of microseconds. */
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];
const WAIT_BUCKETS = [0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30];

type Labels = Record<string, string>;

export class CallMetrics {
  readonly #requests: Counter;
  readonly #duration: Histogram;
  readonly #upstream: Histogram;
  readonly #overhead: Histogram;
  readonly #poolWait: Histogram;
  readonly #denials: Counter;
  readonly #findings: Counter;
  readonly #tenants: LabelCap | undefined;
  readonly #tools: LabelCap | undefined;

  /** `tenants` and `tools` are the capped labels; an absent one is left out of every series. */
  constructor(registry: Registry, caps: { tenants: LabelCap | undefined; tools: LabelCap | undefined }) {
    this.#tenants = caps.tenants;
    this.#tools = caps.tools;
    const tenant = this.#tenants ? ['tenant'] : [];
    const tool = this.#tools ? ['tool'] : [];
    const call = [...tenant, 'server', 'method', ...tool];
    const registers = [registry];
    this.#requests = new Counter({
      name: 'mcplane_mcp_requests_total',
      help: 'MCP requests through the call pipeline, by how they ended (outcome: ok, tool-error, upstream-error, cancelled, or the gateway error code).',
      labelNames: [...call, 'outcome'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'mcplane_mcp_request_duration_seconds',
      help: 'Whole time of an MCP request in the gateway, from entering the pipeline to its reply.',
      labelNames: call,
      buckets: CALL_BUCKETS,
      registers,
    });
    this.#upstream = new Histogram({
      name: 'mcplane_mcp_upstream_duration_seconds',
      help: 'Time of the exchange with the server process (request written to reply read), for requests forwarded to one.',
      labelNames: call,
      buckets: CALL_BUCKETS,
      registers,
    });
    this.#overhead = new Histogram({
      name: 'mcplane_mcp_gateway_overhead_seconds',
      help: "The gateway's own time of a request: its whole time less the upstream exchange and the wait for a process.",
      labelNames: ['server', 'method'],
      buckets: OVERHEAD_BUCKETS,
      registers,
    });
    this.#poolWait = new Histogram({
      name: 'mcplane_pool_wait_seconds',
      help: 'Time a forwarded request waited for a process: a free slot in the pool, or its session-mode process.',
      labelNames: [...tenant, 'server'],
      buckets: WAIT_BUCKETS,
      registers,
    });
    this.#denials = new Counter({
      name: 'mcplane_policy_denials_total',
      help: 'Calls a policy rule denied (mode enforce: refused; mode dry-run: let through and recorded).',
      labelNames: [...tenant, 'server', 'rule', 'mode'],
      registers,
    });
    this.#findings = new Counter({
      name: 'mcplane_guard_findings_total',
      help: 'Guard findings on arguments and results, by detector and the action taken (block, redact, flag).',
      labelNames: [...tenant, 'server', 'detector', 'action'],
      registers,
    });
  }

  /** Counts a call that has ended, from its notes. */
  /**
   * Requests counted so far, and those that did not end `ok` (cancellations aside): what the
   * admin status reports, for rates over two readings.
   */
  async totals(): Promise<{ requests: number; errors: number }> {
    let requests = 0;
    let errors = 0;
    for (const { value, labels } of (await this.#requests.get()).values) {
      requests += value;
      if (labels.outcome !== 'ok' && labels.outcome !== 'cancelled') errors += value;
    }
    return { requests, errors };
  }

  record(call: Call, outcome: string, totalMs: number): void {
    const server = call.target?.server ?? '';
    const tenant = this.#tenants?.value(call.session.principal.tenantId);
    const labels: Labels = {};
    if (tenant !== undefined) labels.tenant = tenant;
    labels.server = server;
    labels.method = METHODS.has(call.method) ? call.method : 'other';
    if (this.#tools) {
      const tool = call.method === 'tools/call' ? call.target?.tool : undefined;
      labels.tool = tool === undefined ? '' : this.#tools.value(tool);
    }
    this.#requests.inc({ ...labels, outcome });
    this.#duration.observe(labels, totalMs / 1000);
    const { upstreamMs, poolWaitMs, decision, findings } = call.notes;
    if (upstreamMs !== undefined) this.#upstream.observe(labels, upstreamMs / 1000);
    const own = totalMs - (upstreamMs ?? 0) - (poolWaitMs ?? 0);
    this.#overhead.observe({ server, method: labels.method }, Math.max(0, own) / 1000);
    const owner: Labels = tenant === undefined ? { server } : { tenant, server };
    if (poolWaitMs !== undefined) this.#poolWait.observe(owner, poolWaitMs / 1000);
    if (decision?.effect === 'deny')
      this.#denials.inc({ ...owner, rule: decision.rule, mode: decision.mode });
    for (const finding of findings) {
      this.#findings.inc({ ...owner, detector: finding.detector, action: finding.action });
    }
  }
}
