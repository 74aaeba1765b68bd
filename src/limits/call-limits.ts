/**
 * The rate limits and quotas of calls (docs/limits.md): what the `limit` stage and the HTTP
 * faces ask before a request goes on. Values come from the live view (the tenant's tier and the
 * admin API's overrides), never from the store per call.
 *
 * Every request through the pipeline counts against its key's and its tenant's rates; a
 * `tools/call` also against its (tenant, tool) rate and the monthly quotas. A session's opening
 * (`initialize`) counts against the key's and the tenant's rates, refused over HTTP with 429.
 */
import type { Tier } from '../config/tiers-schema.ts';
import { tierOf } from '../config/tiers-schema.ts';
import type { LiveView } from '../control/live-view.ts';
import { GatewayError } from '../errors.ts';
import type { Principal } from '../identity/principal.ts';
import type { LimitOverrideValue } from '../store/records.ts';
import type { Store } from '../store/store.ts';
import type { CountingBackend } from './counting-backend.ts';
import { keyLimits, tenantLimits, type KeyLimits, type TenantLimits } from './effective-limits.ts';
import { QuotaLedger, TENANT_SUBJECT } from './quota-ledger.ts';
import { RateCounters, type RateCheck, type RateVerdict } from './rate-counters.ts';
import { windowsOf, type LimitScope } from './rate-windows.ts';

/** A tool name longer than this, or with other characters, is counted under one shared name. */
const TOOL_NAME = /^[\w.\-/:]{1,128}$/;

const WINDOW_WORDS = { perSecond: 'second', perMinute: 'minute', perHour: 'hour', perDay: 'day' } as const;

/** Most tools one principal's plans are kept for; past it they are worked out afresh. */
const MAX_PLANS_PER_PRINCIPAL = 256;

/** What holds for one principal's call of one tool (or its other requests), under one live view. */
type CallPlan = { readonly limits: KeyLimits; readonly checks: readonly RateCheck[] };

/** A principal's plans, good while the live view they were worked out from is the current one. */
type PrincipalPlans = { readonly view: LiveView; readonly byTool: Map<string, CallPlan | null> };

export type CallLimitsOptions = {
  readonly backend: CountingBackend;
  readonly store?: Store;
  readonly now: () => Date;
  readonly quotaFlushInterval: number;
  readonly view: () => LiveView;
};

/** `GET /admin/v1/tenants/{id}/limits`. */
export type TenantLimitsReport = {
  readonly tenant: string;
  readonly tier: string;
  readonly rateLimits: TenantLimits['rateLimits'];
  readonly quota: {
    readonly monthlyCalls?: number;
    readonly monthlyCallsPerKey?: number;
    used: number;
    resetAt: string;
  };
  readonly overrides: {
    readonly tenant?: LimitOverrideValue;
    readonly keys: Record<string, LimitOverrideValue & { readonly used: number }>;
  };
};

export class CallLimits {
  readonly #options: CallLimitsOptions;
  readonly #rates: RateCounters;
  readonly #quotas: QuotaLedger;
  /**
   * The limits and rate checks of each principal's calls, worked out once per live view (a
   * reload or an admin change makes a new view) instead of on every call.
   */
  readonly #plans = new WeakMap<Principal, PrincipalPlans>();

  constructor(options: CallLimitsOptions) {
    this.#options = options;
    this.#rates = new RateCounters(options.backend);
    this.#quotas = new QuotaLedger({
      backend: options.backend,
      ...(options.store ? { store: options.store } : {}),
      now: options.now,
      flushInterval: options.quotaFlushInterval,
    });
  }

  /** Throws RATE_LIMITED or QUOTA_EXCEEDED (or LIMITS_UNAVAILABLE, failing closed) for a call over a limit. */
  async checkCall(principal: Principal, method: string, params: Record<string, unknown>): Promise<void> {
    const tool = method === 'tools/call' ? toolKey(params.name) : undefined;
    const plan = this.#planOf(principal, tool);
    if (!plan) return;
    const { limits, checks } = plan;
    if (tool === undefined) {
      if (checks.length > 0) this.#refuseOver(principal, await this.#rates.consume(checks));
      return;
    }
    // A key hammering past its limit is refused from memory, before its quota is touched.
    const held = this.#rates.held(checks);
    if (held) this.#refuseOver(principal, held);
    if (!this.#options.backend.redis) {
      // In memory nothing waits: the rates first, then the quotas, with nothing to give back.
      this.#refuseOver(principal, await this.#rates.consume(checks));
      await this.#quotas.take(principal.tenantId, keyIdOf(principal), limits.quota);
      return;
    }
    // Rates and quotas at once (one Redis round trip, not two); a quota count taken for a call a
    // rate then refuses is given back.
    const [rate, quota] = await Promise.allSettled([
      this.#rates.consume(checks),
      this.#quotas.take(principal.tenantId, keyIdOf(principal), limits.quota),
    ]);
    if (rate.status === 'rejected' || !rate.value.ok) {
      if (quota.status === 'fulfilled') await quota.value();
      if (rate.status === 'rejected') throw rate.reason;
      this.#refuseOver(principal, rate.value);
    }
    if (quota.status === 'rejected') throw quota.reason;
  }

  /** Throws RATE_LIMITED when the key or the tenant is over its rate: a session may not open. */
  async checkSessionOpen(principal: Principal): Promise<void> {
    const plan = this.#planOf(principal, undefined);
    if (plan && plan.checks.length > 0) this.#refuseOver(principal, await this.#rates.consume(plan.checks));
  }

  /** The tenant's limits as they hold now, its quota use and its overrides. */
  async report(tenantId: string): Promise<TenantLimitsReport | undefined> {
    const view = this.#options.view();
    const tenant = view.tenants.get(tenantId);
    if (!tenant) return undefined;
    const overrides = view.limits.get(tenantId);
    const limits = tenantLimits(this.#tierOf(tenant.tier), overrides);
    const used = await this.#quotas.used(tenantId, TENANT_SUBJECT);
    const keys: Record<string, LimitOverrideValue & { used: number }> = {};
    for (const [keyId, value] of overrides?.keys ?? []) {
      keys[keyId] = { ...value, used: (await this.#quotas.used(tenantId, keyId)).used };
    }
    return {
      tenant: tenantId,
      tier: tenant.tier,
      rateLimits: limits.rateLimits,
      quota: { ...limits.quota, used: used.used, resetAt: used.resetAt },
      overrides: { ...(overrides?.tenant ? { tenant: overrides.tenant } : {}), keys },
    };
  }

  /** Writes the quota use not yet in the store; the rest is kept for the next try. */
  flush(): Promise<void> {
    return this.#quotas.flush();
  }

  /** Gives back the unspent points and numbers of leased blocks, and writes the quota use left. */
  async close(): Promise<void> {
    await this.#rates.release();
    await this.#quotas.close();
  }

  /** The principal's plan for `tool` (undefined: not a tools/call) under the current view. */
  #planOf(principal: Principal, tool: string | undefined): CallPlan | undefined {
    const view = this.#options.view();
    let plans = this.#plans.get(principal);
    if (plans?.view !== view) {
      plans = { view, byTool: new Map() };
      this.#plans.set(principal, plans);
    }
    const name = tool ?? '';
    let plan = plans.byTool.get(name);
    if (plan === undefined) {
      const limits = this.#limitsOf(principal);
      plan = limits ? { limits, checks: this.#checks(principal, limits, tool) } : null;
      if (plans.byTool.size >= MAX_PLANS_PER_PRINCIPAL) plans.byTool.clear();
      plans.byTool.set(name, plan);
    }
    return plan ?? undefined;
  }

  #limitsOf(principal: Principal): KeyLimits | undefined {
    const view = this.#options.view();
    const tenant = view.tenants.get(principal.tenantId);
    if (!tenant) return undefined;
    const overrides = view.limits.get(principal.tenantId);
    return keyLimits(tenantLimits(this.#tierOf(tenant.tier), overrides), overrides, keyIdOf(principal));
  }

  #tierOf(name: string): Tier {
    return tierOf(this.#options.view().config.tiers, name);
  }

  #checks(principal: Principal, limits: KeyLimits, tool: string | undefined): RateCheck[] {
    const tenant = principal.tenantId;
    const of = (scope: LimitScope, subject: string, rate: KeyLimits['perKey']): RateCheck[] =>
      windowsOf(rate).map(([window, points]) => ({ scope, subject, window, points }));
    return [
      ...of('key', `${tenant}:${principal.subject}`, limits.perKey),
      ...of('tenant', tenant, limits.perTenant),
      ...(tool === undefined ? [] : of('tool', `${tenant}:${tool}`, limits.perTool)),
    ];
  }

  #refuseOver(principal: Principal, verdict: RateVerdict): void {
    if (verdict.ok) return;
    this.#options.backend.events.rateLimited(principal.tenantId, verdict.scope);
    throw rateLimited(verdict);
  }
}

/** The RATE_LIMITED error for a refused verdict, with the data clients act on. */
export function rateLimited(verdict: Exclude<RateVerdict, { ok: true }>): GatewayError {
  const seconds = Math.ceil(verdict.retryAfterMs / 1000);
  const per =
    verdict.scope === 'ip' ? 'failed authentications per source IP' : `requests per ${verdict.scope}`;
  return new GatewayError(
    'RATE_LIMITED',
    `rate limit of ${verdict.limit} ${per} per ${WINDOW_WORDS[verdict.window]} exceeded; retry in ${seconds}s`,
    {
      data: {
        retryAfterMs: verdict.retryAfterMs,
        retryAfterSeconds: seconds,
        limit: verdict.limit,
        window: verdict.window,
        scope: verdict.scope,
      },
    },
  );
}

function keyIdOf(principal: Principal): string | undefined {
  return principal.via === 'api-key' && principal.subject.startsWith('key:')
    ? principal.subject.slice(4)
    : undefined;
}

function toolKey(name: unknown): string {
  return typeof name === 'string' && TOOL_NAME.test(name) ? name : '?';
}
