/**
 * Stale-if-error copies: the last good result of a read-only tool or resource, per tenant and
 * canonical hash of the arguments, served (marked stale) while the server cannot answer.
 * Bounded by a TTL, a count and a byte size per server; the least recently stored goes first.
 */
import { canonicalHash } from '../jsonrpc/canonical-json.ts';

type Kept = { readonly result: Record<string, unknown>; readonly bytes: number; readonly storedAt: number };

export type StaleBounds = { readonly ttl: number; readonly maxEntries: number; readonly maxBytes: number };

export class StaleCache {
  readonly #entries = new Map<string, Kept>();
  #bytes = 0;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The key of one call: tenant, method, the item it names and its arguments, by content. */
  static keyOf(tenant: string, method: string, item: string, args: unknown): string {
    return `${tenant}\n${method}\n${item}\n${canonicalHash(args ?? null)}`;
  }

  store(key: string, result: Record<string, unknown>, bounds: StaleBounds): void {
    const bytes = Buffer.byteLength(JSON.stringify(result));
    this.#delete(key);
    if (bytes > bounds.maxBytes) return;
    this.#entries.set(key, { result, bytes, storedAt: this.#now() });
    this.#bytes += bytes;
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= bounds.maxEntries && this.#bytes <= bounds.maxBytes) break;
      this.#delete(oldest);
    }
  }

  /** The kept result and its age in ms, unless older than `ttl` (then it is dropped). */
  find(key: string, ttl: number): { result: Record<string, unknown>; ageMs: number } | undefined {
    const kept = this.#entries.get(key);
    if (!kept) return undefined;
    const ageMs = this.#now() - kept.storedAt;
    if (ageMs > ttl) {
      this.#delete(key);
      return undefined;
    }
    return { result: kept.result, ageMs };
  }

  #delete(key: string): void {
    const kept = this.#entries.get(key);
    if (!kept) return;
    this.#entries.delete(key);
    this.#bytes -= kept.bytes;
  }
}
