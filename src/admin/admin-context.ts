/**
 * What the admin API needs of the running gateway. The composition root provides it; the routes
 * never reach into the data plane themselves.
 */
import type { Hono } from 'hono';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { LiveView, ServerOverride } from '../control/live-view.ts';
import type { PolicySet } from '../guard/policy/policy-set.ts';
import type { AuditReader } from '../audit/audit-reader.ts';
import type { AdminChange } from '../audit/audit-recorder.ts';
import type { Principal } from '../identity/principal.ts';
import type { TenantLimitsReport } from '../limits/call-limits.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import type { PoolDetail } from '../upstream/upstream-server.ts';
import type { AdminActor } from './admin-access.ts';

export type ReloadOutcome = {
  readonly applied: boolean;
  readonly problems?: readonly string[];
  readonly added?: readonly string[];
  readonly removed?: readonly string[];
  readonly changed?: readonly string[];
  readonly unchanged?: readonly string[];
  readonly restartRequired?: readonly string[];
};

export type ServerPools = {
  readonly server: string;
  readonly mode: string;
  readonly restarts: number;
  readonly crashed: number;
  readonly pools: readonly PoolDetail[];
};

export type AdminDeps = {
  readonly store: Store;
  readonly log: Logger;
  /** The pepper new API keys are hashed with (the same as the config's keys). */
  readonly pepper: string | undefined;
  /** Where config-managed tenants are declared, for the 409 that refuses changing them. */
  readonly configSource: string;
  authenticate(headers: Headers): Promise<Principal>;
  view(): LiveView;
  /** Applies the store's latest changes to the running gateway before the API answers. */
  applied(): Promise<void>;
  /** Closes a tenant's sessions and stops its pools (suspension and deletion). */
  closeTenant(tenantId: string): Promise<void>;
  /**
   * Starts the server with this tenant override and lists its tools, within the startup
   * timeout; throws SERVER_CONFIG_REJECTED with the child's error (secrets scrubbed).
   */
  probe(
    tenantId: string,
    server: string,
    override: ServerOverride,
    secrets: readonly string[],
  ): Promise<void>;
  status(): unknown;
  /** Requests through the call pipeline so far, and those that failed; undefined with metrics off. */
  callTotals(): Promise<{ requests: number; errors: number } | undefined>;
  /** Each server's pools with their processes. */
  pools(): readonly ServerPools[];
  /** Drains the pooled process `pid` of `server` (of `tenant`'s pool only, when given); false if none. */
  drainProcess(server: string, pid: number, tenant?: string): boolean;
  /** The policy rules the gateway decides with now. */
  policies(): PolicySet;
  reload(): Promise<ReloadOutcome>;
  /** Writes the usage metering still holds in memory, so a read sees every call made so far. */
  flushUsage(): Promise<void>;
  /** Rate limits and quotas: a tenant's as they hold now, with its quota use. */
  readonly limits: { report(tenantId: string): Promise<TenantLimitsReport | undefined> };
  /** Tool-definition pinning: re-reads the pins an admin decision changed, releasing the tool. */
  readonly pinning: { reload(tenantId: string | null, server: string): Promise<void> };
  /** The audit log read back; absent when the gateway writes none (the audit routes answer 404). */
  readonly audit: AuditReader | undefined;
  /** Records a change asked of the admin API in the audit log; absent without one. */
  readonly auditChange?: (change: AdminChange) => void;
};

export type AdminEnv = { Variables: { actor: AdminActor } };
export type AdminApp = OpenAPIHono<AdminEnv>;
export type AdminRouter = Hono<AdminEnv>;
