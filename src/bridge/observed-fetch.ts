/**
 * A `fetch` for the SDK transports that tells the bridge what it cannot learn from
 * `Transport.send()`: when a POST has its response headers (the remote has taken the message),
 * and when an SSE body that should carry a response ends. The bodies pass through unchanged.
 */
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

export type ExchangeObserver = {
  /** A POST carrying `body` got its response headers, or failed before it got them. */
  readonly posted: (body: string) => void;
  /** A POST carrying `body` is answered by an SSE stream; returns what to call when it ends. */
  readonly postStreamOpened: (body: string) => (() => void) | undefined;
  /** A GET resuming from `lastEventId` opened an SSE stream; returns what to call when it ends. */
  readonly resumeStreamOpened: (lastEventId: string) => (() => void) | undefined;
};

export function observedFetch(observer: ExchangeObserver, base: FetchLike = fetch): FetchLike {
  return async (url, init) => {
    const method = (init?.method ?? 'GET').toUpperCase();
    const body = method === 'POST' && typeof init?.body === 'string' ? init.body : undefined;
    let response: Response;
    try {
      response = await base(url, init);
    } finally {
      if (body !== undefined) observer.posted(body);
    }
    if (!response.ok || !response.body || !isEventStream(response)) return response;
    const onEnd = streamEndHandler(observer, method, body, init);
    if (!onEnd) return response;
    return new Response(watchEnd(response.body, onEnd), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

function streamEndHandler(
  observer: ExchangeObserver,
  method: string,
  body: string | undefined,
  init: RequestInit | undefined,
): (() => void) | undefined {
  if (body !== undefined) return observer.postStreamOpened(body);
  if (method !== 'GET') return undefined;
  const lastEventId = new Headers(init?.headers).get('last-event-id');
  return lastEventId ? observer.resumeStreamOpened(lastEventId) : undefined;
}

function isEventStream(response: Response): boolean {
  return (response.headers.get('content-type') ?? '').toLowerCase().startsWith('text/event-stream');
}

/** The same bytes, calling `onEnd` once when the body finishes, fails or is cancelled. */
function watchEnd(body: ReadableStream<Uint8Array>, onEnd: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          end();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        controller.error(error);
        end();
      }
    },
    async cancel(reason) {
      end();
      await reader.cancel(reason);
    },
  });
}

/** The id of the JSON-RPC request a POST body carries, if it carries one. */
export function requestIdOfBody(body: string): string | number | undefined {
  try {
    const value = JSON.parse(body) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const record = value as Record<string, unknown>;
    const id = record.id;
    return 'method' in record && (typeof id === 'string' || typeof id === 'number') ? id : undefined;
  } catch {
    return undefined;
  }
}
