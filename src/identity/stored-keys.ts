/**
 * The store's API keys, held in memory so that authenticating a request costs a map look-up and
 * one keyed hash, never a query. The cache follows the store's change feed: a key created,
 * rotated, suspended or revoked through this replica is applied before the admin API answers
 * (`refresh`), and one changed through another replica within the store's watch interval.
 */
import type { Logger } from '../log.ts';
import type { ApiKeyCredential } from '../store/records.ts';
import type { Store } from '../store/store.ts';

export type KeyLookup = {
  get(id: string): ApiKeyCredential | undefined;
  /** Notes that a key authenticated a request (written to the store in batches). */
  used(id: string): void;
  /**
   * Catches up with the store after a key id was not found, at most once per
   * {@link MISS_REFRESH_MS}: a key just made by another process (`mcplane admin create-key`, a
   * replica) works on its first request, while unknown ids cannot make the store busy.
   */
  caughtUp(): Promise<boolean>;
};

const MISS_REFRESH_MS = 250;

/** Above this many changes since the last refresh, reload every key instead of following them. */
const FOLLOW_LIMIT = 500;
const USE_FLUSH_MS = 30_000;

export class StoredKeyCache implements KeyLookup {
  readonly #store: Store;
  readonly #log: Logger;
  #keys = new Map<string, ApiKeyCredential>();
  #version = 0;
  #refreshing: Promise<void> | undefined;
  #again = false;
  readonly #uses = new Map<string, string>();
  #unwatch: (() => void) | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #lastMissRefresh = 0;

  constructor(store: Store, log: Logger) {
    this.#store = store;
    this.#log = log;
  }

  async start(): Promise<void> {
    await this.#reloadAll();
    this.#unwatch = this.#store.watch(() => {
      this.refresh().catch((err: unknown) => this.#log.warn({ err }, 'API key cache refresh failed'));
    });
    this.#flushTimer = setInterval(() => void this.flushUses(), USE_FLUSH_MS);
    this.#flushTimer.unref();
  }

  get size(): number {
    return this.#keys.size;
  }

  get(id: string): ApiKeyCredential | undefined {
    return this.#keys.get(id);
  }

  used(id: string): void {
    this.#uses.set(id, new Date().toISOString());
  }

  async caughtUp(): Promise<boolean> {
    const now = Date.now();
    if (now - this.#lastMissRefresh < MISS_REFRESH_MS) return false;
    this.#lastMissRefresh = now;
    await this.refresh();
    return true;
  }

  /** Applies every change made since the last refresh; concurrent calls share one pass. */
  async refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#again = false;
        await this.#follow();
      } while (this.#again);
    })().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async flushUses(): Promise<void> {
    if (this.#uses.size === 0) return;
    const uses = [...this.#uses].map(([id, at]) => ({ id, at }));
    this.#uses.clear();
    try {
      await this.#store.apiKeys.recordUse(uses);
    } catch (err) {
      this.#log.warn({ err }, 'could not record API key use');
    }
  }

  async close(): Promise<void> {
    this.#unwatch?.();
    if (this.#flushTimer) clearInterval(this.#flushTimer);
    await this.flushUses();
  }

  async #follow(): Promise<void> {
    const changes = await this.#store.changes.since(this.#version, FOLLOW_LIMIT);
    if (changes.length === 0) return;
    if (changes.length >= FOLLOW_LIMIT || changes.some((change) => change.action === 'tenant.purge')) {
      await this.#reloadAll();
      return;
    }
    for (const change of changes) {
      const [kind, id] = change.target.split(':', 2);
      if (kind !== 'api_key' || id === undefined) continue;
      // A rotation changes two keys: the old one (its target) and the one it issued.
      const issued = change.details.newKeyId;
      for (const keyId of typeof issued === 'string' ? [id, issued] : [id]) await this.#load(keyId);
    }
    this.#version = Math.max(this.#version, ...changes.map((change) => change.seq));
  }

  async #load(id: string): Promise<void> {
    const key = await this.#store.apiKeys.find(id);
    if (key === undefined) this.#keys.delete(id);
    else this.#keys.set(id, key);
  }

  async #reloadAll(): Promise<void> {
    const version = await this.#store.version();
    const keys = await this.#store.apiKeys.listCredentials();
    this.#keys = new Map(keys.map((key) => [key.id, key]));
    this.#version = version;
  }
}
