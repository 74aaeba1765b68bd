/**
 * Builds the Store from a backend's Database: the query modules are shared, so both backends
 * behave alike by construction, and the shared suite (test/store/store-suite.ts) checks it.
 */
import { createSecretBox } from '../secrets/secret-box.ts';
import type { MasterKeyRing } from '../secrets/master-keys.ts';
import type { Store } from '../store.ts';
import { createApiKeys } from './api-keys-sql.ts';
import { createAuditRecords } from './audit-records-sql.ts';
import { createBaselines } from './baselines-sql.ts';
import { createBilling } from './billing-sql.ts';
import { createChangeLog } from './change-log-sql.ts';
import type { Database } from './database.ts';
import { createGrants } from './grants-sql.ts';
import { createLimits } from './limits-sql.ts';
import { createProjects } from './projects-sql.ts';
import { createRetention } from './retention-sql.ts';
import { integer } from './rows.ts';
import { createSecretRotation } from './secret-rotation-sql.ts';
import { createServerConfigs } from './server-configs-sql.ts';
import { createStoreContext } from './store-context.ts';
import { createTenants } from './tenants-sql.ts';
import { createToolPins } from './tool-pins-sql.ts';
import { createUsage, type UsageWriter } from './usage-sql.ts';
import { createVersionWatch } from './version-watch.ts';

export type SqlStoreOptions = {
  readonly masterKeys: MasterKeyRing | undefined;
  readonly now: () => Date;
  readonly pollIntervalMs: number;
  readonly onBackgroundError: (error: unknown) => void;
  readonly schemaVersion: number;
  readonly migrationsApplied: readonly number[];
  /** Writes usage batches somewhere other than `db`'s connection (a SQLite file's writer thread). */
  readonly usageWriter?: {
    write: UsageWriter;
    close(): Promise<void>;
  };
};

export function createSqlStore(db: Database, options: SqlStoreOptions): Store {
  const box = options.masterKeys === undefined ? undefined : createSecretBox(options.masterKeys);
  const version = async (): Promise<number> => {
    const [row] = await db.transaction('platform', (sql) =>
      sql.rows('SELECT version FROM store_state WHERE id = 1'),
    );
    return row === undefined ? 0 : integer(row, 'version');
  };
  const watch = createVersionWatch({
    read: version,
    listen: (onVersion) => db.listen(onVersion),
    pollMs: options.pollIntervalMs,
    onError: options.onBackgroundError,
  });
  const ctx = createStoreContext({
    db,
    box,
    now: options.now,
    committed: (version) => watch.committed(version),
  });
  const usageWriter = options.usageWriter;
  let closing: Promise<void> | undefined;

  return {
    backend: db.dialect,
    tenants: createTenants(ctx),
    projects: createProjects(ctx),
    apiKeys: createApiKeys(ctx),
    serverConfigs: createServerConfigs(ctx),
    grants: createGrants(ctx),
    changes: createChangeLog(ctx),
    baselines: createBaselines(ctx),
    pins: createToolPins(ctx),
    audit: createAuditRecords(ctx),
    usage: createUsage(ctx, usageWriter && ((events, charges) => usageWriter.write(events, charges))),
    billing: createBilling(ctx),
    limits: createLimits(ctx),
    retention: createRetention(ctx),
    secrets: createSecretRotation(ctx),
    async info() {
      return {
        backend: db.dialect,
        location: db.location,
        schemaVersion: options.schemaVersion,
        migrationsApplied: options.migrationsApplied,
        rowLevelSecurity: await db.rowLevelSecurity(),
        masterKeyId: box?.currentKeyId ?? null,
      };
    },
    version,
    watch: (listener) => watch.watch(listener),
    close() {
      // The writer first: the batches it has out commit before the file closes.
      closing ??= watch
        .close()
        .then(() => usageWriter?.close())
        .then(() => db.close());
      return closing;
    },
  };
}
