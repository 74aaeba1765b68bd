/**
 * The durable store of the control plane: tenants, projects, API keys, tenant server configs,
 * grants, tool-definition pins, the admin change log and anomaly baselines, behind one type with
 * a SQLite and a PostgreSQL backend (`openStore` in open-store.ts picks one from the URL). No SQL
 * lives outside `src/store/`.
 *
 * Rules every method follows:
 * - A method on tenant data takes the tenant id first and sees only that tenant's rows. Another
 *   tenant's id answers exactly like a missing one: `undefined` from a getter, `NOT_FOUND` from a
 *   mutation. On PostgreSQL, row-level security enforces the same scope a second time.
 * - Every mutation takes a {@link ChangeContext} and writes one admin change in the same
 *   transaction, which also bumps the store {@link Store.version}. So the change log is complete
 *   and the version is the cache-invalidation signal (see `watch`).
 * - Errors are GatewayErrors: `INVALID_PARAMS` (bad input), `NOT_FOUND`, `CONFLICT` (duplicate
 *   id, impossible state change), `MASTER_KEY_MISSING`, `SECRET_UNREADABLE`, `RESHARE_FORBIDDEN`.
 *   No error message carries a secret value.
 */
import type {
  AdminChange,
  BaselineRecord,
  ApiKey,
  ApiKeyCredential,
  ApiKeyRole,
  ApiKeyStatus,
  ConfigValue,
  Grant,
  GrantAccess,
  Project,
  ResolvedServerConfig,
  ServerConfigView,
  StoredBaseline,
  Tenant,
  TenantExport,
  TenantStatus,
  ToolChange,
  ToolChangeKind,
  ToolChangeStatus,
  ToolDefinitionRecord,
  ToolFinding,
  ToolPin,
  StoredAuditRecord,
  LimitOverride,
  LimitOverrideValue,
  QuotaUsage,
} from './records.ts';
import type { Billing } from './sql/billing-sql.ts';
import type { Usage } from './sql/usage-sql.ts';

/** Who is making a change, for the admin change log. */
export type ChangeContext = {
  /** A principal subject (`key:<id>`, `jwt:<sub>`), or `cli` / `system`. */
  readonly actor: string;
};

export type NewTenant = { readonly id: string; readonly name: string; readonly tier?: string };
export type TenantPatch = {
  readonly name?: string;
  readonly tier?: string;
  /** `deleted` is final: a deleted tenant can only be purged. */
  readonly status?: TenantStatus;
};

export type PurgeReport = {
  readonly tenantId: string;
  /** Rows deleted, by table. */
  readonly deleted: Readonly<Record<string, number>>;
};

/** A page of a list: at most `limit` items, after the item whose id is `after` (from the start if none). */
export type PageRequest = { readonly after?: string; readonly limit: number };

export type Page<T> = {
  readonly items: T[];
  /** The id to pass as `after` for the next page; absent on the last page. */
  readonly next?: string;
};

/** The most items one page may ask for. */
export const MAX_PAGE = 1000;

export type Tenants = {
  create(input: NewTenant, context: ChangeContext): Promise<Tenant>;
  get(id: string): Promise<Tenant | undefined>;
  /** Platform-wide. */
  list(): Promise<Tenant[]>;
  /** Platform-wide, tenants not deleted, in id order. */
  page(request: PageRequest): Promise<Page<Tenant>>;
  update(id: string, patch: TenantPatch, context: ChangeContext): Promise<Tenant>;
  /** Everything the store holds for the tenant; `undefined` for an unknown tenant. */
  export(id: string): Promise<TenantExport | undefined>;
  /**
   * Deletes every row carrying the tenant's id, in every table, in one transaction, and records
   * `tenant.purge` in the platform log (tenant `null`, target `tenant:<id>`).
   */
  purge(id: string, context: ChangeContext): Promise<PurgeReport>;
};

export type NewProject = { readonly id?: string; readonly name: string };

export type Projects = {
  create(tenantId: string, input: NewProject, context: ChangeContext): Promise<Project>;
  get(tenantId: string, id: string): Promise<Project | undefined>;
  list(tenantId: string): Promise<Project[]>;
  /**
   * The tenant's projects in the order they were made, a page at a time: `after` is the last id
   * of the page before, and must be one of this tenant's projects (INVALID_PARAMS otherwise).
   */
  page(tenantId: string, request: PageRequest): Promise<Page<Project>>;
};

export type NewApiKey = {
  /** From `generateApiKey()`; the store never sees the key itself. */
  readonly id: string;
  /** From `hashApiKey(key, pepper)`. */
  readonly hash: string;
  readonly name: string;
  readonly role: ApiKeyRole;
  readonly projectId?: string;
  /** Default `['*']`, as for config keys. */
  readonly scopes?: readonly string[];
  readonly expiresAt?: string;
};

export type KeyRotation = {
  readonly newId: string;
  readonly newHash: string;
  /** How long the old key keeps working; 0 ends it at once. */
  readonly graceSeconds: number;
};

/**
 * API keys. `owner` is a tenant id, or `null` for the platform's own (`platform-admin`) keys;
 * a tenant-scoped call never sees platform keys and the reverse.
 */
export type ApiKeys = {
  create(owner: string | null, input: NewApiKey, context: ChangeContext): Promise<ApiKey>;
  get(owner: string | null, id: string): Promise<ApiKey | undefined>;
  list(owner: string | null): Promise<ApiKey[]>;
  /**
   * The owner's keys in list's order (created, then id). `after` must be one of the owner's keys
   * (else INVALID_PARAMS, the same for a key of another owner as for none).
   */
  page(owner: string | null, request: PageRequest): Promise<Page<ApiKey>>;
  /**
   * Issues `newId` with the old key's tenant, project, name, role, scopes and expiry; the old
   * key works until now + grace. Only an `active` key not rotated before rotates (else `CONFLICT`).
   */
  rotate(
    owner: string | null,
    id: string,
    rotation: KeyRotation,
    context: ChangeContext,
  ): Promise<{ previous: ApiKey; current: ApiKey }>;
  /** active ⇄ suspended, anything → revoked; revoked is final (`CONFLICT`). */
  setStatus(owner: string | null, id: string, status: ApiKeyStatus, context: ChangeContext): Promise<ApiKey>;
  /** Authentication: one key by primary key, any tenant, with its hash. */
  find(id: string): Promise<ApiKeyCredential | undefined>;
  /** Authentication cache warm-up: every key that is not revoked, with hashes. */
  listCredentials(): Promise<ApiKeyCredential[]>;
  /**
   * Records when keys were last used (batch it: this is a write). Only moves `lastUsedAt`
   * forward; not an admin change, so it does not bump the version.
   */
  recordUse(uses: readonly { readonly id: string; readonly at: string }[]): Promise<void>;
};

export type ServerConfigInput = {
  readonly env?: Readonly<Record<string, ConfigValue>>;
  /** Replaces the server's args; absent or `null` keeps them. */
  readonly args?: readonly ConfigValue[] | null;
};

export type ServerConfigPatch = {
  /** Only the names given change; `null` removes a name. */
  readonly env?: Readonly<Record<string, ConfigValue | null>>;
  /** Replaces the args when given; `null` falls back to the server's. */
  readonly args?: readonly ConfigValue[] | null;
};

/** Tenant server configs (seed 002): per tenant, per server, env and args overrides. */
export type ServerConfigs = {
  /** Registers or replaces. A secret without a master key is `MASTER_KEY_MISSING`. */
  put(
    tenantId: string,
    server: string,
    input: ServerConfigInput,
    context: ChangeContext,
  ): Promise<ServerConfigView>;
  patch(
    tenantId: string,
    server: string,
    patch: ServerConfigPatch,
    context: ChangeContext,
  ): Promise<ServerConfigView>;
  get(tenantId: string, server: string): Promise<ServerConfigView | undefined>;
  list(tenantId: string): Promise<ServerConfigView[]>;
  /** Decrypted, for spawning the tenant's pool or validating a config before storing it. */
  resolve(tenantId: string, server: string): Promise<ResolvedServerConfig | undefined>;
  /** Platform-wide and decrypted, for building the live view at start. */
  resolveAll(): Promise<ResolvedServerConfig[]>;
  /** The tenant falls back to the global config; `false` when there was nothing to delete. */
  delete(tenantId: string, server: string, context: ChangeContext): Promise<boolean>;
};

export type NewGrant = {
  readonly server: string;
  readonly granteeTenantId: string;
  readonly access: GrantAccess;
  readonly tools?: readonly string[];
  readonly expiresAt?: string;
  readonly allowResharing?: boolean;
  /**
   * Reshare under this grant, which the acting tenant must hold with `allowResharing`
   * (else `RESHARE_FORBIDDEN`). The new grant keeps the parent's owner and server, and may not
   * widen its access or outlive it.
   */
  readonly parentGrantId?: string;
};

export type GrantFilter = {
  /** Which side the tenant is on; default either. */
  readonly as?: 'owner' | 'grantee' | 'granter';
  /** Also revoked and expired grants; default false. */
  readonly includeInactive?: boolean;
};

export type Grants = {
  create(tenantId: string, input: NewGrant, context: ChangeContext): Promise<Grant>;
  get(tenantId: string, id: string): Promise<Grant | undefined>;
  list(tenantId: string, filter?: GrantFilter): Promise<Grant[]>;
  /**
   * {@link list}, a page at a time, in the order the grants were made: `after` is the last id of
   * the page before, and must be a grant this tenant is a party to (INVALID_PARAMS otherwise).
   */
  page(tenantId: string, request: PageRequest, filter?: GrantFilter): Promise<Page<Grant>>;
  /** By its owner or its granter; also revokes every reshare made under it. */
  revoke(tenantId: string, id: string, context: ChangeContext): Promise<Grant>;
  /** Platform-wide: grants neither revoked nor expired now, for the live view. */
  listActive(): Promise<Grant[]>;
};

export type NewChange = {
  readonly action: string;
  readonly target: string;
  readonly details?: Readonly<Record<string, unknown>>;
};

export type ChangeLog = {
  /**
   * Records a change the store did not make itself (a grant used, a reload). Counts as a change:
   * bumps the version. Details must not hold secrets; API keys in them are redacted anyway.
   */
  record(tenantId: string | null, change: NewChange, context: ChangeContext): Promise<AdminChange>;
  /** One tenant's entries (`null`: the platform's own), oldest first. */
  list(tenantId: string | null, options?: { afterSeq?: number; limit?: number }): Promise<AdminChange[]>;
  /**
   * Platform-wide feed of every change after `version`, oldest first (default limit 1000), for
   * replicas keeping caches. Entries deleted by a purge or retention leave gaps in `seq`.
   */
  since(version: number, limit?: number): Promise<AdminChange[]>;
};

/**
 * Anomaly baselines (docs/anomaly.md), written by the gateway in batches off its hot path. Not
 * admin changes: saving neither logs nor bumps the version. Purged with their tenant.
 */
export type Baselines = {
  /**
   * Saved baselines: every tenant's (no argument; platform scope, for the gateway's start), one
   * tenant's, or one principal's of that tenant; ordered by tenant, then principal.
   */
  load(tenantId?: string, principal?: string): Promise<StoredBaseline[]>;
  /** Inserts or replaces each (tenant, principal) baseline, all in one transaction. */
  save(batch: readonly BaselineRecord[]): Promise<void>;
};

export type NewToolPin = {
  readonly tool: string;
  readonly hash: string;
  readonly definition: ToolDefinitionRecord;
  /** `first-sight`, `trust:auto`. */
  readonly approvedBy: string;
};

export type NewToolChange = {
  readonly tool: string;
  readonly kind: ToolChangeKind;
  readonly oldHash: string | null;
  readonly newHash: string | null;
  readonly oldDefinition: ToolDefinitionRecord | null;
  readonly newDefinition: ToolDefinitionRecord | null;
  readonly findings: readonly ToolFinding[];
  /**
   * `pending` (the default) waits for an admin. `approved` records what the gateway did itself:
   * a removal, or an addition pinned by `trust: auto` (pinned with {@link ToolPins.pin}).
   */
  readonly status?: 'pending' | 'approved';
};

/** What pinning needs of one server in one scope to compare a catalog with. */
export type PinState = {
  readonly pins: readonly ToolPin[];
  /** Changes still open: pending, or rejected (whose definition stays refused). */
  readonly open: readonly ToolChange[];
  /** Whether the server was seen in this scope before: it has pins or recorded changes. */
  readonly seen: boolean;
};

export type ToolChangeFilter = {
  readonly status?: ToolChangeStatus;
  readonly server?: string;
  /** Default 100, at most 1000. */
  readonly limit?: number;
};

/**
 * Tool-definition pins and the changes waiting for review. The scope is a tenant id (the pins of
 * that tenant's `mode: tenant` pools) or `null`: global, for shared and session-mode servers.
 * Reading and pinning what a server offers (`state`, `pin`, `recordChange`) is the gateway's
 * own bookkeeping, like `apiKeys.recordUse`: not an admin change, no version bump. An admin's
 * `decide` is an admin change, and its version bump tells every replica to re-read the pins.
 */
export type ToolPins = {
  state(tenantId: string | null, server: string): Promise<PinState>;
  /** Pins tools not pinned yet; an existing pin is kept. Returns every pin of the server after. */
  pin(tenantId: string | null, server: string, pins: readonly NewToolPin[]): Promise<ToolPin[]>;
  /**
   * Records a change once: while an open change for the same tool and offered hash exists (or,
   * for a removal, while the tool's latest change is that removal), returns it instead.
   */
  recordChange(
    tenantId: string | null,
    server: string,
    change: NewToolChange,
  ): Promise<{ change: ToolChange; created: boolean }>;
  /** In this scope only: a tenant's id never finds a global change, nor `null` a tenant's. */
  getChange(tenantId: string | null, id: string): Promise<ToolChange | undefined>;
  /** Platform-wide, by id. */
  findChange(id: string): Promise<ToolChange | undefined>;
  /** One scope's changes, oldest first. */
  listChanges(tenantId: string | null, filter?: ToolChangeFilter): Promise<ToolChange[]>;
  /** Platform-wide, every scope, oldest first. */
  listAllChanges(filter?: ToolChangeFilter): Promise<ToolChange[]>;
  listPins(tenantId: string | null, server?: string): Promise<ToolPin[]>;
  /**
   * `approve` pins the offered definition (replacing the old pin) and `reject` keeps the old
   * one; records `tool_change.approve|reject` in the scope's change log. A pending change may
   * be either; a rejected one may still be approved; anything else is `CONFLICT`.
   */
  decide(
    tenantId: string | null,
    id: string,
    decision: 'approve' | 'reject',
    context: ChangeContext,
  ): Promise<ToolChange>;
};

export type AuditQuery = {
  /** One tenant's records, read in that tenant's scope; absent: every record (platform). */
  readonly tenantId?: string;
  /** Records after this seq (the cursor). */
  readonly afterSeq?: number;
  /** ISO times: `since` inclusive, `until` exclusive. */
  readonly since?: string;
  readonly until?: string;
  /** The tool as the client named it. */
  readonly tool?: string;
  /** At most 10000. */
  readonly limit: number;
};

/**
 * The audit log's store sink (src/audit/store-sink.ts). Written by the gateway's audit writer in
 * batches: not admin changes, no version bump. Purge and retention delete a tenant's rows like
 * any tenant table, which `audit verify` then reports as missing seqs (docs/audit.md).
 */
export type AuditRecords = {
  /** Inserts the records in one transaction; a seq already stored is skipped (a retried batch). */
  append(records: readonly StoredAuditRecord[]): Promise<void>;
  /** The record with the highest seq, where the writer continues the chain. */
  last(): Promise<StoredAuditRecord | undefined>;
  /** Records matching the query, in seq order. */
  list(query: AuditQuery): Promise<StoredAuditRecord[]>;
  /** Every record after `afterSeq`, every tenant's and the log's own, in seq order, for verify. */
  scan(afterSeq: number, limit: number): Promise<StoredAuditRecord[]>;
};

/** Time-series tables and the column retention cuts on. Daily usage rollups are kept for billing. */
export type RetainedTable = 'admin_changes' | 'audit_records' | 'usage_events' | 'usage_hourly';

/**
 * Limits (docs/limits.md): the admin API's overrides of a tenant's tier, and the quota use the
 * gateway counts. Setting an override is an admin change (its version bump moves every replica's
 * live view); adding usage is the gateway's bookkeeping, in batches, and bumps nothing.
 */
export type Limits = {
  /** Platform-wide, for the live view. */
  listOverrides(): Promise<LimitOverride[]>;
  overridesOf(tenantId: string): Promise<LimitOverride[]>;
  /**
   * Replaces the tenant's (`subject` `*`) or one of its keys' override; `null` removes it
   * (answers `undefined`). A key of another tenant, or none, is `NOT_FOUND`; a bad value
   * `INVALID_PARAMS`. Records `limits.set` or `limits.clear`.
   */
  setOverride(
    tenantId: string,
    subject: string,
    value: LimitOverrideValue | null,
    context: ChangeContext,
  ): Promise<LimitOverride | undefined>;
  /** The tenant's usage rows (`*` and each key that made calls), as last written. */
  usageOf(tenantId: string): Promise<QuotaUsage[]>;
  /**
   * Adds counted calls, all in one transaction. A row of an earlier month (`resetAt` before the
   * stored one) is dropped; one of a later month replaces the count.
   */
  addUsage(
    batch: readonly { tenantId: string; subject: string; calls: number; resetAt: string }[],
  ): Promise<void>;
};

export type Retention = {
  readonly tables: readonly RetainedTable[];
  /** Deletes the tenant's (`null`: the platform's) rows older than `cutoff`; returns how many. */
  deleteBefore(tenantId: string | null, table: RetainedTable, cutoff: string): Promise<number>;
};

export type SecretRotation = {
  /**
   * Re-encrypts every stored secret not yet under the current master key, in one transaction,
   * and records `store.rotate_key`. Needs the old keys loaded as previous keys.
   */
  rotate(context: ChangeContext): Promise<{ reencrypted: number; keyId: string }>;
  /** How many stored secrets each key id encrypts: when only the current one is left, drop the old. */
  keyIdsInUse(): Promise<Record<string, number>>;
};

export type StoreInfo = {
  readonly backend: 'sqlite' | 'postgres';
  /** The store URL with any password replaced by `***`. */
  readonly location: string;
  readonly schemaVersion: number;
  /** Migrations this open applied (empty when the schema was current). */
  readonly migrationsApplied: readonly number[];
  /**
   * PostgreSQL: `enforced`, or `bypassed` when the database user is a superuser or has
   * BYPASSRLS (then only the queries' own tenant scoping isolates tenants). SQLite: `none`.
   */
  readonly rowLevelSecurity: 'enforced' | 'bypassed' | 'none';
  /** The id of the current master key, or `null` when none is loaded. */
  readonly masterKeyId: string | null;
};

export type Store = {
  readonly backend: 'sqlite' | 'postgres';
  readonly tenants: Tenants;
  readonly projects: Projects;
  readonly apiKeys: ApiKeys;
  readonly serverConfigs: ServerConfigs;
  readonly grants: Grants;
  readonly changes: ChangeLog;
  readonly baselines: Baselines;
  readonly pins: ToolPins;
  readonly audit: AuditRecords;
  /** Usage events and rollups (docs/metering.md), written in batches by the gateway. */
  readonly usage: Usage;
  /** Plans, Stripe customers and applied Stripe events (docs/billing.md). */
  readonly billing: Billing;
  readonly limits: Limits;
  readonly retention: Retention;
  readonly secrets: SecretRotation;
  info(): Promise<StoreInfo>;
  /** Bumped by every admin change, never reused; the `seq` of the latest change. */
  version(): Promise<number>;
  /**
   * Calls `listener` with the new version after a change: at once for changes made through
   * this Store, and within the poll interval (PostgreSQL: at once, via LISTEN/NOTIFY) for
   * changes by other processes or replicas. Returns the unsubscribe function.
   */
  watch(listener: (version: number) => void): () => void;
  close(): Promise<void>;
};
