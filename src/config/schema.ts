/**
 * The one definition of `servers.config.yaml`. The JSON Schema in `schema/` is generated from
 * this file (`npm run schema`) and a test keeps it fresh.
 */
import { z } from 'zod';
import { ByteSize, Duration, Period } from './durations.ts';
import { AuditSchema } from '../audit/audit-schema.ts';
import { AnomalySchema } from '../guard/anomaly/anomaly-schema.ts';
import { GuardsSchema, guardReferenceIssues } from '../guard/guard-schema.ts';
import { HttpSchema } from './http-schema.ts';
import {
  AdminListenerSchema,
  LogsSchema,
  MetricsSchema,
  TracingSchema,
} from '../telemetry/telemetry-schema.ts';
import { TierSchema } from './tiers-schema.ts';
import { ResilienceFields } from '../resilience/resilience-schema.ts';
import { CallLimitsSchema, SandboxSchema, sandboxIssues } from '../upstream/sandbox-schema.ts';
import { BillingSchema } from '../billing/billing-schema.ts';
import { CostSchema, MeteringSchema } from '../metering/metering-schema.ts';
import { FailureLimitSchema, LimitsSchema, RedisSchema } from './limits-schema.ts';

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
/** The built-in management server's name-space (src/admin/mcplane-server.ts); no server may take it. */
export const BUILTIN_SERVER = 'mcplane';
const ServerName = z
  .string()
  .regex(NAME, 'server names are lowercase letters, digits and dashes, starting with a letter');
const TenantId = z
  .string()
  .regex(NAME, 'tenant ids are lowercase letters, digits and dashes, starting with a letter');
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name');
const Env = z.record(EnvName, z.string());

/** Reverse-DNS prefix for `_meta` keys (MCP spec, "_meta": the `mcp`/`modelcontextprotocol` labels are reserved). */
export const MetaPrefix = z
  .string()
  .regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/, 'expected a reverse-DNS prefix such as com.example')
  .refine((prefix) => {
    const second = prefix.split('.')[1];
    return second !== 'modelcontextprotocol' && second !== 'mcp';
  }, 'prefixes whose second label is "modelcontextprotocol" or "mcp" are reserved by MCP');

export const PoolSchema = z
  .object({
    min: z.number().int().nonnegative().default(1).meta({ description: 'Processes kept warm.' }),
    max: z.number().int().positive().default(4).meta({ description: 'Most processes at once.' }),
    maxInflight: z.number().int().positive().default(16).meta({
      description: 'Concurrent requests per process. 1 makes every server-to-client request attributable.',
    }),
    idleTimeout: Duration.default(300_000).meta({
      description:
        'A process above `min` with nothing in flight for this long is stopped. In `session` mode, a dedicated process idle this long is released: the session stays, and its next request claims a fresh process.',
    }),
    maxRequests: z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .meta({ description: 'Recycle a process after this many requests; 0 never recycles.' }),
    queue: z
      .object({
        max: z
          .number()
          .int()
          .nonnegative()
          .default(256)
          .meta({ description: 'Requests waiting for a process.' }),
        timeout: Duration.default(10_000).meta({ description: 'How long a request may wait for a process.' }),
      })
      .strict()
      .prefault({}),
    scheduling: z.enum(['fair', 'fifo']).default('fair').meta({
      description:
        "How waiting requests are served when every slot is busy. fair: weighted fair queuing across tenants (weights from each tenant's tier); fifo: in arrival order.",
    }),
  })
  .strict()
  .refine((pool) => pool.min <= pool.max, { message: 'pool.min must not exceed pool.max', path: ['min'] });

export const TimeoutsSchema = z
  .object({
    startup: Duration.default(30_000).meta({ description: 'Spawn until the initialize response.' }),
    call: Duration.default(60_000).meta({ description: 'A forwarded request until its response.' }),
    shutdown: Duration.default(2_000).meta({ description: 'Each step of the stop ladder.' }),
  })
  .strict();

/** A root is a `file://` URI (spec 2025-11-25, "Roots": the only scheme allowed) or a path, relative to the server's cwd. */
const RootLocation = z
  .string()
  .min(1)
  .refine(
    (value) => !/^[a-z][a-z0-9+.-]*:/i.test(value) || /^file:\/\/[^?#]*$/i.test(value),
    'a root is a file:// URI or a path',
  );

export const RootsSchema = z
  .union([
    z.enum(['none', 'session']),
    z.array(z.union([RootLocation, z.object({ uri: RootLocation, name: z.string().optional() }).strict()])),
  ])
  .default('none')
  .meta({
    description:
      "What the server gets when it asks for roots (roots/list). A list: these roots, from config (paths relative to the server's cwd). none: an empty list. session: the client's own roots, only with mode: session. The gateway answers the first two itself; a client's roots never reach a process another session may use.",
  });

export const SessionLimitsSchema = z
  .object({
    perTenant: z
      .number()
      .int()
      .positive()
      .default(1_000)
      .meta({ description: 'Open sessions one tenant may have at once; more initialize requests get 429.' }),
    perPrincipal: z.number().int().positive().default(100).meta({
      description: 'Open sessions one principal (API key, token subject) may have at once; more get 429.',
    }),
  })
  .strict();

export const ServerSchema = z
  .object({
    command: z.string().min(1).meta({ description: 'Executable, run without a shell.' }),
    args: z.array(z.string()).default([]),
    env: Env.default({}),
    cwd: z.string().optional(),
    mode: z.enum(['shared', 'tenant', 'session']).default('shared').meta({
      description:
        'shared: one pool for everyone; tenant: one pool per tenant; session: a dedicated process per client session.',
    }),
    pool: PoolSchema.prefault({}),
    timeouts: TimeoutsSchema.prefault({}),
    roots: RootsSchema,
    namespace: z.boolean().default(true).meta({
      description:
        'Prefix this server\'s tool and prompt names with "<server><separator>". Off: names pass through bare (the first server in config order wins a clash).',
    }),
    injectContext: z
      .boolean()
      .default(true)
      .meta({ description: 'Add tenant, principal and session to each forwarded request in params._meta.' }),
    envPassthrough: z
      .array(EnvName)
      .default([])
      .meta({ description: "Names of the gateway's own environment variables the child may also see." }),
    pinning: z.enum(['enforce', 'warn', 'off']).default('enforce').meta({
      description:
        'Tool-definition pinning. enforce: a tool whose definition changed since it was pinned, a new tool, or one flagged at first sight is left out of tools/list and refused until an admin approves it (GET /admin/v1/tool-changes); warn: the same changes are recorded and logged, but the tools stay usable; off: nothing is pinned or checked.',
    }),
    trust: z.enum(['review', 'auto']).default('review').meta({
      description:
        'review: a tool the server adds after it was first seen waits for an admin; auto: added tools are pinned at once (unless the scan flags them). Changed definitions always wait.',
    }),
    sandbox: SandboxSchema.optional().meta({
      description:
        "Run the server's processes confined by bubblewrap (docs/sandbox.md): no network, a read-only root, a private /tmp, only the listed mounts, resource limits. A gateway without a working bwrap refuses the config.",
    }),
    limits: CallLimitsSchema.prefault({}).meta({
      description: 'What one call may take: per tool timeout, result size, CPU time (docs/sandbox.md).',
    }),
    cost: CostSchema.prefault({}),
    description: z.string().optional(),
    ...ResilienceFields,
  })
  .strict();

export const ServerOverrideSchema = z
  .object({
    env: Env.optional(),
    args: z.array(z.string()).optional(),
  })
  .strict();

export const ApiKeyEntrySchema = z
  .object({
    id: z.string().min(1).meta({ description: 'The key id, printed by `mcplane keys new`.' }),
    hash: z
      .string()
      .regex(
        /^[a-z0-9-]+:[A-Za-z0-9_-]+$/,
        'expected "<algorithm>:<digest>" as printed by `mcplane keys new`',
      ),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    suspended: z.boolean().default(false),
    scopes: z.array(z.string()).optional(),
  })
  .strict();

export const TenantSchema = z
  .object({
    name: z.string().min(1),
    tier: z.string().default('standard'),
    apiKeys: z.array(ApiKeyEntrySchema).default([]),
    servers: z
      .union([z.literal('*'), z.array(ServerName)])
      .default('*')
      .meta({ description: 'Servers this tenant may use; "*" means all.' }),
    overrides: z
      .record(ServerName, ServerOverrideSchema)
      .default({})
      .meta({ description: "Per-server env/args for this tenant's pool; unset keys keep the server's own." }),
    sessionLimits: z
      .object({
        perTenant: z.number().int().positive().optional(),
        perPrincipal: z.number().int().positive().optional(),
      })
      .strict()
      .optional()
      .meta({ description: "This tenant's own session limits; unset keys keep gateway.sessionLimits." }),
  })
  .strict();

/** JWS algorithms a JWT may be signed with. `none` is not representable, by design. */
const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
const JwsAlgorithm = z.enum([...ASYMMETRIC_ALGORITHMS, ...HMAC_ALGORITHMS]);
type JwsAlgorithm = z.output<typeof JwsAlgorithm>;
const DEFAULT_ASYMMETRIC: JwsAlgorithm[] = ['RS256', 'ES256', 'EdDSA'];
const DEFAULT_HMAC: JwsAlgorithm[] = ['HS256'];
const isHmac = (alg: string): boolean => alg.startsWith('HS');

/** An http(s) URL; plain http only to a loopback host, so keys are never fetched over an open network. */
const KeySourceUrl = z.url({ protocol: /^https?$/ }).refine((value) => {
  const url = new URL(value);
  return url.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}, 'expected an https URL (plain http is allowed only for localhost)');

export const JwtSchema = z
  .object({
    issuer: z
      .string()
      .min(1)
      .meta({ description: 'Required `iss` of every token: the authorization server.' }),
    audience: z.string().min(1).meta({
      description:
        "Required `aud` of every token: the gateway's own resource URI (RFC 8707), e.g. https://gw.example.com/mcp.",
    }),
    jwksUrl: KeySourceUrl.optional().meta({ description: "The authorization server's JSON Web Key Set." }),
    publicKeys: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .meta({ description: 'Verification keys, each a PEM SPKI public key or a JWK (or JWK Set) as JSON.' }),
    secret: z
      .string()
      .min(32, 'an HMAC secret needs at least 32 characters')
      .optional()
      .meta({ description: 'Shared HS256 secret, normally "${MCPLANE_JWT_SECRET}". Prefer jwksUrl.' }),
    algorithms: z.array(JwsAlgorithm).min(1).optional().meta({
      description:
        'Accepted `alg` values. Defaults to RS256, ES256, EdDSA, or HS256 with `secret`. HS* only with `secret`; never none.',
    }),
    tenantClaim: z.string().min(1).default('tenant').meta({ description: 'Claim holding the tenant id.' }),
    scopeClaim: z
      .string()
      .min(1)
      .default('scope')
      .meta({ description: 'Claim holding the scopes: a space-separated string or an array.' }),
    roleClaim: z.string().min(1).optional().meta({
      description:
        'Claim holding the admin role: platform-admin, tenant-admin or member. Unset: every token is a member (MCP only).',
    }),
    clockTolerance: Duration.default(5_000).meta({ description: 'Allowed clock skew for exp, nbf and iat.' }),
  })
  .strict()
  .superRefine((jwt, ctx) => {
    const sources = (['jwksUrl', 'publicKeys', 'secret'] as const).filter((key) => jwt[key] !== undefined);
    if (sources.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: 'configure exactly one of jwksUrl, publicKeys or secret',
        path: [],
      });
    }
    // With a shared secret only HMAC verifies; without one an HS* token would be checked against a
    // public key used as an HMAC secret, the classic algorithm-confusion attack.
    const wantHmac = jwt.secret !== undefined;
    jwt.algorithms?.forEach((alg, index) => {
      if (isHmac(alg) !== wantHmac) {
        const message = wantHmac
          ? 'with `secret` only HS256, HS384 or HS512'
          : 'HS* algorithms need `secret`';
        ctx.addIssue({ code: 'custom', message, path: ['algorithms', index] });
      }
    });
  })
  .transform((jwt) => ({
    ...jwt,
    algorithms: jwt.algorithms ?? (jwt.secret === undefined ? DEFAULT_ASYMMETRIC : DEFAULT_HMAC),
  }));

export const AuthSchema = z
  .object({
    apiKeys: z
      .object({
        pepper: z.string().min(32, 'the pepper needs at least 32 characters').optional().meta({
          description:
            'Server secret for the keyed hash (hmac-sha256) of API keys, normally "${MCPLANE_KEY_PEPPER}". Never commit it.',
        }),
      })
      .strict()
      .prefault({}),
    jwt: JwtSchema.optional().meta({
      description: 'Accept OAuth 2.1 access tokens (JWTs) as bearer credentials.',
    }),
    resourceUri: z
      .url({ protocol: /^https?$/ })
      .optional()
      .meta({
        description: 'The `resource` of the RFC 9728 protected-resource metadata; defaults to jwt.audience.',
      }),
    authorizationServers: z
      .array(z.url({ protocol: /^https?$/ }))
      .optional()
      .meta({ description: 'Issuers listed in the protected-resource metadata; defaults to [jwt.issuer].' }),
    anonymous: z
      .object({
        tenant: z.string().min(1),
        scopes: z.array(z.string()).default(['*']),
      })
      .strict()
      .optional()
      .meta({
        description:
          'Let requests without a credential in, as this tenant. For local demos and test suites only: never on a shared network.',
      }),
    failureLimit: FailureLimitSchema.prefault({}).meta({
      description: 'Brute-force protection: failed authentications allowed per source IP.',
    }),
  })
  .strict();

export const GatewaySettingsSchema = z
  .object({
    metaPrefix: MetaPrefix.default('dev.mcplane'),
    namespaceSeparator: z
      .string()
      .min(1)
      .max(4)
      // `<owner>.<server>` names a server another tenant shares (seed 000's grants).
      .regex(/^[^.]*$/, 'must not contain "." (it separates a shared server\'s owner from the server)')
      .default('__'),
    pageSize: z.number().int().positive().max(10_000).default(100),
    maxMessageSize: ByteSize.default(4 * 1024 * 1024),
    envAllowlist: z
      .array(EnvName)
      .default(['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TERM', 'LANG', 'TZ', 'TMPDIR', 'NODE_OPTIONS'])
      .meta({ description: "The gateway's environment variables every child inherits." }),
    processIsolation: z.enum(['auto', 'bwrap', 'none']).default('auto').meta({
      description:
        'Run each child under bubblewrap (--die-with-parent, its own PID namespace) so that nothing it started outlives the gateway, even after SIGKILL. auto: when bwrap works here; bwrap: required; none: never.',
    }),
    sessionLimits: SessionLimitsSchema.prefault({}).meta({
      description: 'How many sessions a tenant and a principal may hold open; a tenant may override them.',
    }),
    auth: AuthSchema.prefault({}).meta({ description: 'How HTTP clients authenticate: API keys and JWTs.' }),
    http: HttpSchema.prefault({}).meta({ description: 'The Streamable HTTP front door of `mcplane serve`.' }),
    store: z
      .object({
        url: z.string().min(1).default('sqlite:.mcplane/mcplane.db').meta({
          description:
            'Where tenants, keys and tenant server configs live: sqlite:<file> (default, embedded) or postgres://… for several replicas.',
        }),
      })
      .strict()
      .prefault({})
      .meta({ description: 'The durable store of the control plane (`mcplane serve`).' }),
    drainTimeout: Duration.default(600_000).meta({
      description:
        'How long a changed or removed server (after a reload) or a replaced tenant pool may finish its calls before its processes are stopped.',
    }),
    policies: z
      .object({
        dir: z.string().min(1).default('policies').meta({
          description:
            'Folder of policy files (*.yaml), relative to this config file. A missing folder means no rules: every call is allowed.',
        }),
      })
      .strict()
      .prefault({})
      .meta({ description: 'Policy (docs/policy.md): loaded at start and with every reload.' }),
    guards: GuardsSchema.prefault({}).meta({
      description: 'Input and output guards (docs/guards.md): injection, hidden characters, secrets, links.',
    }),
    audit: AuditSchema.prefault({}).meta({
      description:
        'The tamper-evident audit log (docs/audit.md). `dir` is relative to the working directory.',
    }),
    retention: z
      .object({
        every: Duration.refine((ms) => ms >= 1_000 && ms <= 86_400_000, 'expected between 1s and 24h')
          .default(3_600_000)
          .meta({ description: 'How often the retention job runs (at start, then after each run).' }),
        tiers: z.record(z.string().min(1), Period).default({}).meta({
          description: 'How long records of tenants of each tier are kept, e.g. { free: 7d, pro: 365d }.',
        }),
        default: Period.default(90 * 86_400_000).meta({
          description: "For tiers not listed, and for the platform's own records.",
        }),
      })
      .strict()
      .prefault({})
      .meta({
        description:
          'How long time-series records (the admin change log; usage and audit records as they join the store) are kept per tenant tier; older ones are deleted by a periodic job.',
      }),
    anomaly: AnomalySchema.prefault({}).meta({
      description:
        "Anomaly scores per call against each principal's baseline (docs/anomaly.md), for audit, metrics and policy (`anomaly.score`). Applies at start.",
    }),
    reload: z
      .object({
        watch: z.boolean().default(true).meta({ description: 'Reload when the config file changes.' }),
        debounce: Duration.default(500).meta({ description: 'Quiet time after a change before reloading.' }),
      })
      .strict()
      .prefault({})
      .meta({ description: 'Hot reload of this file: a file watch, SIGHUP, or POST /admin/v1/reload.' }),
    admin: AdminListenerSchema.prefault({}).meta({
      description:
        'The admin listener of `mcplane serve`, apart from the MCP port: /metrics (docs/observability.md).',
    }),
    metrics: MetricsSchema.prefault({}).meta({
      description: 'Prometheus metrics: what is labelled, and how many label values (docs/observability.md).',
    }),
    logs: LogsSchema.prefault({}).meta({ description: 'The structured log (docs/observability.md).' }),
    tracing: TracingSchema.prefault({}).meta({
      description:
        'The spans of a traced call (docs/observability.md); OTEL_* variables turn tracing on and say where spans go.',
    }),
    metering: MeteringSchema.prefault({}).meta({
      description:
        'Usage events per call, written to the store in batches, and cost attribution of child processes (docs/metering.md).',
    }),
    redis: RedisSchema.prefault({}).meta({
      description:
        'Redis for rate-limit and quota counts shared by replicas (docs/limits.md). Applies at start.',
    }),
    limits: LimitsSchema.prefault({}).meta({
      description:
        'Rate limits and quotas (docs/limits.md); their values come from tiers: and the admin API.',
    }),
  })
  .strict();

type ConfigDraft = {
  gateway: { auth: { apiKeys: { pepper?: string | undefined } } };
  tenants: Record<string, { apiKeys: { id: string; hash: string }[] }>;
};

/** Key ids are global (a presented key names its entry by id alone), and a keyed hash needs the pepper. */
function checkApiKeys(config: ConfigDraft, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  const hasPepper = config.gateway.auth.apiKeys.pepper !== undefined;
  for (const [tenantId, tenant] of Object.entries(config.tenants)) {
    tenant.apiKeys.forEach((entry, index) => {
      if (seen.has(entry.id)) {
        ctx.addIssue({
          code: 'custom',
          message: `API key id "${entry.id}" is used more than once`,
          path: ['tenants', tenantId, 'apiKeys', index, 'id'],
        });
      }
      seen.add(entry.id);
      if (entry.hash.startsWith('hmac-sha256:') && !hasPepper) {
        ctx.addIssue({
          code: 'custom',
          message: 'an hmac-sha256 hash needs gateway.auth.apiKeys.pepper',
          path: ['tenants', tenantId, 'apiKeys', index, 'hash'],
        });
      }
    });
  }
}

export const ConfigSchema = z
  .object({
    $schema: z.string().optional(),
    gateway: GatewaySettingsSchema.prefault({}),
    servers: z.record(ServerName, ServerSchema),
    tenants: z.record(TenantId, TenantSchema).default({}),
    tiers: z.record(z.string().min(1), TierSchema).default({}).meta({
      description:
        'What each tenant tier is entitled to: rate limits, quotas, its share of a saturated pool.',
    }),
    billing: BillingSchema.prefault({}).meta({
      description: 'Plans, overage prices and the Stripe webhook and usage export (docs/billing.md).',
    }),
  })
  .strict()
  .superRefine((config, ctx) => {
    const known = new Set(Object.keys(config.servers));
    const anonymous = config.gateway.auth.anonymous;
    if (anonymous && !config.tenants[anonymous.tenant]) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown tenant "${anonymous.tenant}"`,
        path: ['gateway', 'auth', 'anonymous', 'tenant'],
      });
    }
    for (const [tenantId, tenant] of Object.entries(config.tenants)) {
      if (tenant.servers !== '*') {
        tenant.servers.forEach((name, index) => {
          if (!known.has(name)) {
            ctx.addIssue({
              code: 'custom',
              message: `unknown server "${name}"`,
              path: ['tenants', tenantId, 'servers', index],
            });
          }
        });
      }
      for (const name of Object.keys(tenant.overrides)) {
        if (!known.has(name)) {
          ctx.addIssue({
            code: 'custom',
            message: `unknown server "${name}"`,
            path: ['tenants', tenantId, 'overrides', name],
          });
        }
      }
    }
    checkApiKeys(config, ctx);
    const guardIssues = guardReferenceIssues(
      config.gateway.guards,
      // The gateway's own management server passes the guards too.
      new Set([...known, BUILTIN_SERVER]),
      new Set(Object.keys(config.tenants)),
    );
    for (const issue of guardIssues) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: ['gateway', 'guards', ...issue.path] });
    }
    for (const [name, server] of Object.entries(config.servers)) {
      // Another session's requests reach a shared or tenant process, and with them whatever that
      // process kept of the first client's roots.
      if (server.roots === 'session' && server.mode !== 'session') {
        ctx.addIssue({
          code: 'custom',
          message: `roots: session forwards one client's roots, so it needs mode: session (this server is mode: ${server.mode}); use a fixed list or none`,
          path: ['servers', name, 'roots'],
        });
      }
      for (const [path, fallback] of [
        [['fallback'], server.fallback] as const,
        ...Object.entries(server.toolFallbacks).map(
          ([tool, entry]) => [['toolFallbacks', tool], entry] as const,
        ),
      ]) {
        if (fallback && (!known.has(fallback.server) || fallback.server === name)) {
          ctx.addIssue({
            code: 'custom',
            message:
              fallback.server === name
                ? 'a server cannot be its own fallback'
                : `unknown server "${fallback.server}"`,
            path: ['servers', name, ...path, 'server'],
          });
        }
      }
      for (const issue of sandboxIssues(server)) {
        ctx.addIssue({ code: 'custom', message: issue.message, path: ['servers', name, ...issue.path] });
      }
      if (name === BUILTIN_SERVER) {
        ctx.addIssue({
          code: 'custom',
          message: `"${BUILTIN_SERVER}" is the name of the gateway's own management server; pick another`,
          path: ['servers', name],
        });
      }
      if (name.includes(config.gateway.namespaceSeparator)) {
        ctx.addIssue({
          code: 'custom',
          message: `server names must not contain the namespace separator "${config.gateway.namespaceSeparator}"`,
          path: ['servers', name],
        });
      }
    }
  });

export type Config = z.output<typeof ConfigSchema>;
export type ServerConfig = z.output<typeof ServerSchema>;
export type TenantConfig = z.output<typeof TenantSchema>;
export type PoolConfig = z.output<typeof PoolSchema>;
export type RootsSetting = z.output<typeof RootsSchema>;
export type SessionLimits = z.output<typeof SessionLimitsSchema>;
export type GatewaySettings = z.output<typeof GatewaySettingsSchema>;
export type ApiKeyEntry = z.output<typeof ApiKeyEntrySchema>;
export type AuthConfig = z.output<typeof AuthSchema>;
export type JwtConfig = z.output<typeof JwtSchema>;
