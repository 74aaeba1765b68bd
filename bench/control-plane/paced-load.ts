/**
 * An open-loop load over Streamable HTTP: calls leave at a fixed rate whether or not earlier
 * ones have answered (a closed loop would slow down exactly when the gateway stalls, and hide
 * it). Calls go round-robin over already open sessions. Bounded three ways: a most number of
 * calls, a most number in flight (a call that would pass it is skipped and counted, never
 * queued), and `stop()`.
 */
import { send, type Endpoint, type Exchange } from '../http/mcp-http-client.ts';
import { LatencySamples, since } from '../lib/stats.ts';

export type PacedLoadOptions = {
  readonly endpoint: Endpoint;
  readonly sessions: readonly string[];
  readonly ratePerSecond: number;
  readonly maxCalls: number;
  readonly maxInflight: number;
  readonly tool: string;
  readonly arguments: Record<string, unknown>;
};

export type LoadResult = {
  readonly sent: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Calls not sent because `maxInflight` were already waiting. */
  readonly skipped: number;
  readonly seconds: number;
  readonly latencies: LatencySamples;
  /** Why calls failed, with how many failed that way. */
  readonly failures: ReadonlyMap<string, number>;
};

const TICK_MS = 5;

/** What went wrong with one answer, or undefined when it was a successful tool result. */
export function failureOf(exchange: Exchange): string | undefined {
  if (exchange.status !== 200) return `HTTP ${exchange.status}`;
  const answer = exchange.answer;
  if (answer === undefined) return 'no JSON-RPC answer in the body';
  if (answer.error) return `JSON-RPC ${answer.error.code}: ${answer.error.message.slice(0, 120)}`;
  if (answer.result?.isError === true) {
    const content = answer.result.content as { text?: string }[] | undefined;
    return `tool error: ${String(content?.[0]?.text ?? '').slice(0, 120)}`;
  }
  return undefined;
}

export class PacedLoad {
  readonly #options: PacedLoadOptions;
  readonly #latencies = new LatencySamples();
  readonly #failures = new Map<string, number>();
  readonly #inflight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #started = 0n;
  #sent = 0;
  #succeeded = 0;
  #failed = 0;
  #skipped = 0;

  constructor(options: PacedLoadOptions) {
    if (options.sessions.length === 0) throw new Error('the load needs at least one session');
    this.#options = options;
  }

  start(): void {
    this.#started = process.hrtime.bigint();
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  /** Stops sending and waits for every call in flight to answer (each has its own timeout). */
  async stop(): Promise<LoadResult> {
    clearInterval(this.#timer);
    const seconds = since(this.#started) / 1e9;
    await Promise.allSettled([...this.#inflight]);
    return {
      sent: this.#sent,
      succeeded: this.#succeeded,
      failed: this.#failed,
      skipped: this.#skipped,
      seconds,
      latencies: this.#latencies,
      failures: this.#failures,
    };
  }

  #tick(): void {
    const { ratePerSecond, maxCalls, maxInflight } = this.#options;
    const due = Math.min(maxCalls, Math.floor((since(this.#started) / 1e9) * ratePerSecond));
    while (this.#sent + this.#skipped < due) {
      if (this.#inflight.size >= maxInflight) this.#skipped++;
      else this.#fire();
    }
  }

  #fire(): void {
    const { endpoint, sessions, tool } = this.#options;
    const session = sessions[this.#sent % sessions.length];
    this.#sent++;
    const start = process.hrtime.bigint();
    const call = send(
      endpoint,
      { method: 'tools/call', params: { name: tool, arguments: this.#options.arguments } },
      session,
    )
      .then(failureOf, (error: unknown) => `request failed: ${(error as Error).message}`)
      .then((failure) => {
        this.#latencies.add(since(start));
        if (failure === undefined) {
          this.#succeeded++;
          return;
        }
        this.#failed++;
        this.#failures.set(failure, (this.#failures.get(failure) ?? 0) + 1);
      });
    this.#inflight.add(call);
    void call.finally(() => this.#inflight.delete(call));
  }
}
