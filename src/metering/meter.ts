/**
 * Metering, as the composition root sees it: the meter stage's events, the sampling requests
 * servers send to clients, and the cost sampler, all into one bounded buffer that the store's
 * `usage.record` drains (docs/metering.md). Built only with a store: without one there is nowhere
 * to keep usage.
 */
import type { Logger } from '../log.ts';
import type { Call } from '../guard/pipeline.ts';
import type { CostCharge, UsageEvent } from '../store/usage-records.ts';
import { CostLedger, type ProcessReading } from './cost-ledger.ts';
import type { CostWeights, MeteringSettings } from './metering-schema.ts';
import { treeCpuSeconds } from './process-cpu.ts';
import { UsageBuffer, type UsageBufferStats } from './usage-buffer.ts';
import { isoNow } from '../iso-time.ts';
import { apiKeyIdOf, byteSize, statusCodeOf, usageEventOf } from './usage-event.ts';

export type MeterOptions = {
  readonly settings: MeteringSettings;
  readonly log: Logger;
  write(events: readonly UsageEvent[], charges: readonly CostCharge[]): Promise<void>;
  /** The project of a stored API key, if it has one. */
  projectOf(apiKeyId: string): string | undefined;
  /** A server's `cost:` weights now (a reload may change them). */
  costOf(server: string): CostWeights | undefined;
  /** Every live upstream process, for the cost sampler. */
  processes(): Iterable<ProcessReading>;
  /** Epoch ms; tests inject a clock. */
  now?: () => number;
  cpuSeconds?: (pid: number) => number | undefined;
};

export type MeterStats = UsageBufferStats & {
  readonly chargedCpuSeconds: number;
  readonly unattributedCpuSeconds: number;
};

type CallEnd = Parameters<typeof usageEventOf>[0];

export class Meter {
  readonly #options: MeterOptions;
  readonly #buffer: UsageBuffer;
  readonly #ledger: CostLedger;
  readonly #sampler: NodeJS.Timeout;

  constructor(options: MeterOptions) {
    this.#options = options;
    this.#buffer = new UsageBuffer(
      (events, charges) => options.write(events, charges),
      options.settings,
      options.log,
    );
    const now = options.now ?? Date.now;
    this.#ledger = new CostLedger({
      readings: () => options.processes(),
      cpuSeconds: options.cpuSeconds ?? treeCpuSeconds,
      perCpuSecond: (server) => options.costOf(server)?.perCpuSecond ?? 0,
      now,
    });
    this.#sampler = setInterval(() => this.sample(), options.settings.costSampleInterval);
    this.#sampler.unref();
  }

  stats(): MeterStats {
    return { ...this.#buffer.stats(), ...this.#ledger.totals() };
  }

  /** The meter stage's end of a call. Never throws: a metering fault must not fail the call. */
  record(end: CallEnd): void {
    try {
      const apiKeyId = apiKeyIdOf(end.call.session.principal.subject);
      const server = end.call.target?.server;
      this.#buffer.add(
        usageEventOf(end, {
          projectId: apiKeyId === undefined ? undefined : this.#options.projectOf(apiKeyId),
          perCall: server === undefined ? 0 : (this.#options.costOf(server)?.perCall ?? 0),
        }),
      );
    } catch (err) {
      this.#options.log.warn({ err }, 'could not meter a call');
    }
  }

  /** A server's sampling request, relayed to a session's client and answered (or not). */
  recordSampling(asked: {
    readonly server: string;
    readonly tenantId: string;
    readonly subject: string;
    readonly latencyMs: number;
    readonly ok: boolean;
    readonly params: unknown;
    readonly result: unknown;
  }): void {
    try {
      const apiKeyId = apiKeyIdOf(asked.subject);
      const projectId = apiKeyId === undefined ? undefined : this.#options.projectOf(apiKeyId);
      const status = asked.ok ? 'ok' : 'client-error';
      this.#buffer.add({
        ts: isoNow(),
        tenantId: asked.tenantId,
        ...(projectId ? { projectId } : {}),
        ...(apiKeyId === undefined ? {} : { apiKeyId }),
        principal: asked.subject,
        server: asked.server,
        kind: 'sampling',
        tool: 'sampling/createMessage',
        latencyMs: Math.round(asked.latencyMs * 1000) / 1000,
        status,
        statusCode: asked.ok ? 200 : statusCodeOf('upstream-error'),
        // Sampling flows the other way: the server's request comes in, the client's answer goes out.
        bytesIn: byteSize(asked.params),
        bytesOut: asked.ok ? byteSize(asked.result) : 0,
        cost: asked.ok ? (this.#options.costOf(asked.server)?.perCall ?? 0) : 0,
      });
    } catch (err) {
      this.#options.log.warn({ err }, 'could not meter a sampling request');
    }
  }

  /** A call's exchange with a process begins; the returned function ends it. */
  exchange(call: Call, process: { readonly pid: number | undefined; readonly server: string }): () => void {
    if (process.pid === undefined) return () => undefined;
    const { principal } = call.session;
    const apiKeyId = apiKeyIdOf(principal.subject);
    return this.#ledger.begin(process.pid, {
      tenantId: principal.tenantId,
      server: process.server,
      tool: call.target?.tool ?? call.target?.prompt ?? call.target?.uri,
      apiKeyId,
      projectId: apiKeyId === undefined ? undefined : this.#options.projectOf(apiKeyId),
    });
  }

  /** Reads the processes' CPU now and queues the charges. */
  sample(): void {
    try {
      this.#buffer.charge(this.#ledger.sample());
    } catch (err) {
      this.#options.log.warn({ err }, 'could not sample process CPU');
    }
  }

  /** Writes what is queued now (tests, and the admin API before it reads usage). */
  flush(): Promise<void> {
    return this.#buffer.flush();
  }

  /** A last sample while the processes still run (call before stopping them). */
  finalSample(): void {
    clearInterval(this.#sampler);
    this.sample();
  }

  async close(): Promise<void> {
    clearInterval(this.#sampler);
    await this.#buffer.close();
  }
}
