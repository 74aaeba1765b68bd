/** Server-sent events as a test reads them off a raw `fetch` response (WHATWG HTML §9.2). */

export type SseEvent = {
  readonly id?: string;
  readonly event?: string;
  readonly data: string;
  readonly retry?: number;
};

function parseEvent(block: string): SseEvent | undefined {
  let id: string | undefined;
  let event: string | undefined;
  let retry: number | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'retry') retry = Number(value);
    else if (field === 'data') data.push(value);
  }
  if (id === undefined && event === undefined && retry === undefined && data.length === 0) return undefined;
  return {
    data: data.join('\n'),
    ...(id === undefined ? {} : { id }),
    ...(event === undefined ? {} : { event }),
    ...(retry === undefined ? {} : { retry }),
  };
}

/** Every event of a complete SSE body. */
export function parseSse(text: string): SseEvent[] {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n\n')
    .flatMap((block) => parseEvent(block) ?? []);
}

/** Events as they arrive; stops when the stream ends or the caller stops iterating. */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const event = parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event) yield event;
      }
    }
  } finally {
    // Leaving the loop early drops the connection, as a client that goes away would.
    await reader.cancel().catch(() => undefined);
  }
}

/** The JSON-RPC message an event carries, or undefined for a priming event (empty data). */
export function messageIn(event: SseEvent): Record<string, unknown> | undefined {
  return event.data === '' ? undefined : (JSON.parse(event.data) as Record<string, unknown>);
}

/**
 * Reads events until `stop` holds for one (returned last) or the stream ends, leaving the
 * stream open for further reads, unlike breaking out of a `for await` loop.
 */
export async function readUntil(
  events: AsyncGenerator<SseEvent>,
  stop: (event: SseEvent) => boolean,
): Promise<SseEvent[]> {
  const seen: SseEvent[] = [];
  for (let next = await events.next(); next.done !== true; next = await events.next()) {
    seen.push(next.value);
    if (stop(next.value)) break;
  }
  return seen;
}

/**
 * The JSON-RPC messages of a POST's answer, which the server may send as one JSON body or as an
 * SSE stream (spec 2025-11-25, "Transports" §Sending messages to the server).
 */
export async function answerMessages(response: Response): Promise<Record<string, unknown>[]> {
  const text = await response.text();
  if (response.headers.get('content-type')?.startsWith('application/json')) {
    const body = JSON.parse(text) as Record<string, unknown> | Record<string, unknown>[];
    return Array.isArray(body) ? body : [body];
  }
  return parseSse(text).flatMap((event): Record<string, unknown>[] => {
    const message = messageIn(event);
    return message ? [message] : [];
  });
}
