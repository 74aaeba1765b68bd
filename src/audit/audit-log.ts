/**
 * The audit log writer. `append` is synchronous and cheap: it only queues the event (with its time)
 * in arrival order. Sealing (seq, hashes, argument digests, redaction, checkpoints) and writing
 * happen in batches off the hot path, every `flushMs` or once `flushRecords` are waiting, one
 * batch at a time, in queue order, so the chain's order is the order of `append` calls.
 *
 * Backpressure: the backlog (queued and sealed-but-unwritten records) is bounded by `maxBacklog`.
 * When the sink falls that far behind, further events are not kept but counted, and a `dropped`
 * record (how many, from when until when) takes their place in the chain as soon as there is room
 * again, or at close. Memory stays bounded and no loss is silent; `backlog()` exposes the numbers
 * for metrics. A failed write keeps its batch and is retried with backoff.
 *
 * `close()` (the SIGTERM path) stops accepting events, writes everything queued and a closing
 * checkpoint, and closes the sink: a clean stop loses nothing.
 */
import { GatewayError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { AuditChain, recordHash, type SealedRecord } from './audit-chain.ts';
import type { AuditSigningKey } from './audit-key.ts';
import type { AuditEvent } from './audit-record.ts';
import type { AuditSink, AuditSource } from './audit-sink.ts';
import { signCheckpoint } from './checkpoint.ts';
import { DIGEST_ONLY, bodyWithoutArgs, eventBody, type ArgsPolicy } from './event-fields.ts';

export const AUDIT_LOG_DEFAULTS = {
  checkpointEvery: 1_000,
  flushMs: 100,
  flushRecords: 512,
  maxBacklog: 100_000,
} as const;

/** The longest wait before retrying a failed write. */
const MAX_RETRY_MS = 5_000;
const CLOSE_ATTEMPTS = 3;

export type AuditLogOptions = {
  readonly sink: AuditSink;
  readonly key: AuditSigningKey;
  readonly log: Logger;
  /** A checkpoint after this many records (default 1000). */
  readonly checkpointEvery?: number;
  readonly flushMs?: number;
  readonly flushRecords?: number;
  readonly maxBacklog?: number;
  readonly args?: ArgsPolicy;
  /** Epoch milliseconds; tests pin it. */
  readonly now?: () => number;
};

/** What the log holds back and has lost, for metrics. */
export type AuditBacklog = {
  /** Records appended but not yet written. */
  readonly records: number;
  readonly limit: number;
  /** Events not kept because the backlog was full (each is counted in a `dropped` record). */
  readonly dropped: number;
  readonly writeFailures: number;
  /** Events whose arguments could not be serialized (kept without them). */
  readonly sealFailures: number;
  readonly written: number;
  /** The seq of the last record written. */
  readonly lastSeq: number;
};

type Queued = { readonly event: AuditEvent; readonly at: number };
type Drops = { count: number; from: number; until: number };

export class AuditLog {
  readonly #sink: AuditSink;
  readonly #key: AuditSigningKey;
  readonly #log: Logger;
  readonly #chain: AuditChain;
  readonly #checkpointEvery: number;
  readonly #flushMs: number;
  readonly #flushRecords: number;
  readonly #maxBacklog: number;
  readonly #args: ArgsPolicy;
  readonly #now: () => number;
  /** Events not yet sealed, from `#queueHead` on (taking from the front without shifting). */
  #queue: (Queued | Drops)[] = [];
  #queueHead = 0;
  #sealed: SealedRecord[] = [];
  #drops: Drops | undefined;
  #sinceCheckpoint = 0;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #writes: Promise<void> = Promise.resolve();
  #failStreak = 0;
  #running = false;
  #closing: Promise<void> | undefined;
  #stats = { dropped: 0, writeFailures: 0, sealFailures: 0, written: 0, lastSeq: 0 };

  private constructor(options: AuditLogOptions, chain: AuditChain) {
    this.#sink = options.sink;
    this.#key = options.key;
    this.#log = options.log;
    this.#chain = chain;
    this.#checkpointEvery = options.checkpointEvery ?? AUDIT_LOG_DEFAULTS.checkpointEvery;
    this.#flushMs = options.flushMs ?? AUDIT_LOG_DEFAULTS.flushMs;
    this.#flushRecords = options.flushRecords ?? AUDIT_LOG_DEFAULTS.flushRecords;
    this.#maxBacklog = options.maxBacklog ?? AUDIT_LOG_DEFAULTS.maxBacklog;
    this.#args = options.args ?? DIGEST_ONLY;
    this.#now = options.now ?? Date.now;
    this.#stats.lastSeq = chain.seq;
  }

  /**
   * Opens the log on its sink, continuing the chain after the sink's last record. Refuses a sink
   * whose last record does not hash to what it says: the chain would continue from a lie.
   */
  static async open(options: AuditLogOptions): Promise<AuditLog> {
    return new AuditLog(options, chainAfter(await options.sink.tail()));
  }

  /**
   * Queues an event; returns false when the backlog is full and the event was counted as dropped.
   * Throws AUDIT_LOG_CLOSED after `close()`.
   */
  append(event: AuditEvent): boolean {
    if (this.#closing) throw new GatewayError('AUDIT_LOG_CLOSED', 'the audit log is closed');
    const at = event.at !== undefined && Number.isFinite(event.at) ? event.at : this.#now();
    if (this.#backlog >= this.#maxBacklog) {
      this.#drop(at);
      return false;
    }
    if (this.#drops) {
      this.#queue.push(this.#drops);
      this.#drops = undefined;
    }
    this.#queue.push({ event, at });
    this.#schedule();
    return true;
  }

  /** Writes everything appended so far; rejects when the sink fails (the records stay queued). */
  flush(): Promise<void> {
    return this.#write(true);
  }

  /** Stops accepting events, writes what is queued and a closing checkpoint, closes the sink. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  get #backlog(): number {
    return this.#queue.length - this.#queueHead + this.#sealed.length;
  }

  /** Where the written records can be read back, when the sink says. */
  get source(): AuditSource | undefined {
    return this.#sink.source;
  }

  backlog(): AuditBacklog {
    return { records: this.#backlog, limit: this.#maxBacklog, ...this.#stats };
  }

  async #close(): Promise<void> {
    this.#clearTimers();
    if (this.#drops) this.#queue.push(this.#drops);
    this.#drops = undefined;
    let failure: unknown;
    for (let attempt = 1; attempt <= CLOSE_ATTEMPTS; attempt++) {
      try {
        await this.flush();
        failure = undefined;
        break;
      } catch (error) {
        failure = error;
        if (attempt < CLOSE_ATTEMPTS)
          await new Promise((resolve) => setTimeout(resolve, this.#flushMs * attempt));
      }
    }
    await this.#sink.close();
    if (failure !== undefined) {
      const unwritten = this.#backlog;
      this.#log.error({ err: failure, unwritten }, 'audit log: records not written at close');
      throw new GatewayError('AUDIT_LOG_CLOSED', `${unwritten} audit records could not be written`, {
        cause: failure,
        detail: { unwritten },
      });
    }
  }

  /** One drain at a time, in order: `all` writes until nothing waits, else see {@link #drain}. */
  #write(all: boolean): Promise<void> {
    const run = this.#writes.then(() => this.#drain(all));
    this.#writes = run.catch(() => undefined);
    return run;
  }

  #drop(at: number): void {
    this.#stats.dropped++;
    if (this.#drops) this.#drops.until = at;
    else {
      this.#drops = { count: 0, from: at, until: at };
      this.#log.warn({ limit: this.#maxBacklog }, 'audit log: backlog full, counting events as dropped');
    }
    this.#drops.count++;
  }

  /** Starts a background write soon (at once when a batch is full), unless one is running. */
  #schedule(): void {
    if (this.#running || this.#closing) return;
    const waiting = this.#backlog;
    if (waiting === 0) return;
    if (waiting >= this.#flushRecords && this.#failStreak === 0) {
      if (this.#immediate !== undefined) return;
      this.#clearTimers();
      this.#immediate = setImmediate(() => this.#background());
      this.#immediate.unref();
    } else if (this.#timer === undefined && this.#immediate === undefined) this.#later(this.#flushMs);
  }

  #later(ms: number): void {
    this.#timer = setTimeout(() => this.#background(), ms);
    this.#timer.unref();
  }

  #clearTimers(): void {
    clearTimeout(this.#timer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }

  // A running drain writes whatever is appended while it runs, so nothing else is scheduled
  // until it settles; then anything that arrived in between is scheduled.
  #background(): void {
    this.#clearTimers();
    this.#running = true;
    this.#write(false).then(
      () => {
        this.#running = false;
        this.#failStreak = 0;
        this.#schedule();
      },
      (error: unknown) => {
        this.#running = false;
        this.#failStreak++;
        // Retry with backoff; close() does its own retries.
        if (!this.#closing) this.#later(Math.min(this.#flushMs * 2 ** this.#failStreak, MAX_RETRY_MS));
        if (this.#failStreak === 1 || this.#failStreak % 10 === 0) {
          this.#log.error(
            { err: error, backlog: this.backlog().records },
            'audit log: write failed, will retry',
          );
        }
      },
    );
  }

  /**
   * Seals and writes batches of at most `flushRecords`: until nothing is waiting (`all`, a flush),
   * or in the background while a full batch is waiting, leaving a part batch to gather for up to
   * `flushMs` (#schedule). Writing again at once whatever arrived during a write would cost a
   * write and an fdatasync per handful of records. Sealing costs CPU on the event loop, so a
   * batch is bounded: a deep backlog never blocks calls for long.
   */
  async #drain(all: boolean): Promise<void> {
    for (;;) {
      // A batch whose write failed is written again as it was, before anything new is sealed.
      if (this.#sealed.length === 0) this.#sealBatch();
      const batch = this.#sealed;
      if (batch.length === 0) return;
      try {
        await this.#sink.write(batch);
      } catch (error) {
        this.#stats.writeFailures++;
        throw error;
      }
      this.#sealed = [];
      this.#stats.written += batch.length;
      this.#stats.lastSeq = batch.at(-1)?.record.seq ?? this.#stats.lastSeq;
      if (!all && this.#backlog < this.#flushRecords) return;
    }
  }

  #sealBatch(): void {
    const end = Math.min(this.#queue.length, this.#queueHead + this.#flushRecords);
    while (this.#queueHead < end) {
      const item = this.#queue[this.#queueHead++] as Queued | Drops;
      this.#sealed.push('event' in item ? this.#sealEvent(item) : this.#sealDrops(item));
      if (++this.#sinceCheckpoint >= this.#checkpointEvery) this.#sealCheckpoint('every');
    }
    if (this.#queueHead === this.#queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
      if (this.#closing && this.#sinceCheckpoint > 0) this.#sealCheckpoint('close');
    } else if (this.#queueHead > 65_536) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
  }

  /**
   * Never throws, so a batch is never half sealed: arguments that do not serialize (or a redactor
   * that throws) cost the record its arguments; an event that does not serialize at all becomes a
   * `dropped` record of one.
   */
  #sealEvent({ event, at }: Queued): SealedRecord {
    try {
      return this.#chain.sealOrdered(eventBody(event, at, this.#args));
    } catch (error) {
      this.#stats.sealFailures++;
      this.#log.warn({ err: error, kind: event.kind }, 'audit log: kept a record without its arguments');
    }
    try {
      return this.#chain.sealOrdered(bodyWithoutArgs(event, at));
    } catch {
      return this.#sealDrops({ count: 1, from: at, until: at });
    }
  }

  #sealDrops(drops: Drops): SealedRecord {
    return this.#chain.seal({
      kind: 'dropped',
      time: new Date(drops.until).toISOString(),
      count: drops.count,
      from: new Date(drops.from).toISOString(),
      until: new Date(drops.until).toISOString(),
    });
  }

  #sealCheckpoint(reason: 'every' | 'close'): void {
    const { keyId, raw } = this.#key.publicKey;
    const claim = {
      seq: this.#chain.nextSeq,
      time: new Date(this.#now()).toISOString(),
      prevHash: this.#chain.head,
      keyId,
    };
    const signature = signCheckpoint(claim, this.#key.privateKey);
    this.#sealed.push(
      this.#chain.seal({ kind: 'checkpoint', reason, time: claim.time, keyId, publicKey: raw, signature }),
    );
    this.#sinceCheckpoint = 0;
  }
}

/** The chain continuing after `tail`, which must be a well-formed record with a true hash. */
function chainAfter(tail: unknown): AuditChain {
  if (tail === undefined) return new AuditChain();
  const record = tail as Record<string, unknown>;
  const { seq, hash } = record;
  const wellFormed =
    typeof tail === 'object' &&
    tail !== null &&
    Number.isSafeInteger(seq) &&
    (seq as number) > 0 &&
    typeof hash === 'string';
  if (!wellFormed || recordHash(record) !== hash) {
    throw new GatewayError(
      'AUDIT_LOG_INVALID',
      'the last audit record does not verify, so the chain cannot continue; run mcplane audit verify',
      { detail: { seq } },
    );
  }
  return new AuditChain(seq as number, hash);
}
