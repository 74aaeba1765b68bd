/**
 * Every SSE stream the HTTP faces are writing, each under a {@link StreamGuard}: a POST's
 * stream and the GET stream of Streamable HTTP (web streams the SDK fills, which
 * `@hono/node-server` pipes into the response as fast as the socket drains), and the legacy
 * `/sse` stream (which the SDK writes into the response directly). Counts what it closed.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../../log.ts';
import { StreamGuard, type CloseReason, type StreamLimits, type StreamSink } from './stream-guard.ts';

export type OutputStreamStats = {
  /** Streams closed because a message would have taken them past the high-water mark. */
  closedOverMark: number;
  /** Streams closed because their client took nothing for the stall timeout. */
  closedStalled: number;
};

export class OutputStreams {
  readonly stats: OutputStreamStats = { closedOverMark: 0, closedStalled: 0 };
  readonly #limits: StreamLimits;
  readonly #log: Logger;
  readonly #open = new Set<StreamGuard>();
  readonly #events = {
    closed: (guard: StreamGuard, reason: CloseReason, unsent: number): void => {
      this.#open.delete(guard);
      if (reason === 'stalled') this.stats.closedStalled++;
      else this.stats.closedOverMark++;
      this.#log.info({ reason, unsent }, 'closed an SSE stream whose client is not reading');
    },
    ended: (guard: StreamGuard): void => {
      this.#open.delete(guard);
    },
  };

  constructor(limits: StreamLimits, log: Logger) {
    this.#limits = limits;
    this.#log = log;
  }

  /** Streams being written. */
  get open(): number {
    return this.#open.size;
  }

  /** Bytes written to every open stream that their clients have not taken yet. */
  unsentBytes(): number {
    let total = 0;
    for (const guard of this.#open) total += guard.unsent();
    return total;
  }

  /**
   * The same response with its SSE body under a guard; other responses are returned as they are.
   * `outgoing` is the Node response it will be written to, when there is one; `burst` is how many
   * bytes the stream starts with at once (a resume's replay).
   */
  guardResponse(response: Response, outgoing: ServerResponse | undefined, burst = 0): Response {
    const type = response.headers.get('content-type') ?? '';
    if (!response.body || !type.startsWith('text/event-stream')) return response;
    const body = this.#guardBody(response.body, outgoing, burst);
    return new Response(body, { status: response.status, headers: response.headers });
  }

  /** Guards a Node response that an SDK transport writes SSE into directly (legacy `/sse`). */
  guardServerResponse(res: ServerResponse): void {
    const guard = this.#guard({ unsent: () => res.writableLength, destroy: () => res.destroy() });
    res.once('close', () => guard.end());
    const write = res.write.bind(res) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
    res.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      const bytes = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      if (!guard.admit(bytes)) return false;
      const accepted = write(chunk, ...rest);
      guard.wrote(bytes);
      return accepted;
    }) as ServerResponse['write'];
  }

  /**
   * Watches a whole answer already handed to a Node response (`res.end`) while its client has
   * not taken all of it: one that takes nothing for the stall timeout loses its connection, so a
   * client that never reads cannot hold a large answer's memory. Most answers are taken at once
   * and need no guard.
   */
  guardAnswer(res: ServerResponse, bytes: number): void {
    if (res.writableLength === 0 || res.destroyed) return;
    const guard = this.#guard({ unsent: () => res.writableLength, destroy: () => res.destroy() });
    res.once('close', () => guard.end());
    res.once('finish', () => guard.end());
    guard.wrote(bytes);
  }

  #guard(sink: StreamSink, burst = 0): StreamGuard {
    const guard = new StreamGuard(sink, this.#limits, this.#events, burst);
    this.#open.add(guard);
    return guard;
  }

  /**
   * Moves the SDK's stream into one whose queue is measured, as fast as the SDK fills it: the
   * SDK's own queue has no bound and cannot be seen, so it must stay empty. A queue of bytes
   * with a high-water mark of 0 makes `desiredSize` the negated bytes queued.
   */
  #guardBody(
    source: ReadableStream<Uint8Array>,
    outgoing: ServerResponse | undefined,
    burst: number,
  ): ReadableStream {
    const reader = source.getReader();
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    const queued = (): number => Math.max(0, -(controller?.desiredSize ?? 0));
    const guard = this.#guard(
      {
        unsent: () => queued() + (outgoing?.writableLength ?? 0),
        destroy: () => {
          reader.cancel().catch(() => undefined);
          // Destroying the socket drops what it holds; the node server then cancels this stream.
          if (outgoing) outgoing.destroy();
          else controller?.error(new Error('The client did not read the stream; it was closed'));
        },
      },
      burst,
    );
    outgoing?.once('close', () => guard.end());
    const pump = async (): Promise<void> => {
      for (;;) {
        const { done, value } = await reader.read();
        if (guard.closed && !done) return;
        if (done) {
          controller?.close();
          if (!outgoing) guard.end();
          return;
        }
        if (!guard.admit(value.byteLength)) return;
        controller?.enqueue(value);
        guard.wrote(value.byteLength);
      }
    };
    return new ReadableStream<Uint8Array>(
      {
        start: (started) => {
          controller = started;
          // A stream cancelled or closed under the pump makes its next call throw; nothing is lost.
          pump().catch(() => guard.end());
        },
        cancel: async (reason) => {
          guard.end();
          await reader.cancel(reason);
        },
      },
      { highWaterMark: 0, size: (chunk) => chunk.byteLength },
    );
  }
}
