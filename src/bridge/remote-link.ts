/**
 * The bridge's link to the remote MCP server, at the JSON-RPC message level: every message from
 * the local client goes to the remote unchanged (ids included), every message from the remote
 * comes back unchanged. The link hides what goes wrong in between:
 *
 * - a Streamable HTTP server that answers the first POST with a 4xx is retried over the legacy
 *   HTTP+SSE transport (spec 2025-11-25, "Transports" §Backwards Compatibility);
 * - a 404 for a request that carried a session id means the session is gone (§Session
 *   Management): the link opens a new session, replays the client's `initialize` (swallowing
 *   the answer, which the client already has) and `notifications/initialized`, then resends;
 * - an unreachable remote is retried with exponential backoff while client messages wait in a
 *   bounded queue;
 * - a request that cannot be delivered, or whose answer cannot come any more, is answered with
 *   a JSON-RPC error naming the reason.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import type { StreamableHTTPReconnectionOptions } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { GatewayError } from '../errors.ts';
import {
  errorResponse,
  isRequest,
  isRequestId,
  isResponse,
  type JSONRPCMessage,
  type RequestId,
} from '../jsonrpc/message.ts';
import type { Logger } from '../log.ts';
import { AcceptedPosts } from './accepted-posts.ts';
import { Backoff, type BackoffPolicy } from './backoff.ts';
import { openUpstream, safeUrl, type HttpUpstream, type UpstreamKind } from './http-upstream.ts';
import { observedFetch, requestIdOfBody } from './observed-fetch.ts';
import { OutboundQueue, type QueuedMessage } from './outbound-queue.ts';
import { PendingRequests } from './pending-requests.ts';
import { actionFor, classifySendFailure, describeSendFailure, type SendFailure } from './send-failure.ts';
import { SessionHandshake } from './session-handshake.ts';

export type RemoteLinkOptions = {
  readonly url: URL;
  /** Sent on every HTTP request; never logged. */
  readonly headers: Readonly<Record<string, string>>;
  /** Client messages that may wait while the remote is unreachable. */
  readonly queueLimit: number;
  /** How long a client message may wait for the remote before it is given up. */
  readonly queueTimeoutMs: number;
  readonly backoff: BackoffPolicy;
  readonly reconnection: StreamableHTTPReconnectionOptions;
  /** How long a broken, resumable response stream may take to come back. */
  readonly resumeBudgetMs: number;
  /** How long the replayed `initialize` may take after a session expired. */
  readonly reinitializeTimeoutMs: number;
  /** How long the DELETE that ends the remote session may take on close. */
  readonly terminateTimeoutMs: number;
  readonly log: Logger;
};

type Recovery = { reopen: boolean; delay: boolean };

const ORDER_PATIENCE_MS = 500;
const REPLACED = 'the remote session ended before it answered; the request may or may not have run';

export class RemoteLink {
  readonly #options: RemoteLinkOptions;
  readonly #toClient: (message: JSONRPCMessage) => void;
  readonly #log: Logger;
  readonly #queue: OutboundQueue;
  readonly #backoff: Backoff;
  readonly #pending: PendingRequests;
  readonly #fetch;
  readonly #handshake = new SessionHandshake();
  /** Keeps sends in stdin order: each waits until the remote took the previous one. */
  readonly #accepted = new AcceptedPosts();
  readonly #closing = new AbortController();
  #kind: UpstreamKind = 'streamable-http';
  #fallbackReason: string | undefined;
  #upstream: HttpUpstream | undefined;
  #generation = 0;
  #seq = 0;
  #sendChain: Promise<void> = Promise.resolve();
  #recovery: Recovery | undefined;

  constructor(options: RemoteLinkOptions, toClient: (message: JSONRPCMessage) => void) {
    this.#options = options;
    this.#toClient = toClient;
    this.#log = options.log;
    this.#queue = new OutboundQueue({
      limit: options.queueLimit,
      timeoutMs: options.queueTimeoutMs,
      onDropped: (entry, cause) =>
        this.#undeliverable(
          entry.message,
          cause === 'overflow'
            ? `the bridge queue is full (${options.queueLimit} messages) while the remote is unreachable`
            : `the remote was not reachable within ${Math.round(options.queueTimeoutMs / 1000)} s`,
        ),
    });
    this.#backoff = new Backoff(options.backoff);
    this.#pending = new PendingRequests({
      resumeBudgetMs: options.resumeBudgetMs,
      fail: (id, reason) => this.#answerWithError(id, reason),
    });
    this.#fetch = observedFetch({
      posted: (body) => this.#accepted.posted(body),
      postStreamOpened: (body) => {
        const id = requestIdOfBody(body);
        return id !== undefined && this.#pending.has(id) ? () => this.#pending.streamEnded(id) : undefined;
      },
      resumeStreamOpened: (lastEventId) => this.#pending.resumeOpened(lastEventId),
    });
  }

  get closed(): boolean {
    return this.#closing.signal.aborted;
  }

  /** Takes one message from the local client. */
  send(message: JSONRPCMessage): void {
    if (this.closed) return;
    this.#handshake.noteFromClient(message);
    if (isRequest(message)) this.#pending.add(message.id);
    const cancelled = cancelledRequestId(message);
    if (cancelled !== undefined) this.#pending.cancelled(cancelled);
    const entry: QueuedMessage = { seq: ++this.#seq, message, queuedAt: Date.now() };
    // A second initialize from the client starts a new session rather than reusing this one.
    const fresh =
      isRequest(message) && message.method === 'initialize' && this.#upstream?.hasSession() === true;
    if (this.#recovery || !this.#upstream || fresh) {
      this.#queue.add(entry);
      this.#recover({ reopen: !this.#upstream || fresh, delay: false });
      return;
    }
    this.#dispatch(entry);
  }

  /** Ends the remote session (DELETE when it has one) and stops every timer and stream. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.#closing.abort();
    this.#queue.clear();
    this.#pending.clear();
    const upstream = this.#upstream;
    this.#upstream = undefined;
    if (!upstream) return;
    try {
      await upstream.terminate(this.#options.terminateTimeoutMs);
    } catch (error) {
      this.#log.warn({ reason: classifySendFailure(error).reason }, 'could not end the remote session');
    }
    await upstream.close();
  }

  // Sends go out one at a time, each after the remote took the previous one (its response
  // headers), so the remote sees stdin's order; a slow response body blocks nothing, and a
  // remote slow to send even its headers holds the next message back for ORDER_PATIENCE_MS.
  #dispatch(entry: QueuedMessage): void {
    this.#sendChain = this.#sendChain
      .then(() => this.#transmit(entry))
      .catch((error: unknown) =>
        this.#log.error({ error: String(error) }, 'bridge send failed unexpectedly'),
      );
  }

  async #transmit(entry: QueuedMessage): Promise<void> {
    const upstream = this.#upstream;
    if (this.closed) return;
    if (this.#recovery || !upstream) {
      this.#queue.add(entry);
      return;
    }
    const generation = this.#generation;
    const { message } = entry;
    const { accepted, forget } = this.#accepted.expect(JSON.stringify(message));
    const onToken = isRequest(message)
      ? (token: string) => this.#pending.resumptionToken(message.id, token)
      : undefined;
    const outcome = upstream.send(message, onToken).then(
      () => this.#delivered(entry, generation),
      (error: unknown) => this.#sendFailed(entry, generation, upstream, error),
    );
    let patience: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      patience = setTimeout(resolve, ORDER_PATIENCE_MS);
    });
    await Promise.race([accepted, outcome, waited]);
    clearTimeout(patience);
    forget();
  }

  #delivered(entry: QueuedMessage, generation: number): void {
    this.#backoff.reset();
    const { message } = entry;
    if (!isRequest(message)) return;
    if (generation === this.#generation) this.#pending.delivered(message.id, generation);
    else this.#pending.fail(message.id, REPLACED);
  }

  #sendFailed(entry: QueuedMessage, generation: number, upstream: HttpUpstream, error: unknown): void {
    if (this.closed) return;
    const failure = classifySendFailure(error);
    const { message } = entry;
    const stale = generation !== this.#generation;
    const action = actionFor({
      failure,
      message,
      upstream: { kind: upstream.kind, hasSession: upstream.hasSession() },
      initialized: this.#handshake.answered,
      stale,
    });
    switch (action) {
      case 'wait':
        this.#queue.add(entry);
        // A legacy event stream does not survive the outage; a Streamable HTTP session may.
        if (!stale) this.#recover({ reopen: upstream.kind === 'sse', delay: true });
        else if (!this.#recovery) this.#flush();
        return;
      case 'fallback':
        this.#log.info(
          { reason: failure.reason },
          'the remote refused Streamable HTTP; trying legacy HTTP+SSE',
        );
        this.#kind = 'sse';
        this.#fallbackReason = failure.reason;
        this.#queue.add(entry);
        this.#recover({ reopen: true, delay: false });
        return;
      case 'reinitialize':
        this.#queue.add(entry);
        if (stale) {
          if (!this.#recovery) this.#flush();
          return;
        }
        this.#log.info('the remote session expired (HTTP 404); re-initializing');
        this.#recover({ reopen: true, delay: false });
        return;
      case 'drop':
        if (isRequest(message)) this.#undeliverable(message, REPLACED);
        else
          this.#log.warn(
            { reason: failure.reason },
            'dropped a message meant for a remote session that ended',
          );
        return;
      case 'fail':
        this.#undeliverable(message, describeSendFailure(failure));
        return;
    }
  }

  #recover(request: { reopen: boolean; delay: boolean }): void {
    if (this.closed) return;
    if (this.#recovery) {
      this.#recovery.reopen ||= request.reopen;
      return;
    }
    const recovery: Recovery = { ...request };
    this.#recovery = recovery;
    void this.#runRecovery(recovery).finally(() => {
      if (this.#recovery === recovery) this.#recovery = undefined;
      if (!this.closed) this.#flush();
    });
  }

  async #runRecovery(recovery: Recovery): Promise<void> {
    while (!this.closed) {
      if (recovery.delay) {
        const delayMs = this.#backoff.next();
        this.#log.warn(
          { attempt: this.#backoff.attempt, delayMs, queued: this.#queue.size },
          'the remote is unreachable; retrying',
        );
        const slept = await sleep(delayMs, true, { signal: this.#closing.signal, ref: false }).catch(
          () => false,
        );
        if (!slept) return;
      }
      if (!recovery.reopen) return;
      try {
        await this.#reopen();
        return;
      } catch (error) {
        if (this.closed) return;
        const failure = classifySendFailure(error);
        if (failure.kind === 'unreachable') {
          recovery.delay = true;
          continue;
        }
        this.#giveUpQueued(this.#openFailureReason(failure));
        return;
      }
    }
  }

  /** Replaces the upstream with a new session, replaying the handshake when there was one. */
  async #reopen(): Promise<void> {
    const previous = this.#upstream;
    this.#upstream = undefined;
    await previous?.close();
    const generation = ++this.#generation;
    this.#pending.failDeliveredBefore(generation, REPLACED);
    const upstream = await openUpstream(
      this.#kind,
      {
        url: this.#options.url,
        headers: this.#options.headers,
        fetch: this.#fetch,
        reconnection: this.#options.reconnection,
      },
      {
        message: (message) => this.#fromRemote(message, generation),
        error: (error) => this.#upstreamError(error, generation),
      },
      this.#closing.signal,
    );
    if (this.closed) {
      await upstream.close();
      return;
    }
    try {
      if (this.#handshake.answered) {
        const timeout = AbortSignal.timeout(this.#options.reinitializeTimeoutMs);
        await this.#handshake.replay(upstream, generation, AbortSignal.any([this.#closing.signal, timeout]));
      }
    } catch (error) {
      await upstream.close();
      throw error;
    }
    this.#upstream = upstream;
    if (this.#handshake.answered) this.#log.info({ generation }, 're-initialized the remote session');
    else this.#log.debug({ transport: upstream.kind, generation }, 'opened the remote transport');
  }

  #fromRemote(message: JSONRPCMessage, generation: number): void {
    if (this.closed) return;
    const handshake = this.#handshake.noteFromRemote(message);
    if (handshake === 'swallow') return;
    if (handshake?.answered !== undefined) this.#upstream?.setProtocolVersion(handshake.answered);
    if (handshake) {
      this.#log.info(
        { transport: this.#upstream?.kind, protocolVersion: handshake.answered },
        'connected to the remote',
      );
    }
    const id = isResponse(message) ? message.id : undefined;
    if (id !== undefined && this.#pending.settle(id) === 'late') {
      this.#log.debug({ id, generation }, 'dropped a late answer to a request already failed');
      return;
    }
    this.#toClient(message);
  }

  #upstreamError(error: Error, generation: number): void {
    if (this.closed || generation !== this.#generation) return;
    // The legacy event stream broke: the EventSource would reconnect into a new, uninitialized
    // session on its own, so the bridge replaces the upstream itself and replays the handshake.
    if (error instanceof SseError && this.#upstream?.kind === 'sse') {
      this.#log.warn(
        { reason: classifySendFailure(error).reason },
        'the legacy event stream broke; reconnecting',
      );
      void this.#upstream.close();
      this.#recover({ reopen: true, delay: true });
      return;
    }
    // The SDK's last word after its Last-Event-ID retries (StreamableHTTPClientTransport).
    if (error.message.startsWith('Maximum reconnection attempts')) {
      this.#pending.failBroken('the response stream broke and could not be resumed');
    }
    this.#log.debug({ error: error.message }, 'remote transport error');
  }

  #flush(): void {
    for (const entry of this.#queue.takeAll()) this.#dispatch(entry);
  }

  #giveUpQueued(reason: string): void {
    for (const entry of this.#queue.takeAll()) this.#undeliverable(entry.message, reason);
  }

  #openFailureReason(failure: SendFailure): string {
    if (this.#kind === 'sse' && this.#fallbackReason !== undefined) {
      const fallback = this.#fallbackReason;
      this.#kind = 'streamable-http';
      this.#fallbackReason = undefined;
      return `the remote refused Streamable HTTP (${fallback}) and the legacy HTTP+SSE transport (${failure.reason})`;
    }
    return `could not open a new session with the remote: ${describeSendFailure(failure)}`;
  }

  #undeliverable(message: JSONRPCMessage, reason: string): void {
    if (isRequest(message)) {
      this.#log.warn({ id: message.id, method: message.method, reason }, 'request not delivered');
      this.#pending.fail(message.id, `not delivered: ${reason}`);
    } else {
      const method = 'method' in message ? message.method : undefined;
      this.#log.warn({ method, reason }, 'message not delivered');
    }
  }

  #answerWithError(id: RequestId, reason: string): void {
    if (this.closed) return;
    const error = new GatewayError(
      'UPSTREAM_UNAVAILABLE',
      `mcplane bridge: ${reason} (${safeUrl(this.#options.url)})`,
    );
    this.#toClient(errorResponse(id, error.toJsonRpcError()));
  }
}

/** The request a `notifications/cancelled` names (spec 2025-11-25, "Cancellation"). */
function cancelledRequestId(message: JSONRPCMessage): RequestId | undefined {
  if (!('method' in message) || message.method !== 'notifications/cancelled' || 'id' in message)
    return undefined;
  const requestId = (message.params as { requestId?: unknown } | undefined)?.requestId;
  return isRequestId(requestId) ? requestId : undefined;
}
