/**
 * What the admin API needs of the running gateway. The composition root provides it; the routes
 * never reach into the data plane themselves.
 */
import type { Hono } from 'hono';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { LiveView, ServerOverride } from '../control/live-view.ts';
import type { Principal } from '../identity/principal.ts';
import type { TenantLimitsReport } from '../limits/call-limits.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
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
  reload(): Promise<ReloadOutcome>;
  /** Rate limits and quotas: a tenant's as they hold now, with its quota use. */
  readonly limits: { report(tenantId: string): Promise<TenantLimitsReport | undefined> };
  /** Tool-definition pinning: re-reads the pins an admin decision changed, releasing the tool. */
  readonly pinning: { reload(tenantId: string | null, server: string): Promise<void> };
};

export type AdminEnv = { Variables: { actor: AdminActor } };
export type AdminApp = OpenAPIHono<AdminEnv>;
export type AdminRouter = Hono<AdminEnv>;
