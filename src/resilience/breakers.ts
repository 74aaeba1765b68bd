/**
 * One circuit breaker per (server, tenant), with opossum (the design card's choice). A breaker
 * counts only gateway-side failures (gateway-failure.ts) over a rolling window; past the
 * threshold it opens, and calls fail at once with BREAKER_OPEN naming the server and when it
 * will be tried again. After `resetTimeout` it lets one probe through (half-open): success
 * closes it, failure opens it again.
 *
 * One mechanism with the pool's crash-loop backoff: the pool (upstream/process-pool.ts) decides
 * when a process may be started again, because a pool is shared by every tenant and also starts
 * processes no call asked for (its `min`). The breakers follow that clock: a breaker that opens
 * while its pool is backing off stays open at least until the pool's next start attempt, so its
 * `retryAt` is the moment the pool will really try, and its half-open probe is the call that
 * waits for that attempt (the pool lets a caller wait once the backoff has run out). The two
 * can therefore not disagree: a breaker never probes a pool that would refuse at once, and it
 * never reports a retry time before the pool's.
 *
 * Bounded: a breaker is dropped once it is closed and unused for `IDLE_MS`, and at most
 * `MAX_BREAKERS` are kept (the least recently used closed one goes first).
 */
import CircuitBreaker from 'opossum';
import { GatewayError } from '../errors.ts';
import type { StartBackoff } from '../upstream/process-pool.ts';
import { isGatewayFailure } from './gateway-failure.ts';
import type { BreakerSettings } from './resilience-schema.ts';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** A breaker as the admin status and /ready show it. */
export type BreakerView = {
  readonly tenant: string;
  readonly state: BreakerState;
  readonly retryAt?: string;
};

const IDLE_MS = 10 * 60_000;
const MAX_BREAKERS = 10_000;
const SWEEP_EVERY_MS = 30_000;

type Attempt = () => Promise<unknown>;

type Entry = {
  readonly breaker: CircuitBreaker<[Attempt], unknown>;
  /** The options object opossum keeps and reads (`resetTimeout` as the breaker opens). */
  readonly options: { resetTimeout: number };
  readonly settings: BreakerSettings;
  readonly fingerprint: string;
  lastUsed: number;
  /** Epoch ms at which an open breaker goes half-open. */
  retryAt: number | undefined;
  /** What the last counted failure was, for the open breaker's message. */
  lastFailure: string | undefined;
};

export type BreakerBoardOptions = {
  readonly now?: () => number;
  readonly idleMs?: number;
  readonly maxBreakers?: number;
};

export class BreakerBoard {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #idleMs: number;
  readonly #max: number;
  #lastSweep = 0;
  /** Calls refused at once because their breaker was open, by server (for metrics). */
  readonly rejections = new Map<string, number>();

  constructor(options: BreakerBoardOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#idleMs = options.idleMs ?? IDLE_MS;
    this.#max = options.maxBreakers ?? MAX_BREAKERS;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Runs one attempt of a call through the (server, tenant) breaker. Rejects with BREAKER_OPEN
   * while it is open; a gateway-side failure of the attempt is counted, anything else (a
   * result, an upstream error, a cancellation) counts as the server having answered.
   */
  async run<T>(
    server: string,
    tenant: string,
    settings: BreakerSettings,
    backoff: () => StartBackoff | undefined,
    attempt: () => Promise<T>,
  ): Promise<T> {
    if (!settings.enabled) return attempt();
    const entry = this.#entry(server, tenant, settings);
    const guarded = async (): Promise<T> => {
      try {
        return await attempt();
      } catch (error) {
        if (isGatewayFailure(error)) {
          entry.lastFailure = error.message;
          // Set before opossum opens the breaker (it reads resetTimeout as it opens): stay open
          // at least until the pool's own next start attempt.
          const poolWait = (backoff()?.nextStartAt ?? 0) - this.#now();
          entry.options.resetTimeout = Math.max(settings.resetTimeout, poolWait);
        }
        throw error;
      }
    };
    try {
      return (await entry.breaker.fire(guarded)) as T;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'EOPENBREAKER') throw this.#openError(server, entry);
      throw error;
    }
  }

  /** The state of one breaker; closed when there is none. */
  stateOf(server: string, tenant: string): BreakerState {
    const entry = this.#entries.get(key(server, tenant));
    return entry ? stateOf(entry.breaker) : 'closed';
  }

  /** The breakers of one server, for the admin status and /ready. */
  viewsOf(server: string): BreakerView[] {
    const views: BreakerView[] = [];
    for (const [entryKey, entry] of this.#entries) {
      const [name, tenant] = splitKey(entryKey);
      if (name !== server) continue;
      const state = stateOf(entry.breaker);
      views.push(
        state === 'open' && entry.retryAt !== undefined
          ? { tenant, state, retryAt: new Date(entry.retryAt).toISOString() }
          : { tenant, state },
      );
    }
    return views;
  }

  /** Every breaker's state, for metrics. */
  *readings(): Iterable<{ server: string; tenant: string; state: BreakerState }> {
    for (const [entryKey, entry] of this.#entries) {
      const [server, tenant] = splitKey(entryKey);
      yield { server, tenant, state: stateOf(entry.breaker) };
    }
  }

  /** Drops the breakers of servers no longer configured (a reload removed them). */
  retain(servers: ReadonlySet<string>): void {
    for (const [entryKey, entry] of this.#entries) {
      if (servers.has(splitKey(entryKey)[0])) continue;
      entry.breaker.shutdown();
      this.#entries.delete(entryKey);
    }
  }

  /** Stops every breaker's timers. */
  close(): void {
    for (const entry of this.#entries.values()) entry.breaker.shutdown();
    this.#entries.clear();
  }

  #openError(server: string, entry: Entry): GatewayError {
    this.rejections.set(server, (this.rejections.get(server) ?? 0) + 1);
    const now = this.#now();
    // Half-open with its probe in flight: the probe's outcome decides in a moment.
    const retryAt = new Date(Math.max(now, entry.retryAt ?? now)).toISOString();
    const why = entry.lastFailure ? ` (last failure: ${entry.lastFailure})` : '';
    const error = new GatewayError(
      'BREAKER_OPEN',
      `Server ${server} is failing${why}; its circuit breaker is open and calls to it fail at once until ${retryAt}, when one call will test it again`,
      { detail: { server, retryAt } },
    );
    return error;
  }

  #entry(server: string, tenant: string, settings: BreakerSettings): Entry {
    const now = this.#now();
    if (now - this.#lastSweep > SWEEP_EVERY_MS) this.#sweep(now);
    const entryKey = key(server, tenant);
    let entry = this.#entries.get(entryKey);
    if (entry && entry.settings !== settings && entry.fingerprint !== JSON.stringify(settings)) {
      entry.breaker.shutdown();
      entry = undefined;
    }
    if (entry) {
      // Re-inserted, so the map's order is least recently used first.
      this.#entries.delete(entryKey);
    } else {
      entry = this.#newEntry(settings);
      if (this.#entries.size >= this.#max) this.#evictOne();
    }
    entry.lastUsed = now;
    this.#entries.set(entryKey, entry);
    return entry;
  }

  #newEntry(settings: BreakerSettings): Entry {
    const options = {
      // Calls have their own deadline (timeouts.call); opossum must not add another.
      timeout: false as const,
      resetTimeout: settings.resetTimeout,
      rollingCountTimeout: settings.window,
      rollingCountBuckets: 10,
      volumeThreshold: settings.volumeThreshold,
      errorThresholdPercentage: settings.errorThresholdPercentage,
      errorFilter: (error: unknown) => !isGatewayFailure(error),
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    };
    const breaker = new CircuitBreaker<[Attempt], unknown>((attempt: Attempt) => attempt(), options);
    const entry: Entry = {
      breaker,
      options,
      settings,
      fingerprint: JSON.stringify(settings),
      lastUsed: this.#now(),
      retryAt: undefined,
      lastFailure: undefined,
    };
    breaker.on('open', () => {
      entry.retryAt = this.#now() + options.resetTimeout;
    });
    breaker.on('halfOpen', () => (entry.retryAt = undefined));
    breaker.on('close', () => (entry.retryAt = undefined));
    return entry;
  }

  #sweep(now: number): void {
    this.#lastSweep = now;
    for (const [entryKey, entry] of this.#entries) {
      if (now - entry.lastUsed < this.#idleMs) break;
      if (stateOf(entry.breaker) !== 'closed') continue;
      entry.breaker.shutdown();
      this.#entries.delete(entryKey);
    }
  }

  #evictOne(): void {
    let victim: string | undefined;
    for (const [entryKey, entry] of this.#entries) {
      if (stateOf(entry.breaker) === 'closed') {
        victim = entryKey;
        break;
      }
      victim ??= entryKey;
    }
    if (victim === undefined) return;
    this.#entries.get(victim)?.breaker.shutdown();
    this.#entries.delete(victim);
  }
}

function stateOf(breaker: CircuitBreaker<[Attempt], unknown>): BreakerState {
  if (breaker.opened) return 'open';
  if (breaker.halfOpen) return 'half-open';
  return 'closed';
}

function key(server: string, tenant: string): string {
  return `${server}\n${tenant}`;
}

function splitKey(entryKey: string): [string, string] {
  const at = entryKey.indexOf('\n');
  return [entryKey.slice(0, at), entryKey.slice(at + 1)];
}
