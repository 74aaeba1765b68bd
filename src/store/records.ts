/**
 * What the store holds, as the rest of mcplane sees it: plain, JSON-ready records with ISO 8601
 * times (`2026-11-01T00:00:00.000Z`) and camelCase names. Nothing here carries a secret value:
 * API keys appear without their hash (except {@link ApiKeyCredential}, for authentication only)
 * and tenant server secrets appear masked (except {@link ResolvedServerConfig}, for spawning).
 */
import type { StoredUsageEvent, TenantBilling } from './usage-records.ts';

export type TenantStatus = 'active' | 'suspended' | 'deleted';

export type Tenant = {
  /** Same shape as a config tenant id: lowercase letters, digits and dashes, starting with a letter. */
  readonly id: string;
  readonly name: string;
  readonly tier: string;
  readonly status: TenantStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
};

export type Project = {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly createdAt: string;
};

export type ApiKeyRole = 'platform-admin' | 'tenant-admin' | 'member';
export type ApiKeyStatus = 'active' | 'suspended' | 'revoked';

/** An API key without its hash: what lists, exports and the admin API show. */
export type ApiKey = {
  /** The key id, the `<id>` part of `mcpl_<id>_<secret>_<crc>`. Globally unique. */
  readonly id: string;
  /** The owning tenant; `null` exactly for `platform-admin` keys, which belong to no tenant. */
  readonly tenantId: string | null;
  readonly projectId: string | null;
  readonly name: string;
  readonly role: ApiKeyRole;
  readonly scopes: readonly string[];
  /** The stored status; see `apiKeyState` for whether the key works at a given time. */
  readonly status: ApiKeyStatus;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The key this one replaced by rotation. */
  readonly rotatedFrom: string | null;
  /** The key that replaced this one by rotation. */
  readonly replacedBy: string | null;
  /** Set by rotation: this key keeps working until then, and not after. */
  readonly graceUntil: string | null;
};

/** An API key with its stored hash (`hmac-sha256:…` or `sha256:…`): for authentication only. */
export type ApiKeyCredential = ApiKey & { readonly hash: string };

/**
 * One env or argument value as a caller gives it: plain text, or marked secret. Values whose
 * env name looks secret are treated as secret even when given plain (see `secret-names.ts`).
 */
export type ConfigValue = string | { readonly secret: string };

/** A stored secret as anyone but the spawning code sees it. */
export type MaskedSecret = { readonly set: true; readonly fingerprint: string };

/** A tenant's override of one server's env and args; secrets masked. */
export type ServerConfigView = {
  readonly tenantId: string;
  readonly server: string;
  /** Merged over the server's own env. */
  readonly env: Readonly<Record<string, string | MaskedSecret>>;
  /** Replaces the server's args; `null` keeps them. */
  readonly args: readonly (string | MaskedSecret)[] | null;
  readonly createdAt: string;
  readonly updatedAt: string;
};

/** A tenant server config decrypted, secrets still marked, so it round-trips into `put`. */
export type ResolvedServerConfig = {
  readonly tenantId: string;
  readonly server: string;
  readonly env: Readonly<Record<string, ConfigValue>>;
  readonly args: readonly ConfigValue[] | null;
  readonly updatedAt: string;
};

export type GrantAccess = 'read' | 'full';

/** One tenant letting another use one of its servers (seed 000's sharing). */
export type Grant = {
  readonly id: string;
  /** Whose server instance (its tenant-mode pool and credentials) is shared. */
  readonly ownerTenantId: string;
  readonly server: string;
  /** May be a config-managed tenant, so it is not tied to the tenants table. */
  readonly granteeTenantId: string;
  /** The owner for a direct grant; for a reshare, the grantee of the parent grant. */
  readonly grantedByTenantId: string;
  /** For a reshare, the grant it was made under; revoking that revokes this. */
  readonly parentGrantId: string | null;
  readonly access: GrantAccess;
  /** For `read`: an explicit tool list instead of the server's `readOnlyHint` tools. */
  readonly tools: readonly string[] | null;
  readonly expiresAt: string | null;
  readonly allowResharing: boolean;
  readonly createdAt: string;
  readonly revokedAt: string | null;
};

/** One entry of the admin change log. `details` never holds a secret value. */
export type AdminChange = {
  /** Also the store version this change produced; contiguous across the whole store. */
  readonly seq: number;
  readonly at: string;
  /** Who: a principal subject such as `key:<id>`, `jwt:<sub>`, `cli` or `system`. */
  readonly actor: string;
  /** The tenant whose data changed; `null` for platform-level changes. */
  readonly tenantId: string | null;
  /** What, as `<resource>.<verb>`: `tenant.create`, `api_key.rotate`, `server_config.put`, … */
  readonly action: string;
  /** Which: `<resource>:<id>`, e.g. `api_key:Ab3…`, `server_config:acme/postgres`. */
  readonly target: string;
  readonly details: Readonly<Record<string, unknown>>;
};

/**
 * An anomaly baseline (src/guard/anomaly/): what is usual for one principal of a tenant, or for
 * the tenant as a whole (principal `*`). The store keeps the document as given, opaque.
 */
export type BaselineRecord = {
  readonly tenantId: string;
  /** A principal subject (`key:<id>`, `jwt:<sub>`, `local`, `anonymous`), or `*` for the tenant. */
  readonly principal: string;
  readonly baseline: Readonly<Record<string, unknown>>;
};

export type StoredBaseline = BaselineRecord & { readonly updatedAt: string };
/**
 * One sealed audit record as the store keeps it: `line` is its JSON exactly as hashed; the other
 * fields are copies of the record's, for filtering. `tenantId` is `null` for the log's own
 * records (checkpoints, dropped counts).
 */
export type StoredAuditRecord = {
  readonly seq: number;
  readonly tenantId: string | null;
  readonly time: string;
  readonly kind: string;
  readonly tool: string | null;
  readonly line: string;
};

/** What a pinned tool's definition is: name, description, inputSchema, outputSchema, annotations. */
export type ToolDefinitionRecord = Readonly<Record<string, unknown>>;

/**
 * The approved definition of one tool of one server, in one scope: a tenant's (for a
 * `mode: tenant` server's pool) or, with `tenantId` `null`, global (shared and session-mode
 * servers, which every tenant sees alike).
 */
export type ToolPin = {
  readonly tenantId: string | null;
  readonly server: string;
  readonly tool: string;
  /** SHA-256 of the definition's canonical JSON, hex. */
  readonly hash: string;
  readonly definition: ToolDefinitionRecord;
  readonly approvedAt: string;
  /** An admin's subject, `first-sight` or `trust:auto`. */
  readonly approvedBy: string;
};

export type ToolChangeKind = 'added' | 'changed' | 'removed';
export type ToolChangeStatus = 'pending' | 'approved' | 'rejected';

/** What the scan of a definition found (tool poisoning, shadowing); never the matched text. */
export type ToolFinding = {
  readonly detector: string;
  readonly action: string;
  readonly where: string;
  readonly detail?: string;
};

/** A tool definition a server offered that differs from its pin, for an admin to decide. */
export type ToolChange = {
  readonly id: string;
  readonly tenantId: string | null;
  readonly server: string;
  readonly tool: string;
  readonly kind: ToolChangeKind;
  /** The pinned definition's hash; `null` for an added tool. */
  readonly oldHash: string | null;
  /** The offered definition's hash; `null` for a removed tool. */
  readonly newHash: string | null;
  readonly oldDefinition: ToolDefinitionRecord | null;
  readonly newDefinition: ToolDefinitionRecord | null;
  readonly findings: readonly ToolFinding[];
  /** `removed` entries, and tools pinned by `trust: auto`, are recorded already approved. */
  readonly status: ToolChangeStatus;
  readonly createdAt: string;
  readonly decidedAt: string | null;
  /** An admin's subject, or `gateway` for an entry recorded already decided. */
  readonly decidedBy: string | null;
};

/** Everything the store holds for one tenant (`GET /tenants/{id}/export`). */
export type TenantExport = {
  readonly formatVersion: 1;
  readonly exportedAt: string;
  readonly tenant: Tenant;
  readonly projects: readonly Project[];
  readonly apiKeys: readonly ApiKey[];
  readonly serverConfigs: readonly ServerConfigView[];
  /** Grants the tenant owns, holds, or made by resharing. */
  readonly grants: readonly Grant[];
  readonly adminChanges: readonly AdminChange[];
  readonly anomalyBaselines: readonly StoredBaseline[];
  /** Pins of the tenant's own (`mode: tenant`) pools; global pins belong to no tenant. */
  readonly toolPins: readonly ToolPin[];
  readonly toolChanges: readonly ToolChange[];
  /** The tenant's audit records (store sink), each as its verbatim line, in seq order. */
  readonly auditRecords: readonly StoredAuditRecord[];
  readonly billing: TenantBilling | null;
  readonly usageEvents: readonly StoredUsageEvent[];
  readonly usageHourly: readonly Readonly<Record<string, unknown>>[];
  readonly usageDaily: readonly Readonly<Record<string, unknown>>[];
  readonly limitOverrides: readonly LimitOverride[];
  readonly quotaUsage: readonly QuotaUsage[];
};

/** A request budget over one or more windows (the `tiers:` table's shape). */
export type RateRecord = {
  readonly perSecond?: number;
  readonly perMinute?: number;
  readonly perHour?: number;
  readonly perDay?: number;
};

/**
 * What the admin API set over a tenant's tier. For the tenant (`subject` `*`) every part may be
 * set; for one API key (`subject` its id) only `rateLimits.perKey` and `quota.monthlyCalls` (the
 * key's own monthly quota). A part set here replaces the tier's part of the same name whole.
 */
export type LimitOverrideValue = {
  readonly rateLimits?: {
    readonly perKey?: RateRecord;
    readonly perTenant?: RateRecord;
    readonly perTool?: RateRecord;
  };
  readonly quota?: { readonly monthlyCalls?: number; readonly monthlyCallsPerKey?: number };
};

export type LimitOverride = LimitOverrideValue & {
  readonly tenantId: string;
  /** `*` for the tenant, else an API key id. */
  readonly subject: string;
  readonly updatedAt: string;
};

/** Tool calls counted in one calendar month (UTC) for a tenant (`*`) or one of its keys. */
export type QuotaUsage = {
  readonly tenantId: string;
  readonly subject: string;
  readonly callsUsedMonth: number;
  /** When the month ends: the first instant of the next one. */
  readonly resetAt: string;
};
