/**
 * The bounded in-memory queue between the pipeline and the store: usage events and cost charges
 * wait here and are written in batches (a full batch at once, the rest every `flushInterval`),
 * one write at a time, never on a call's path.
 *
 * When the store is slow or down, records stay queued and the next flush retries them; the queue
 * never holds more than `bufferLimit`, and whatever does not fit is dropped, counted
 * (`dropped`, exported as `mcplane_usage_events_dropped_total`) and logged, at most once per
 * interval. Memory stays bounded whatever the store does.
 */
import type { Logger } from '../log.ts';
import type { CostCharge, UsageEvent } from '../store/usage-records.ts';
import type { MeteringSettings } from './metering-schema.ts';

export type UsageWrite = (events: readonly UsageEvent[], charges: readonly CostCharge[]) => Promise<void>;

export type UsageBufferStats = {
  /** Records waiting to be written. */
  readonly buffered: number;
  /** Records written to the store. */
  readonly written: number;
  /** Records lost: the queue was full, or the store was still down at close. */
  readonly dropped: number;
  /** Batches the store refused (each retried while it fits in the queue). */
  readonly failedWrites: number;
};

type Settings = Pick<MeteringSettings, 'batchSize' | 'flushInterval' | 'bufferLimit'>;

export class UsageBuffer {
  readonly #write: UsageWrite;
  readonly #settings: Settings;
  readonly #log: Logger;
  #events: UsageEvent[] = [];
  #charges: CostCharge[] = [];
  #written = 0;
  #dropped = 0;
  #droppedSinceLog = 0;
  #failedWrites = 0;
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(write: UsageWrite, settings: Settings, log: Logger) {
    this.#write = write;
    this.#settings = settings;
    this.#log = log;
    this.#timer = setInterval(() => void this.#round(), settings.flushInterval);
    this.#timer.unref();
  }

  get size(): number {
    return this.#events.length + this.#charges.length;
  }

  stats(): UsageBufferStats {
    return {
      buffered: this.size,
      written: this.#written,
      dropped: this.#dropped,
      failedWrites: this.#failedWrites,
    };
  }

  add(event: UsageEvent): void {
    if (!this.#room(1)) return;
    this.#events.push(event);
    if (this.#events.length >= this.#settings.batchSize) void this.#round();
  }

  charge(charges: readonly CostCharge[]): void {
    const fits = Math.min(charges.length, Math.max(0, this.#settings.bufferLimit - this.size));
    if (fits < charges.length) this.#drop(charges.length - fits);
    for (let i = 0; i < fits; i++) this.#charges.push(charges[i] as CostCharge);
  }

  /**
   * Writes what is queued now, a batch at a time; resolves when that is done (written, or left
   * queued because the store refused it). A round already running is waited for first, since it
   * took only what was queued when it began.
   */
  async flush(): Promise<void> {
    await this.#flushing;
    await this.#round();
  }

  #round(): Promise<void> {
    this.#flushing ??= this.#drain().finally(() => {
      this.#flushing = undefined;
      this.#logDrops();
    });
    return this.#flushing;
  }

  /** Stops the timer and writes everything still queued; what the store refuses now is dropped. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#flushing;
    await this.flush();
    if (this.size > 0) {
      const lost = this.size;
      this.#events = [];
      this.#charges = [];
      this.#dropped += lost;
      this.#log.error({ dropped: lost }, 'usage records could not be written before shutdown and are lost');
    }
    this.#logDrops();
  }

  #room(count: number): boolean {
    if (this.size + count <= this.#settings.bufferLimit) return true;
    this.#drop(count);
    return false;
  }

  #drop(count: number): void {
    this.#dropped += count;
    this.#droppedSinceLog += count;
  }

  #logDrops(): void {
    if (this.#droppedSinceLog === 0) return;
    this.#log.warn(
      { dropped: this.#droppedSinceLog, bufferLimit: this.#settings.bufferLimit },
      'usage records dropped: the metering buffer is full (is the store down?)',
    );
    this.#droppedSinceLog = 0;
  }

  async #drain(): Promise<void> {
    // Bounded: at most the batches queued when the round began, so a busy gateway cannot keep one
    // round going for ever.
    let rounds = Math.ceil(this.size / this.#settings.batchSize);
    while (this.size > 0 && rounds-- > 0) {
      const events = this.#events.splice(0, this.#settings.batchSize);
      const charges = this.#charges.splice(0, Math.max(0, this.#settings.batchSize - events.length));
      try {
        await this.#write(events, charges);
        this.#written += events.length + charges.length;
      } catch (err) {
        this.#failedWrites++;
        // Back to the front, as far as the limit allows; newer records already queued stay.
        const room = Math.max(0, this.#settings.bufferLimit - this.size);
        const keptEvents = events.slice(0, room);
        const keptCharges = charges.slice(0, Math.max(0, room - keptEvents.length));
        this.#drop(events.length - keptEvents.length + charges.length - keptCharges.length);
        this.#events.unshift(...keptEvents);
        this.#charges.unshift(...keptCharges);
        this.#log.warn(
          { err, queued: this.size },
          'could not write usage records; retrying at the next flush',
        );
        return;
      }
    }
  }
}
