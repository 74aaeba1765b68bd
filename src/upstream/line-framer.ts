/**
 * Newline-delimited framing for stdio MCP (spec 2025-11-25, "Transports" §stdio: one JSON-RPC
 * message per line, UTF-8, no embedded newlines).
 *
 * Chunks are kept in a list and joined once per line, so a multi-megabyte line costs one copy
 * rather than one per chunk. A line longer than `maxLineBytes` is not buffered: the framer keeps
 * only its head and tail, which is enough to find the JSON-RPC id of an oversized response
 * (serializers put `id` first or last) so that exactly that request can be failed.
 */

const NEWLINE = 0x0a;
const SNIPPET_BYTES = 256;

export type OversizedLine = {
  readonly bytes: number;
  /** The first and last bytes of the line, for finding its id. */
  readonly head: string;
  readonly tail: string;
};

export type LineFramerEvents = {
  line: (text: string) => void;
  oversized: (info: OversizedLine) => void;
};

export class LineFramer {
  readonly #maxLineBytes: number;
  readonly #events: LineFramerEvents;
  #chunks: Buffer[] = [];
  #length = 0;
  #oversized: { bytes: number; head: Buffer; tail: Buffer } | undefined;

  constructor(maxLineBytes: number, events: LineFramerEvents) {
    this.#maxLineBytes = maxLineBytes;
    this.#events = events;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) {
        this.#append(chunk.subarray(start));
        return;
      }
      this.#append(chunk.subarray(start, end));
      this.#finishLine();
      start = end + 1;
    }
  }

  #append(part: Buffer): void {
    if (part.length === 0) return;
    if (this.#oversized) {
      this.#oversized.bytes += part.length;
      this.#oversized.tail = keepTail(this.#oversized.tail, part);
      return;
    }
    if (this.#length + part.length > this.#maxLineBytes) {
      const buffered = Buffer.concat([...this.#chunks, part]);
      this.#oversized = {
        bytes: buffered.length,
        head: buffered.subarray(0, SNIPPET_BYTES),
        tail: Buffer.from(buffered.subarray(-SNIPPET_BYTES)),
      };
      this.#chunks = [];
      this.#length = 0;
      return;
    }
    this.#chunks.push(part);
    this.#length += part.length;
  }

  #finishLine(): void {
    if (this.#oversized) {
      const { bytes, head, tail } = this.#oversized;
      this.#oversized = undefined;
      this.#events.oversized({ bytes, head: head.toString('utf8'), tail: tail.toString('utf8') });
      return;
    }
    if (this.#length === 0) return;
    const line =
      this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, this.#length);
    this.#chunks = [];
    this.#length = 0;
    const text = line.toString('utf8');
    // Tolerate CRLF framing from servers written on Windows.
    this.#events.line(text.endsWith('\r') ? text.slice(0, -1) : text);
  }
}

function keepTail(previous: Buffer, part: Buffer): Buffer {
  if (part.length >= SNIPPET_BYTES) return Buffer.from(part.subarray(-SNIPPET_BYTES));
  return Buffer.concat([previous, part]).subarray(-SNIPPET_BYTES);
}

/** Finds the integer id of an oversized line from its head or tail, if it has one. */
export function findNumericId(info: OversizedLine): number | undefined {
  const pattern = /"id"\s*:\s*(\d{1,15})\s*[,}]/g;
  // The top-level id is the last one in the tail or the first one in the head.
  const inTail = [...info.tail.matchAll(pattern)].at(-1);
  const match = inTail ?? pattern.exec(info.head);
  return match ? Number(match[1]) : undefined;
}
