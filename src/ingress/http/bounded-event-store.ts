/**
 * Events kept for resuming a dropped SSE stream (spec 2025-11-25, "Transports" §resumability:
 * the client reconnects with GET and `Last-Event-ID`; only that stream is replayed). One store
 * belongs to one session and is dropped with it; it keeps the newest `capacity` events, so a
 * client that stays away too long loses the oldest ones rather than the gateway its memory.
 */
import type { EventStore } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { JSONRPCMessage } from '../../jsonrpc/message.ts';

type StoredEvent = { readonly id: string; readonly streamId: string; readonly message: JSONRPCMessage };

export class BoundedEventStore implements EventStore {
  readonly #capacity: number;
  readonly #events: StoredEvent[] = [];
  #sequence = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    // Event ids are unique per session (the spec asks for that) and say which stream they are on.
    const id = `${streamId}.${++this.#sequence}`;
    this.#events.push({ id, streamId, message });
    if (this.#events.length > this.#capacity) this.#events.splice(0, this.#events.length - this.#capacity);
    return id;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.#events.find((event) => event.id === eventId)?.streamId;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const index = this.#events.findIndex((event) => event.id === lastEventId);
    if (index === -1) return '';
    const streamId = (this.#events[index] as StoredEvent).streamId;
    for (const event of this.#events.slice(index + 1)) {
      // The priming event has an empty message; it marks a position and is not replayed.
      if (event.streamId === streamId && Object.keys(event.message).length > 0)
        await send(event.id, event.message);
    }
    return streamId;
  }
}
