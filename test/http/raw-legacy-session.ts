/**
 * A legacy HTTP+SSE (2024-11-05) session driven by plain `fetch`: the `GET /sse` stream, the
 * POST URL its `endpoint` event names, and the messages that come back on the stream.
 */
import { messageIn, readUntil, sseEvents, type SseEvent } from './sse-events.ts';

export type RawLegacySession = {
  /** POSTs one body (an object, or a string sent as it is) to the session's endpoint. */
  post(message: unknown): Promise<Response>;
  /** The next answer to this id not yet taken, reading the stream until it arrives. */
  answerTo(id: string | number): Promise<Record<string, unknown>>;
  /** Messages read off the stream and not yet taken by {@link answerTo}. */
  readonly received: Record<string, unknown>[];
  close(): void;
};

export async function openRawLegacySession(
  origin: string,
  headers: Record<string, string>,
): Promise<RawLegacySession> {
  const abort = new AbortController();
  const response = await fetch(new URL('/sse', origin), {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  if (response.status !== 200 || !response.body) throw new Error(`GET /sse got ${response.status}`);
  const events = sseEvents(response.body);
  const [endpoint] = await readUntil(events, (event: SseEvent) => event.event === 'endpoint');
  if (endpoint?.event !== 'endpoint') throw new Error('no endpoint event');
  const postUrl = new URL(endpoint.data, origin);
  const received: Record<string, unknown>[] = [];
  const post = (message: unknown): Promise<Response> =>
    fetch(postUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof message === 'string' ? message : JSON.stringify(message),
    });
  const take = (id: string | number): Record<string, unknown> | undefined => {
    const index = received.findIndex((message) => message.id === id && !('method' in message));
    return index === -1 ? undefined : received.splice(index, 1)[0];
  };
  const answerTo = async (id: string | number): Promise<Record<string, unknown>> => {
    const earlier = take(id);
    if (earlier) return earlier;
    const seen = await readUntil(events, (event) => {
      const message = messageIn(event);
      return message?.id === id && !('method' in message);
    });
    for (const event of seen) {
      const message = messageIn(event);
      if (message) received.push(message);
    }
    const answer = take(id);
    if (!answer) throw new Error(`the stream ended before an answer to ${id}`);
    return answer;
  };
  const session = { post, answerTo, received, close: () => abort.abort() };
  const init = await post({
    jsonrpc: '2.0',
    id: 'init',
    method: 'initialize',
    params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  });
  if (init.status !== 202) throw new Error(`initialize got ${init.status}`);
  await answerTo('init');
  const initialized = await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  if (initialized.status !== 202) throw new Error(`initialized got ${initialized.status}`);
  return session;
}
