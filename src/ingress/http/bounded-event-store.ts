/**
 * Events kept for resuming a dropped SSE stream (spec 2025-11-25, "Transports" §resumability:
 * the client reconnects with GET and `Last-Event-ID`; only that stream is replayed). One store
 * belongs to one session and is cleared with it. It is bounded in events and in bytes, and its
 * bytes also count against the gateway-wide {@link EventBudget}; past either bound the oldest
 * events go, so a client that stays away too long loses them rather than the gateway its memory.
 * A resume that would need a dropped event is refused ({@link resumeGap}), never served with a
 * silent gap.
 */
import type { EventStore } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { GatewayError } from '../../errors.ts';
import type { JSONRPCMessage } from '../../jsonrpc/message.ts';
import type { BudgetedEvent, EventBudget } from './event-budget.ts';

type StoredEvent = BudgetedEvent & {
  readonly id: string;
  readonly streamId: string;
  readonly sequence: number;
  /** The message serialized: its exact size, and no object graph kept alive. */
  readonly json: string;
};

/** Bytes around each message in an SSE event: `event: message\nid: …\ndata: …\n\n`. */
const SSE_FRAMING = 32;

export type EventStoreLimits = {
  readonly maxEvents: number;
  readonly maxBytes: number;
};

export class BoundedEventStore implements EventStore {
  readonly #limits: EventStoreLimits;
  readonly #budget: EventBudget;
  /** Insertion-ordered by id, so the first entry is the oldest. */
  readonly #events = new Map<string, StoredEvent>();
  /**
   * The newest dropped event of each stream that lost one, most recently touched last; capped,
   * with {@link #forgottenThrough} covering streams whose entry was let go.
   */
  readonly #lastDropped = new Map<string, number>();
  #forgottenThrough = 0;
  #sequence = 0;
  #bytes = 0;
  #cleared = false;

  constructor(limits: EventStoreLimits, budget: EventBudget) {
    this.#limits = limits;
    this.#budget = budget;
  }

  /** Bytes this session's buffer holds. */
  get bytes(): number {
    return this.#bytes;
  }

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    // Event ids are unique per session (the spec asks for that) and say which stream they are on
    // and in which order they were stored: `<stream>.<sequence>`. SDK stream ids hold no dot.
    const sequence = ++this.#sequence;
    const id = `${streamId}.${sequence}`;
    if (this.#cleared) return id;
    const json = JSON.stringify(message);
    const event: StoredEvent = { id, streamId, sequence, json, bytes: Buffer.byteLength(json), owner: this };
    this.#events.set(id, event);
    this.#bytes += event.bytes;
    this.#budget.add(event);
    // An event larger than the whole bound is dropped at once: it is still sent live, but a
    // resume that needs it is refused.
    while (this.#bytes > this.#limits.maxBytes || this.#events.size > this.#limits.maxEvents) {
      const oldest = this.#events.values().next().value;
      if (oldest === undefined) break;
      this.evict(oldest);
    }
    return id;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    const position = this.#position(eventId);
    return position && this.#knows(position) ? position.streamId : undefined;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const position = this.#position(lastEventId);
    if (!position || !this.#knows(position)) return '';
    // Checked again here: events may have been dropped since the face checked.
    if (this.resumeGap(lastEventId)) throw new GatewayError('RESUME_GAP');
    const after = [...this.#events.values()].filter(
      (event) => event.streamId === position.streamId && event.sequence > position.sequence,
    );
    for (const event of after) {
      // The priming event has an empty message; it marks a position and is not replayed.
      if (event.json !== '{}') await send(event.id, JSON.parse(event.json) as JSONRPCMessage);
    }
    return position.streamId;
  }

  /** About how many bytes a resume after `lastEventId` writes at once: its events as SSE. */
  replayBytesAfter(lastEventId: string): number {
    const position = this.#position(lastEventId);
    if (!position) return 0;
    let bytes = 0;
    for (const event of this.#events.values()) {
      // `event: message`, `id:` and `data:` lines around each message.
      if (event.streamId === position.streamId && event.sequence > position.sequence)
        bytes += event.bytes + event.id.length + SSE_FRAMING;
    }
    return bytes;
  }

  /**
   * Whether resuming after `lastEventId` would skip events that were dropped: some event of the
   * same stream, stored after it, is gone. Dropping goes oldest first, so that is the case
   * exactly when the stream's newest dropped event is newer than `lastEventId`.
   */
  resumeGap(lastEventId: string): boolean {
    const position = this.#position(lastEventId);
    if (!position || this.#events.has(lastEventId) || position.sequence > this.#sequence) return false;
    const dropped = this.#lastDropped.get(position.streamId);
    if (dropped !== undefined) return dropped > position.sequence;
    return position.sequence < this.#forgottenThrough;
  }

  /** Drops one event (the session's oldest, or the gateway's oldest when that is this session's). */
  evict(event: BudgetedEvent): void {
    const stored = event as StoredEvent;
    if (!this.#events.delete(stored.id)) return;
    this.#bytes -= stored.bytes;
    this.#budget.drop(stored);
    this.#lastDropped.delete(stored.streamId);
    this.#lastDropped.set(stored.streamId, stored.sequence);
    if (this.#lastDropped.size > this.#limits.maxEvents) {
      const [stream, sequence] = this.#lastDropped.entries().next().value as [string, number];
      this.#lastDropped.delete(stream);
      this.#forgottenThrough = Math.max(this.#forgottenThrough, sequence);
    }
  }

  /** Frees everything: the session is gone. */
  clear(): void {
    this.#cleared = true;
    for (const event of this.#events.values()) this.#budget.release(event);
    this.#events.clear();
    this.#lastDropped.clear();
    this.#bytes = 0;
  }

  #position(eventId: string): { streamId: string; sequence: number } | undefined {
    const dot = eventId.lastIndexOf('.');
    const sequence = Number(eventId.slice(dot + 1));
    if (dot <= 0 || !Number.isSafeInteger(sequence) || sequence <= 0) return undefined;
    return { streamId: eventId.slice(0, dot), sequence };
  }

  /** Whether the id names an event this session stored (kept or dropped), not a made-up one. */
  #knows(position: { streamId: string; sequence: number }): boolean {
    if (position.sequence > this.#sequence) return false;
    if (this.#events.has(`${position.streamId}.${position.sequence}`)) return true;
    return this.#lastDropped.has(position.streamId) || position.sequence <= this.#forgottenThrough;
  }
}
