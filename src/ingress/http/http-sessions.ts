/**
 * The HTTP face's sessions: each `Mcp-Session-Id` (or legacy SSE session id) maps to the
 * transport that speaks for it, the gateway session behind it and the principal that opened it.
 * Sessions that see no request for `idleTimeout` are closed, since clients rarely send DELETE.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { GatewayError } from '../../errors.ts';
import type { Principal } from '../../identity/principal.ts';
import type { ClientSession } from '../../session/client-session.ts';

export type HttpSession<T extends Transport = Transport> = {
  readonly id: string;
  readonly transport: T;
  readonly session: ClientSession;
  readonly principal: Principal;
  lastSeen: number;
};

export class HttpSessions<T extends Transport = Transport> {
  readonly #byId = new Map<string, HttpSession<T>>();
  readonly #sweep: NodeJS.Timeout;
  readonly #idleTimeout: number;

  constructor(idleTimeout: number) {
    this.#idleTimeout = idleTimeout;
    this.#sweep = setInterval(() => this.#expireIdle(), Math.max(1_000, Math.min(idleTimeout / 4, 60_000)));
    this.#sweep.unref();
  }

  get size(): number {
    return this.#byId.size;
  }

  add(entry: HttpSession<T>): void {
    this.#byId.set(entry.id, entry);
    entry.session.onClosed(() => this.#byId.delete(entry.id));
  }

  get(id: string): HttpSession<T> | undefined {
    const entry = this.#byId.get(id);
    if (entry) entry.lastSeen = Date.now();
    return entry;
  }

  /** Closes every session, answering its running calls with `reason`; their transports end their streams. */
  async closeAll(reason?: GatewayError): Promise<void> {
    clearInterval(this.#sweep);
    await Promise.allSettled([...this.#byId.values()].map((entry) => entry.session.close(reason)));
  }

  #expireIdle(): void {
    const cutoff = Date.now() - this.#idleTimeout;
    for (const entry of this.#byId.values()) {
      if (entry.lastSeen < cutoff && entry.session.inflight === 0) void entry.session.close();
    }
  }
}
