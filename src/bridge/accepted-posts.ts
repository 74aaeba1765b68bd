/**
 * Waiters for "the remote has taken this POST": its response headers arrived, or the POST failed
 * before they did. `Transport.send()` resolves only after a JSON response's whole body, so the
 * bridge learns of the headers from its fetch (see observed-fetch.ts) and matches them to the
 * message by the exact body the SDK posts.
 */
export class AcceptedPosts {
  readonly #waiters = new Map<string, (() => void)[]>();

  /** A promise for `body` being taken, and a function that stops waiting for it. */
  expect(body: string): { readonly accepted: Promise<void>; readonly forget: () => void } {
    let resolveAccepted: () => void = () => {};
    const accepted = new Promise<void>((resolve) => {
      resolveAccepted = resolve;
    });
    this.#waiters.set(body, [...(this.#waiters.get(body) ?? []), resolveAccepted]);
    return { accepted, forget: () => this.#remove(body, resolveAccepted) };
  }

  /** The POST carrying `body` got its response headers, or failed. */
  posted(body: string): void {
    const first = this.#waiters.get(body)?.[0];
    if (!first) return;
    this.#remove(body, first);
    first();
  }

  #remove(body: string, waiter: () => void): void {
    const waiters = this.#waiters.get(body);
    if (!waiters) return;
    const index = waiters.indexOf(waiter);
    if (index >= 0) waiters.splice(index, 1);
    if (waiters.length === 0) this.#waiters.delete(body);
  }
}
