/**
 * Backpressure for one SSE stream. The gateway cannot slow a shared upstream process down for
 * one client, so a client that does not read would make it buffer without limit; instead each
 * stream may hold at most a high-water mark of bytes its client has not taken yet. A message
 * that would take it past the mark is not written: the stream is closed, and a Streamable HTTP
 * client resumes from the session's resumption buffer. A single message larger than the mark
 * still goes out on a stream with nothing pending, or it could never be delivered. A resumed
 * stream starts with its replay written at once; those bytes are allowed on top of the mark
 * until the client has taken them. A stream whose client takes nothing for the stall timeout is
 * closed as well, which frees what it holds.
 */

export type StreamLimits = {
  /** Bytes a stream may hold unsent (`gateway.http.streamHighWaterMark`). */
  readonly highWaterMark: number;
  /** How long a stream with unsent bytes may go without the client taking any. */
  readonly stallTimeout: number;
};

/** Where a guarded stream's bytes go. */
export type StreamSink = {
  /** Bytes written but not yet taken by the client's connection (handed to the kernel). */
  unsent(): number;
  /** Ends the stream at once, dropping what it holds. */
  destroy(): void;
};

export type CloseReason = 'high-water mark' | 'stalled';

export type GuardEvents = {
  closed(guard: StreamGuard, reason: CloseReason, unsent: number): void;
  ended(guard: StreamGuard): void;
};

export class StreamGuard {
  readonly #sink: StreamSink;
  readonly #limits: StreamLimits;
  readonly #events: GuardEvents;
  /** Bytes written at the start that may stand above the mark until taken (a resume's replay). */
  readonly #burst: number;
  #written = 0;
  #flushedAtLastCheck = 0;
  #timer: NodeJS.Timeout | undefined;
  #done = false;

  constructor(sink: StreamSink, limits: StreamLimits, events: GuardEvents, burst = 0) {
    this.#sink = sink;
    this.#limits = limits;
    this.#events = events;
    this.#burst = burst;
  }

  get closed(): boolean {
    return this.#done;
  }

  unsent(): number {
    return this.#done ? 0 : this.#sink.unsent();
  }

  /** Whether `bytes` more may be written now; when not, the stream has been closed. */
  admit(bytes: number): boolean {
    if (this.#done) return false;
    const unsent = this.#sink.unsent();
    const burstLeft = Math.max(0, this.#burst - (this.#written - unsent));
    if (unsent > 0 && unsent + bytes > this.#limits.highWaterMark + burstLeft) {
      this.#close('high-water mark', unsent);
      return false;
    }
    return true;
  }

  /** Records bytes written, and watches for a client that stops taking them. */
  wrote(bytes: number): void {
    this.#written += bytes;
    if (this.#timer === undefined && !this.#done) this.#watch();
  }

  /** The stream ended on its own (finished or dropped by the client). */
  end(): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.#events.ended(this);
  }

  #watch(): void {
    this.#flushedAtLastCheck = this.#written - this.#sink.unsent();
    this.#timer = setTimeout(() => this.#check(), this.#limits.stallTimeout);
    this.#timer.unref();
  }

  #check(): void {
    this.#timer = undefined;
    if (this.#done) return;
    const unsent = this.#sink.unsent();
    if (unsent === 0) return;
    // Progress is measured as bytes the client's connection took, not bytes pending: a slow
    // reader of a large message keeps the stream, a reader that took nothing does not.
    if (this.#written - unsent > this.#flushedAtLastCheck) this.#watch();
    else this.#close('stalled', unsent);
  }

  #close(reason: CloseReason, unsent: number): void {
    this.#done = true;
    clearTimeout(this.#timer);
    this.#events.closed(this, reason, unsent);
    this.#sink.destroy();
  }
}
