/**
 * The local client's requests that the remote has not answered yet. A request must never hang:
 * when the stream that should carry its response ends without it, and the SDK transport cannot
 * resume that stream with `Last-Event-ID` (spec 2025-11-25, "Transports" §Resumability and
 * Redelivery), the request is failed with a reason the client can read.
 */
import type { RequestId } from '../jsonrpc/message.ts';

export type PendingRequestsOptions = {
  /** Called once for each request that will not be answered by the remote. */
  readonly fail: (id: RequestId, reason: string) => void;
  /** How long a stream that can be resumed may stay broken before its request is failed. */
  readonly resumeBudgetMs: number;
};

type Entry = {
  /** The upstream generation (session) the request was delivered on. */
  generation: number | undefined;
  /** The last SSE event id seen on the request's stream; present once it can be resumed. */
  lastEventId: string | undefined;
  /** Resumed (GET) streams currently open for the request. */
  resuming: number;
  /** Set while waiting for the SDK to resume a broken stream. */
  broken: boolean;
  timer: NodeJS.Timeout | undefined;
};

// The SDK parses SSE downstream of where the bridge sees a body end, so the last events of a
// stream reach the bridge a few microtasks later; this grace lets them land first.
const DRAIN_GRACE_MS = 50;
const RECENTLY_FAILED_LIMIT = 1000;

export class PendingRequests {
  readonly #options: PendingRequestsOptions;
  readonly #entries = new Map<RequestId, Entry>();
  /** Ids recently answered with an error by the bridge, oldest first. */
  readonly #failed = new Set<RequestId>();

  constructor(options: PendingRequestsOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#entries.size;
  }

  has(id: RequestId): boolean {
    return this.#entries.has(id);
  }

  add(id: RequestId): void {
    this.#forget(id);
    this.#entries.set(id, {
      generation: undefined,
      lastEventId: undefined,
      resuming: 0,
      broken: false,
      timer: undefined,
    });
  }

  delivered(id: RequestId, generation: number): void {
    const entry = this.#entries.get(id);
    if (entry) entry.generation = generation;
  }

  resumptionToken(id: RequestId, lastEventId: string): void {
    const entry = this.#entries.get(id);
    if (entry) entry.lastEventId = lastEventId;
  }

  /**
   * The remote answered `id`: `pending` when the client waits for it, `late` when the bridge has
   * already answered it with an error (the client must not get two answers), else `unknown`.
   */
  settle(id: RequestId): 'pending' | 'late' | 'unknown' {
    if (this.#forget(id)) return 'pending';
    return this.#failed.has(id) ? 'late' : 'unknown';
  }

  /** The client cancelled `id`: it expects no answer any more, not even an error. */
  cancelled(id: RequestId): void {
    this.#forget(id);
  }

  /** Fails a request here and now (it was not delivered, or its answer cannot come). */
  fail(id: RequestId, reason: string): void {
    if (!this.#forget(id)) return;
    this.#failed.add(id);
    if (this.#failed.size > RECENTLY_FAILED_LIMIT) {
      const oldest = this.#failed.values().next();
      if (!oldest.done) this.#failed.delete(oldest.value);
    }
    this.#options.fail(id, reason);
  }

  /** The POST or resumed stream that should carry the response ended. */
  streamEnded(id: RequestId): void {
    const entry = this.#entries.get(id);
    if (!entry || entry.timer) return;
    entry.timer = setTimeout(() => this.#afterStreamEnded(id, entry), DRAIN_GRACE_MS);
    entry.timer.unref();
  }

  /** A GET resuming from `lastEventId` opened; returns what to call when it ends. */
  resumeOpened(lastEventId: string): (() => void) | undefined {
    for (const [id, entry] of this.#entries) {
      if (entry.lastEventId !== lastEventId) continue;
      entry.resuming += 1;
      entry.broken = false;
      clearTimeout(entry.timer);
      entry.timer = undefined;
      return () => {
        entry.resuming -= 1;
        this.streamEnded(id);
      };
    }
    return undefined;
  }

  /** The SDK gave up resuming: fail every request whose stream is broken. */
  failBroken(reason: string): void {
    for (const [id, entry] of [...this.#entries]) {
      if (entry.broken && entry.resuming === 0) this.fail(id, reason);
    }
  }

  /** The session changed: requests delivered on an older one cannot be answered any more. */
  failDeliveredBefore(generation: number, reason: string): void {
    for (const [id, entry] of [...this.#entries]) {
      if (entry.generation !== undefined && entry.generation < generation) this.fail(id, reason);
    }
  }

  /** Forgets everything without answering (the client has gone). */
  clear(): void {
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
    this.#entries.clear();
  }

  #afterStreamEnded(id: RequestId, entry: Entry): void {
    entry.timer = undefined;
    if (this.#entries.get(id) !== entry || entry.resuming > 0) return;
    if (entry.lastEventId === undefined) {
      this.fail(id, 'the remote closed the response stream without answering');
      return;
    }
    // The SDK transport resumes the stream on its own; give it its retries before giving up.
    entry.broken = true;
    entry.timer = setTimeout(() => {
      this.fail(id, 'the response stream broke and could not be resumed');
    }, this.#options.resumeBudgetMs);
    entry.timer.unref();
  }

  #forget(id: RequestId): boolean {
    const entry = this.#entries.get(id);
    if (!entry) return false;
    clearTimeout(entry.timer);
    this.#entries.delete(id);
    return true;
  }
}
