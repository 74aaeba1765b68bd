/**
 * An HTTP response a test client does not read: `http.request` with the response paused, so
 * the client's socket stops taking bytes and the server's pile up, as with a client that hangs
 * or reads too slowly. The test can later read what did arrive, up to the point where the
 * server closed the stream.
 */
import http from 'node:http';

export type UnreadStream = {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** Whether the connection has closed (seen only once reading resumes). */
  readonly ended: Promise<void>;
  /** Resumes reading; resolves with everything received once the connection has closed. */
  readAll(): Promise<string>;
  /** Resumes reading until `stop` holds for what was received so far. */
  readUntil(stop: (text: string) => boolean): Promise<string>;
  destroy(): void;
};

/** Sends a request and pauses its response as soon as the headers are in. */
export function openUnread(
  url: URL,
  options: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
): Promise<UnreadStream> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: options.method, headers: options.headers }, (response) => {
      response.pause();
      let text = '';
      const ended = new Promise<void>((done) => {
        response.once('close', done);
        response.once('error', () => done());
      });
      const listeners: (() => void)[] = [];
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
        for (const listener of [...listeners]) listener();
      });
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        ended,
        readAll: async () => {
          response.resume();
          await ended;
          return text;
        },
        readUntil: (stop) =>
          new Promise((done, fail) => {
            const check = (): void => {
              if (!stop(text)) return;
              response.pause();
              listeners.splice(listeners.indexOf(check), 1);
              done(text);
            };
            listeners.push(check);
            void ended.then(() => (stop(text) ? done(text) : fail(new Error('stream ended first'))));
            response.resume();
            check();
          }),
        destroy: () => request.destroy(),
      });
    });
    request.on('error', reject);
    request.end(options.body);
  });
}
