/**
 * Request ids a Streamable HTTP session is using. The SDK's transport maps each request id to
 * the stream its answer goes on, so a second request with an id still in use would take over
 * the first one's stream: the first answer would then have nowhere to go. The face therefore
 * refuses such a request before the transport sees it.
 *
 * An id is in use while its request runs in the session, and from admission until the
 * transport has handed the request to the session: two POSTs can pass admission in the same
 * turn of the event loop, before either reached the session.
 */
import type { RequestId } from '../../jsonrpc/message.ts';
import type { ClientSession } from '../../session/client-session.ts';

export type IdConflict = { readonly id: RequestId; readonly withinBatch: boolean };

export class RequestIdClaims {
  readonly #handing = new WeakMap<ClientSession, Set<RequestId>>();

  /**
   * Claims every id of one POST (a batch may carry several) for `session`. Returns a conflict,
   * and claims nothing, when an id is in use in the session, in another POST being handed over,
   * or twice in this one. Otherwise the caller must {@link release} the ids once the transport
   * has handed the request to the session.
   */
  claim(session: ClientSession, ids: readonly RequestId[]): IdConflict | undefined {
    let handing = this.#handing.get(session);
    const seen = new Set<RequestId>();
    for (const id of ids) {
      if (seen.has(id)) return { id, withinBatch: true };
      if (handing?.has(id) || session.isInflight(id)) return { id, withinBatch: false };
      seen.add(id);
    }
    if (ids.length === 0) return undefined;
    if (!handing) this.#handing.set(session, (handing = new Set()));
    for (const id of ids) handing.add(id);
    return undefined;
  }

  release(session: ClientSession, ids: readonly RequestId[]): void {
    const handing = this.#handing.get(session);
    if (!handing) return;
    for (const id of ids) handing.delete(id);
    if (handing.size === 0) this.#handing.delete(session);
  }
}
