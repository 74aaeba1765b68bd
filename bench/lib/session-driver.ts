/**
 * Drives one in-process gateway session the way a transport would: messages go in through
 * `session.receive`, and answers come back on `session.output`, matched to requests by id.
 */
import type { JSONRPCMessage } from '../../src/jsonrpc/message.ts';
import type { ClientSession } from '../../src/session/client-session.ts';

export type SessionReply = {
  readonly result?: Record<string, unknown>;
  readonly error?: { code: number; message: string };
};

type Waiting = {
  readonly resolve: (reply: SessionReply) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
};

export class SessionDriver {
  readonly session: ClientSession;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;

  constructor(session: ClientSession) {
    this.session = session;
    session.output = (message) => this.#onOutput(message);
  }

  request(method: string, params: Record<string, unknown>, timeoutMs = 10_000): Promise<SessionReply> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.#waiting.set(id, { resolve, reject, timer });
      this.session.receive({ jsonrpc: '2.0', id, method, params });
    });
  }

  /** The initialize handshake (spec 2025-11-25, "Lifecycle"). */
  async initialize(): Promise<void> {
    const reply = await this.request('initialize', {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'mcplane-bench', version: '0.0.0' },
    });
    if (reply.error) throw new Error(`initialize failed: ${reply.error.message}`);
    this.session.receive({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  #onOutput(message: JSONRPCMessage): void {
    if ('method' in message || !('id' in message) || typeof message.id !== 'number') return;
    const waiting = this.#waiting.get(message.id);
    if (!waiting) return;
    this.#waiting.delete(message.id);
    clearTimeout(waiting.timer);
    waiting.resolve(message);
  }
}
