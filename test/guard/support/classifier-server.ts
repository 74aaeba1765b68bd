/**
 * A stand-in classifier service on 127.0.0.1:0: records every request body and answers with
 * whatever the test sets, optionally late.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Answer = { status?: number; body: unknown; delayMs?: number };

export class ClassifierServer {
  readonly requests: unknown[] = [];
  answer: (body: Record<string, unknown>) => Answer = () => ({ body: { score: 0 } });
  readonly #server: Server;
  readonly #timers = new Set<NodeJS.Timeout>();

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<ClassifierServer> {
    const server = createServer();
    const instance = new ClassifierServer(server);
    server.on(
      'request',
      (request: IncomingMessage, response: ServerResponse) => void instance.handle(request, response),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return instance;
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/classify`;
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    this.requests.push(body);
    const answer = this.answer(body);
    const send = (): void => {
      response.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer.body));
    };
    if (!answer.delayMs) return send();
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!response.destroyed) send();
    }, answer.delayMs);
    this.#timers.add(timer);
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
