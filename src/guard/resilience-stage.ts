/**
 * The `resilience` stage, last before forwarding: it runs each routed call through its
 * (server, tenant) circuit breaker, retries gateway-side failures of calls that are safe to
 * repeat, and when the server still cannot answer serves the call from its fallback server or
 * from a stale copy of its last good result, saying so in the result's `_meta` and in
 * `call.notes.servedBy`. See docs/resilience.md.
 *
 * An upstream JSON-RPC error and an `isError` result are the server's answer: they pass through
 * as they are and count as the server having answered.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import { fallbackArguments, fallbackOf, mayRetry, mayServeStale } from '../resilience/call-policy.ts';
import { isGatewayFailure, isTransientFailure } from '../resilience/gateway-failure.ts';
import { fullJitterDelay } from '../resilience/retry-budget.ts';
import { metaKey, withResilienceMeta } from '../resilience/resilience-meta.ts';
import type { Resilience } from '../resilience/resilience.ts';
import type { FallbackSettings } from '../resilience/resilience-schema.ts';
import { StaleCache } from '../resilience/stale-cache.ts';
import { LIST_METHODS, type Route, type Router } from '../router/router.ts';
import type { ServerRoute } from '../router/server-route.ts';
import type { Logger } from '../log.ts';
import { findNamed } from '../upstream/server-catalog.ts';
import { contextOf } from './call-context.ts';
import { definitionHash } from './pinning/tool-definition.ts';
import type { ToolPinning } from './pinning/tool-pinning.ts';
import type { Call, Next, Reply, Stage } from './pipeline.ts';

export type ResilienceStageOptions = {
  readonly resilience: Resilience;
  router(): Router;
  metaPrefix(): string;
  readonly log: Logger;
  /** Tool-definition pinning, which a fallback's tool passes too. */
  readonly pinning?: ToolPinning;
  readonly random?: () => number;
};

const RESILIENT: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

export function resilienceStage(options: ResilienceStageOptions): Stage {
  return {
    name: 'resilience',
    handle(call: Call, next: Next): Promise<Reply> {
      if (LIST_METHODS.has(call.method)) return next(call);
      const route = contextOf(call).route;
      if (route?.kind !== 'upstream') return next(call);
      return new ResilientCall(options, call, next, route).run();
    },
  };
}

class ResilientCall {
  readonly #options: ResilienceStageOptions;
  readonly #call: Call;
  readonly #next: Next;
  readonly #route: ServerRoute & Route;
  readonly #settings: ServerConfig;
  readonly #tenant: string;
  readonly #item: string | undefined;
  readonly #annotations: Tool['annotations'];

  constructor(options: ResilienceStageOptions, call: Call, next: Next, route: ServerRoute & Route) {
    this.#options = options;
    this.#call = call;
    this.#next = next;
    this.#route = route;
    this.#settings = route.server.settings;
    this.#tenant = call.session.principal.tenantId;
    this.#item = call.target?.tool ?? call.target?.prompt ?? call.target?.uri;
    this.#annotations = this.#toolAnnotations();
  }

  async run(): Promise<Reply> {
    const { method } = this.#call;
    if (!RESILIENT.has(method)) return this.#attempt(this.#route, this.#call.params);
    const server = this.#route.server.name;
    const staleKey = mayServeStale(this.#settings, method, this.#call.target?.tool, this.#annotations)
      ? StaleCache.keyOf(this.#tenant, method, this.#item ?? '', this.#argumentsOf(this.#call.params))
      : undefined;
    try {
      const reply = await this.#withRetries();
      if (staleKey !== undefined && 'result' in reply && reply.result.isError !== true) {
        const stale = this.#settings.staleIfError;
        if (stale) this.#options.resilience.staleOf(server).store(staleKey, reply.result, stale);
      }
      this.#call.notes.servedBy = 'primary';
      return this.#clean(reply);
    } catch (error) {
      if (!isGatewayFailure(error) && !isBreakerOpen(error)) throw error;
      const fallback = fallbackOf(this.#settings, method, this.#call.target?.tool);
      if (fallback) {
        const served = await this.#fallback(fallback, error);
        if (served) return served;
      }
      if (staleKey !== undefined) {
        const served = this.#stale(staleKey, error);
        if (served) return served;
      }
      return failureReply(error);
    }
  }

  /** The primary server, retried on transient gateway-side failures while allowed. */
  async #withRetries(): Promise<Reply> {
    const server = this.#route.server.name;
    const retry = this.#settings.retry;
    // A call pinning could not judge fails the same way every time: nothing to retry.
    const retryable =
      contextOf(this.#call).unverified === undefined &&
      mayRetry(this.#settings, this.#call.method, this.#call.target?.tool, this.#annotations);
    const budget = retry && retryable ? this.#options.resilience.budgetOf(server, retry.budget) : undefined;
    budget?.deposit();
    // The call's deadline over every attempt, from when it entered the pipeline.
    const deadline = this.#call.startedAt + (retry?.deadline ?? this.#settings.timeouts.call);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#attempt(this.#route, this.#call.params);
      } catch (error) {
        if (!retry || !budget || attempt >= retry.attempts || !isTransientFailure(error)) throw error;
        const delay = fullJitterDelay(attempt, retry.baseDelay, retry.maxDelay, this.#options.random);
        if (performance.now() + delay >= deadline || this.#call.signal.aborted) throw error;
        const totals = this.#options.resilience.totalsOf(server);
        if (!budget.withdraw()) {
          totals.retriesRefused++;
          throw error;
        }
        totals.retries++;
        this.#call.notes.retries = attempt;
        await sleep(delay, undefined, { signal: this.#call.signal, ref: false });
      }
    }
  }

  /** One attempt on a route, through that route's (server, tenant) breaker; throws its failure. */
  async #attempt(route: ServerRoute & Route, params: Record<string, unknown>): Promise<Reply> {
    const { server, poolTenant } = route;
    return this.#options.resilience.breakers.run(
      server.name,
      this.#tenant,
      server.settings.breaker,
      () => server.startBackoff(poolTenant),
      async () => {
        const context = contextOf(this.#call);
        if (route === this.#route && context.unverified) throw context.unverified;
        context.route = route;
        this.#call.params = params;
        return this.#next(this.#call);
      },
    );
  }

  async #fallback(fallback: FallbackSettings, cause: GatewayError): Promise<Reply | undefined> {
    const tool = fallback.tool ?? this.#call.target?.tool;
    const route = this.#options
      .router()
      .routesFor(this.#tenant)
      .find((candidate) => candidate.server.name === fallback.server && candidate.grant === undefined);
    if (!route || tool === undefined || !(await this.#mayCallFallback(route, tool))) return undefined;
    const primary = this.#route.server.name;
    const args = fallbackArguments(fallback, this.#call.params.arguments);
    const params: Record<string, unknown> = {
      ...this.#call.params,
      name: tool,
      ...(args === undefined ? {} : { arguments: args }),
    };
    const primaryTarget = this.#call.target;
    const primaryParams = this.#call.params;
    this.#call.target = { server: fallback.server, tool };
    try {
      const reply = await this.#attempt({ ...route, params }, params);
      if (!('result' in reply)) return reply;
      this.#options.resilience.totalsOf(primary).fallbacks++;
      this.#call.notes.servedBy = 'fallback';
      const prefix = this.#options.metaPrefix();
      return {
        result: withResilienceMeta(reply.result, prefix, {
          [metaKey(prefix, 'servedBy')]: 'fallback',
          [metaKey(prefix, 'fallback')]: { primary, server: fallback.server, tool, reason: cause.code },
        }),
      };
    } catch (error) {
      if (!isGatewayFailure(error) && !isBreakerOpen(error)) throw error;
      this.#options.log.debug({ server: primary, fallback: fallback.server }, 'the fallback failed too');
      // What audit records is then the primary's call (answered stale, or failed).
      if (primaryTarget) this.#call.target = primaryTarget;
      this.#call.params = primaryParams;
      contextOf(this.#call).route = this.#route;
      return undefined;
    }
  }

  /**
   * Whether the fallback's tool may be called: it is listed by the fallback server for this
   * session, and its definition is not held by pinning (a fallback is no way around quarantine).
   */
  async #mayCallFallback(route: ServerRoute, tool: string): Promise<boolean> {
    try {
      const catalog = await route.server.catalog(contextOf(this.#call).link, route.poolTenant);
      const found = findNamed(catalog.tools, tool);
      if (!found) return false;
      const pinning = this.#options.pinning;
      if (!pinning?.applies(route.server.name)) return true;
      const judge = await pinning.judge(route.server.name, route.poolTenant, catalog.tools);
      return judge(found.name, definitionHash(found)) !== 'quarantine';
    } catch (error) {
      if (isGatewayFailure(error)) return false;
      throw error;
    }
  }

  #stale(key: string, cause: GatewayError): Reply | undefined {
    const server = this.#route.server.name;
    const ttl = this.#settings.staleIfError?.ttl ?? 0;
    const kept = this.#options.resilience.staleOf(server).find(key, ttl);
    if (!kept) return undefined;
    this.#options.resilience.totalsOf(server).staleServed++;
    this.#call.notes.servedBy = 'stale';
    const prefix = this.#options.metaPrefix();
    return {
      result: withResilienceMeta(kept.result, prefix, {
        [metaKey(prefix, 'servedBy')]: 'stale',
        [metaKey(prefix, 'stale')]: {
          ageMs: Math.round(kept.ageMs),
          storedAt: new Date(Date.now() - kept.ageMs).toISOString(),
          reason: cause.code,
        },
      }),
    };
  }

  /** A primary result loses any `_meta` key that could pass for one of the resilience layer's. */
  #clean(reply: Reply): Reply {
    if (!('result' in reply) || reply.result._meta === undefined) return reply;
    return { result: withResilienceMeta(reply.result, this.#options.metaPrefix(), {}) };
  }

  #argumentsOf(params: Record<string, unknown>): unknown {
    return this.#call.method === 'tools/call' ? (params.arguments ?? {}) : (params.arguments ?? null);
  }

  #toolAnnotations(): Tool['annotations'] {
    const tool = this.#call.target?.tool;
    if (this.#call.method !== 'tools/call' || tool === undefined) return undefined;
    const { server, poolTenant } = this.#route;
    return server.knownTool(poolTenant, tool)?.annotations;
  }
}

function isBreakerOpen(error: unknown): error is GatewayError {
  return error instanceof GatewayError && error.code === 'BREAKER_OPEN';
}

/** The failure as the client sees it; an open breaker's reply says which server and when. */
function failureReply(error: GatewayError): Reply {
  const rpc = error.toJsonRpcError();
  if (error.code !== 'BREAKER_OPEN' || !error.detail) return { error: rpc };
  return {
    error: { ...rpc, data: { ...rpc.data, server: error.detail.server, retryAt: error.detail.retryAt } },
  };
}
