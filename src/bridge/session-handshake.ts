/**
 * The client's handshake with the remote, kept so a new remote session can be opened without the
 * client noticing (spec 2025-11-25, "Transports" §Session Management: on 404 the client starts a
 * new session with a fresh initialize). The client already holds an InitializeResult, so the
 * replayed `initialize` goes out under an id of the bridge's own and its answer is swallowed.
 */
import {
  isErrorResponse,
  isRequest,
  isResponse,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type JSONRPCRequest,
} from '../jsonrpc/message.ts';
import type { HttpUpstream } from './http-upstream.ts';

const REPLAY_ID_PREFIX = 'mcplane-bridge/reinitialize-';

export class SessionHandshake {
  #initialize: JSONRPCRequest | undefined;
  #initialized: JSONRPCNotification | undefined;
  #answered = false;
  #replay: { readonly id: string; readonly settle: (message: JSONRPCMessage) => void } | undefined;

  /** Whether the remote answered the client's `initialize`: there is a session to replay. */
  get answered(): boolean {
    return this.#answered;
  }

  /** Records the client's `initialize` and `notifications/initialized` as they go out. */
  noteFromClient(message: JSONRPCMessage): void {
    if (isRequest(message) && message.method === 'initialize') {
      this.#initialize = message;
      this.#initialized = undefined;
      this.#answered = false;
    } else if ('method' in message && !('id' in message) && message.method === 'notifications/initialized') {
      this.#initialized = message;
    }
  }

  /**
   * Looks at a message from the remote: returns `swallow` for the answer to a replay, `answered`
   * with the protocol version for the InitializeResult of the client's own `initialize`.
   */
  noteFromRemote(message: JSONRPCMessage): 'swallow' | { answered: string | undefined } | undefined {
    if (!isResponse(message)) return undefined;
    if (this.#replay && message.id === this.#replay.id) {
      this.#replay.settle(message);
      return 'swallow';
    }
    // A late answer to an earlier replay that timed out.
    if (typeof message.id === 'string' && message.id.startsWith(REPLAY_ID_PREFIX)) return 'swallow';
    if (this.#initialize === undefined || message.id !== this.#initialize.id || isErrorResponse(message)) {
      return undefined;
    }
    this.#answered = true;
    return { answered: protocolVersionOf(message) };
  }

  /**
   * Initializes `upstream` as the client did: its `initialize` (answer swallowed), then its
   * `notifications/initialized`. Rejects when the remote refuses, or when `signal` aborts first.
   */
  async replay(upstream: HttpUpstream, generation: number, signal: AbortSignal): Promise<void> {
    const initialize = this.#initialize;
    if (!initialize) return;
    const id = `${REPLAY_ID_PREFIX}${generation}`;
    const answer = new Promise<JSONRPCMessage>((resolve) => {
      this.#replay = { id, settle: resolve };
    });
    try {
      await upstream.send({ ...initialize, id });
      const response = await untilAborted(answer, signal);
      if (isErrorResponse(response)) {
        throw new Error(`the remote refused the replayed initialize: ${response.error.message}`);
      }
      const version = protocolVersionOf(response);
      if (version !== undefined) upstream.setProtocolVersion(version);
      if (this.#initialized) await upstream.send(this.#initialized);
    } finally {
      this.#replay = undefined;
    }
  }
}

function protocolVersionOf(message: JSONRPCMessage): string | undefined {
  const result = (message as { result?: { protocolVersion?: unknown } }).result;
  return typeof result?.protocolVersion === 'string' ? result.protocolVersion : undefined;
}

/** `work`, or a rejection once `signal` aborts (the bridge closing, or a timeout). */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      const reason: unknown = signal.reason;
      const timedOut = !(reason instanceof Error) || reason.name === 'TimeoutError';
      reject(timedOut ? new Error('the remote did not answer the replayed initialize in time') : reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
