/**
 * The anomaly detector: a baseline per principal and per tenant, kept in memory, scored against
 * and learnt from by the anomaly stage, and saved to the store in batches (baseline-persistence.ts).
 *
 * Memory is bounded by `maxPrincipals` baselines of each kind (each holds at most 32 tools and
 * 32 prefixes); past it, one not used lately is forgotten (second-chance, CLOCK-style: a use only
 * sets a bit, so the hot path does no map reordering), its last state still saved.
 */
import type { BaselineRecord, StoredBaseline } from '../../store/records.ts';
import { Baseline, type CallFeatures } from './baseline.ts';
import { COMPONENTS, scoreCall, type AnomalyComponent, type AnomalyScore } from './anomaly-score.ts';

/** Whose baseline: a principal of a tenant. */
export type Subject = { readonly tenantId: string; readonly principal: string };

/** The `principal` under which a tenant's own baseline is stored; no principal subject is `*`. */
export const TENANT_BASELINE = '*';

export type AnomalyFlags = {
  /** Calls whose score reached the threshold. */
  readonly calls: number;
  /** Of those, how many had each component above 0. */
  readonly byComponent: Readonly<Record<AnomalyComponent, number>>;
};

export type AnomalyDetectorOptions = {
  /** Calls a baseline needs before it is scored against. */
  readonly warmup: number;
  readonly maxPrincipals: number;
  /** Milliseconds since the epoch; `Date.now` by default. */
  readonly now?: () => number;
};

type Entry = {
  readonly key: string;
  readonly tenantId: string;
  readonly principal: string;
  readonly baseline: Baseline;
  /** Used since the eviction scan last passed it. */
  used: boolean;
};

export class AnomalyDetector {
  readonly #principals = new Map<string, Entry>();
  readonly #tenants = new Map<string, Entry>();
  /** Keys changed since the last save. */
  readonly #dirty = new Set<string>();
  /** Forgotten while dirty: saved at the next batch all the same. */
  #evicted: BaselineRecord[] = [];
  readonly #options: AnomalyDetectorOptions;
  readonly #now: () => number;
  #flagged = 0;
  readonly #byComponent: Record<AnomalyComponent, number> = { rate: 0, tool: 0, prefix: 0, size: 0 };

  constructor(options: AnomalyDetectorOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => Date.now());
  }

  /**
   * Scores a call against what is usual so far, then counts it in both call rates. Only the rate
   * is updated here (a burst of concurrent calls must see itself); the rest waits for
   * {@link learn}, so an outlier is flagged the first time it appears, and a refused call never
   * becomes usual.
   */
  score(subject: Subject, features: CallFeatures): AnomalyScore {
    const now = this.#now();
    const principal = this.#entry(this.#principals, subject.tenantId, subject.principal);
    const tenant = this.#entry(this.#tenants, subject.tenantId, TENANT_BASELINE);
    principal.used = true;
    tenant.used = true;
    const result = scoreCall({
      principal: principal.baseline,
      tenant: tenant.baseline,
      features,
      now,
      warmup: this.#options.warmup,
    });
    principal.baseline.rate.count(now);
    tenant.baseline.rate.count(now);
    this.#dirty.add(principal.key);
    this.#dirty.add(tenant.key);
    return result;
  }

  /** Folds an allowed call into the principal's and the tenant's baselines. */
  learn(subject: Subject, features: CallFeatures): void {
    const principal = this.#entry(this.#principals, subject.tenantId, subject.principal);
    const tenant = this.#entry(this.#tenants, subject.tenantId, TENANT_BASELINE);
    principal.baseline.learn(features);
    tenant.baseline.learn(features);
    this.#dirty.add(principal.key);
    this.#dirty.add(tenant.key);
  }

  /** Counts a call whose score reached the threshold, for metrics. */
  countFlag(score: AnomalyScore): void {
    this.#flagged += 1;
    for (const component of COMPONENTS)
      if (score.components[component] > 0) this.#byComponent[component] += 1;
  }

  flags(): AnomalyFlags {
    return { calls: this.#flagged, byComponent: { ...this.#byComponent } };
  }

  /** The baseline of a principal (or, with {@link TENANT_BASELINE}, of its tenant), if known. */
  baseline(tenantId: string, principal: string): Baseline | undefined {
    const map = principal === TENANT_BASELINE ? this.#tenants : this.#principals;
    return map.get(keyOf(tenantId, principal))?.baseline;
  }

  /** Baselines changed since the last call, as rows to save; they count as clean from now on. */
  takeDirty(): BaselineRecord[] {
    const rows = this.#evicted;
    this.#evicted = [];
    for (const key of this.#dirty) {
      const entry = this.#principals.get(key) ?? this.#tenants.get(key);
      if (entry) rows.push(rowOf(entry));
    }
    this.#dirty.clear();
    return rows;
  }

  /** Rows that could not be saved: dirty again, so the next batch retries them. */
  markDirty(rows: readonly BaselineRecord[]): void {
    for (const row of rows) {
      const key = keyOf(row.tenantId, row.principal);
      if (this.#principals.has(key) || this.#tenants.has(key)) this.#dirty.add(key);
      else this.#evicted.push(row);
    }
  }

  /**
   * Restores saved baselines (most recently saved first wins a place when there are more than
   * `maxPrincipals`). Returns how many were usable; rows in an unknown format are skipped.
   */
  restore(rows: readonly StoredBaseline[]): number {
    let restored = 0;
    const newestFirst = [...rows].sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1));
    for (const row of newestFirst) {
      const baseline = Baseline.from(row.baseline);
      if (!baseline) continue;
      const map = row.principal === TENANT_BASELINE ? this.#tenants : this.#principals;
      const key = keyOf(row.tenantId, row.principal);
      if (map.has(key) || map.size >= this.#options.maxPrincipals) continue;
      map.set(key, { key, tenantId: row.tenantId, principal: row.principal, baseline, used: false });
      restored += 1;
    }
    // Loaded newest first, but eviction scans from the front: put the oldest there.
    for (const map of [this.#principals, this.#tenants]) {
      const entries = [...map.entries()].reverse();
      map.clear();
      for (const [key, entry] of entries) map.set(key, entry);
    }
    return restored;
  }

  #entry(map: Map<string, Entry>, tenantId: string, principal: string): Entry {
    const key = keyOf(tenantId, principal);
    const entry = map.get(key);
    if (entry) return entry;
    if (map.size >= this.#options.maxPrincipals) this.#evictOne(map);
    const created: Entry = { key, tenantId, principal, baseline: new Baseline(), used: false };
    map.set(key, created);
    return created;
  }

  /**
   * Forgets one baseline not used since the scan last passed it: from the front, a used entry
   * loses its bit and moves to the back; the first unused one goes. Ends within two passes.
   */
  #evictOne(map: Map<string, Entry>): void {
    for (const [key, entry] of map) {
      if (entry.used) {
        entry.used = false;
        map.delete(key);
        map.set(key, entry);
        continue;
      }
      map.delete(key);
      if (this.#dirty.delete(key)) this.#evicted.push(rowOf(entry));
      return;
    }
  }
}

function keyOf(tenantId: string, principal: string): string {
  return `${tenantId}\u0000${principal}`;
}

function rowOf(entry: Entry): BaselineRecord {
  return { tenantId: entry.tenantId, principal: entry.principal, baseline: entry.baseline.toJSON() };
}
