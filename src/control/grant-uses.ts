/**
 * Records in the admin change log that a grant was used: `grant.use`, under the owner's tenant
 * (beside the grant's `grant.create` and `grant.revoke`), with the grantee's principal as the
 * actor. A use is a call routed to a shared server that got a result.
 *
 * Only the first use of each grant per UTC day (per gateway process) is written: a change-log
 * entry is a store write that bumps the store version, which every replica follows, so one per
 * call or per session would cost each call a write. The audit log records every call, with the
 * owner in `serverOwner`; the change log says that, and from when, a grant is in use.
 */
import type { Principal } from '../identity/principal.ts';
import type { Logger } from '../log.ts';
import type { SharedGrant } from '../router/server-route.ts';
import type { Store } from '../store/store.ts';

export class GrantUses {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #now: () => Date;
  #day = '';
  /** Grants whose use today is recorded or being recorded; cleared when the day turns. */
  readonly #noted = new Set<string>();

  constructor(store: Store, log: Logger, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#log = log;
    this.#now = now;
  }

  /** Notes a use; writes the entry (without waiting) when it is the grant's first today. */
  readonly note = (
    grant: SharedGrant,
    server: string,
    call: { readonly session: { readonly principal: Principal } },
  ): void => {
    const { principal } = call.session;
    const day = this.#now().toISOString().slice(0, 10);
    if (day !== this.#day) {
      this.#day = day;
      this.#noted.clear();
    }
    if (this.#noted.has(grant.id)) return;
    this.#noted.add(grant.id);
    const change = {
      action: 'grant.use',
      target: `grant:${grant.id}`,
      details: { server, granteeTenantId: principal.tenantId, firstUseOn: day },
    };
    this.#store.changes.record(grant.owner, change, { actor: principal.subject }).catch((err: unknown) => {
      // Tried again on the next use.
      this.#noted.delete(grant.id);
      this.#log.warn({ err, grant: grant.id }, 'could not record the use of a grant');
    });
  };
}
