/**
 * A grant's expiry changes nothing in the store, so nothing announces it: the gateway keeps one
 * timer, for the earliest expiry among the view's grants, and rebuilds the view when it fires
 * (the rebuilt view leaves the expired grant out, and its grantees hear `list_changed`).
 */
import type { Grant } from '../store/records.ts';

/** setTimeout's longest delay; a later expiry is re-armed when this one fires. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class GrantExpiry {
  readonly #onExpiry: () => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(onExpiry: () => void) {
    this.#onExpiry = onExpiry;
  }

  /** Arms the timer for the earliest expiry after `now` among `grants` (none: disarmed). */
  schedule(grants: readonly Grant[], now: number = Date.now()): void {
    this.stop();
    let next = Infinity;
    for (const grant of grants) {
      if (grant.expiresAt === null) continue;
      const at = Date.parse(grant.expiresAt);
      if (at > now && at < next) next = at;
    }
    if (next === Infinity) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#onExpiry();
      },
      Math.min(next - now, MAX_DELAY_MS),
    );
    // Never what keeps the process alive.
    this.#timer.unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
