/**
 * Retention per tier (seed 004): a periodic job that deletes each tenant's time-series records
 * (every table the store lists in `store.retention.tables`: the admin change log today, usage
 * and audit records as they join) older than its tier's retention in `gateway.retention`, and
 * the platform's own records (tenant `null`) older than the default.
 *
 * It runs once at start, then `every` after the end of each run, so two runs never overlap and
 * a slow store only delays the next one. The settings are read at every run, so a reloaded
 * config applies at the next. A failure for one tenant is logged and the others still run.
 */
import type { GatewaySettings } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { RetainedTable, Store } from '../store/store.ts';

export type RetentionSettings = GatewaySettings['retention'];

/** A tenant and the tier that decides how long its records are kept. */
export type RetainedTenant = { readonly id: string; readonly tier: string };

export type RetentionJobOptions = {
  readonly store: Store;
  /** Read at every run. */
  readonly settings: () => RetentionSettings;
  /**
   * The tenants of servers.config.yaml, whose records the store may carry too. The store's own
   * tenants are listed from the store at every run.
   */
  readonly configTenants?: () => Iterable<RetainedTenant>;
  readonly log: Logger;
  /** The clock of scheduled runs; default the system's. */
  readonly now?: () => Date;
};

/** One table of one tenant (`null`: the platform) cut at one time. */
export type RetentionCut = {
  readonly tenantId: string | null;
  readonly table: RetainedTable;
  readonly cutoff: string;
  /** Rows deleted; `undefined` when the delete failed (it is logged). */
  readonly deleted: number | undefined;
};

export type RetentionReport = {
  readonly at: string;
  readonly cuts: readonly RetentionCut[];
  /** Rows deleted in all. */
  readonly deleted: number;
  /** Cuts that failed. */
  readonly failed: number;
};

export class RetentionJob {
  readonly #options: RetentionJobOptions;
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  /** The run in progress (or the last one); runs chain, so they never overlap. */
  #running: Promise<unknown> = Promise.resolve();

  constructor(options: RetentionJobOptions) {
    this.#options = options;
  }

  /** Runs once now, then `every` after each run ends, until {@link stop}. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#schedule(0);
  }

  /** Stops scheduling and resolves once a run in progress has finished (close the store after). */
  async stop(): Promise<void> {
    this.#started = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running.catch(() => undefined);
  }

  /**
   * One pass over every tenant and table, cutting at `now` minus the tenant's retention. Throws
   * only when the tenants cannot be listed; a failed delete is logged and counted.
   */
  runOnce(now: Date = this.#now()): Promise<RetentionReport> {
    const run = this.#running.catch(() => undefined).then(() => this.#run(now));
    this.#running = run;
    return run;
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.runOnce()
        .catch((err: unknown) => this.#options.log.warn({ err }, 'retention run failed; retrying later'))
        .finally(() => {
          if (this.#started) this.#schedule(this.#options.settings().every);
        });
    }, delayMs);
    this.#timer.unref();
  }

  async #run(now: Date): Promise<RetentionReport> {
    const { store, log } = this.#options;
    const settings = this.#options.settings();
    const cuts: RetentionCut[] = [];
    const cut = async (tenantId: string | null, periodMs: number): Promise<void> => {
      const cutoff = new Date(now.getTime() - periodMs).toISOString();
      for (const table of store.retention.tables) {
        let deleted: number | undefined;
        try {
          deleted = await store.retention.deleteBefore(tenantId, table, cutoff);
        } catch (err) {
          log.warn({ err, tenant: tenantId, table }, 'retention could not delete old records');
        }
        cuts.push({ tenantId, table, cutoff, deleted });
      }
    };
    for (const tenant of await this.#tenants()) {
      await cut(tenant.id, settings.tiers[tenant.tier] ?? settings.default);
    }
    await cut(null, settings.default);
    const deleted = cuts.reduce((sum, entry) => sum + (entry.deleted ?? 0), 0);
    const failed = cuts.filter((entry) => entry.deleted === undefined).length;
    if (deleted > 0) log.info({ deleted, failed }, 'retention deleted old records');
    return { at: now.toISOString(), cuts, deleted, failed };
  }

  /**
   * The config's tenants, then the store's that the config does not shadow: the same rule as the
   * live view, so a tenant's tier here is the one the gateway runs it with.
   */
  async #tenants(): Promise<RetainedTenant[]> {
    const tenants = [...(this.#options.configTenants?.() ?? [])];
    const known = new Set(tenants.map((tenant) => tenant.id));
    for (const tenant of await this.#options.store.tenants.list()) {
      if (!known.has(tenant.id)) tenants.push(tenant);
    }
    return tenants;
  }
}
