/**
 * The one suite every store backend passes (run by sqlite.test.ts and postgres.test.ts). Each
 * test gets a fresh, empty database from the factory and cleans it up after.
 */
import { afterEach, beforeEach } from 'vitest';
import type { HarnessFactory, StoreHarness } from './store-harness.ts';
import { apiKeyTests } from './suite/api-keys.ts';
import { auditRecordTests } from './suite/audit-records.ts';
import { baselineTests } from './suite/baselines.ts';
import { changeLogTests } from './suite/change-log.ts';
import { grantTests } from './suite/grants.ts';
import { limitTests } from './suite/limits.ts';
import { migrationTests } from './suite/migrations.ts';
import { secretsAtRestTests } from './suite/secrets-at-rest.ts';
import { serverConfigTests } from './suite/server-configs.ts';
import { tenantAndProjectTests } from './suite/tenants-and-projects.ts';
import { tenantDataTests } from './suite/tenant-data.ts';
import { tenantScopingTests } from './suite/tenant-scoping.ts';
import { toolPinTests } from './suite/tool-pins.ts';

export function storeSuite(factory: HarnessFactory): void {
  let current: StoreHarness | undefined;
  beforeEach(async () => {
    current = await factory();
  });
  afterEach(async () => {
    await current?.cleanup();
    current = undefined;
  });
  const harness = (): StoreHarness => {
    if (!current) throw new Error('no store harness outside a test');
    return current;
  };

  tenantAndProjectTests(harness);
  apiKeyTests(harness);
  serverConfigTests(harness);
  secretsAtRestTests(harness);
  grantTests(harness);
  changeLogTests(harness);
  baselineTests(harness);
  limitTests(harness);
  tenantScopingTests(harness);
  tenantDataTests(harness);
  toolPinTests(harness);
  auditRecordTests(harness);
  migrationTests(harness);
}
