/**
 * Which server a request goes to, and what a session sees of all its servers together. Lists are
 * aggregated over the session's routes (its tenant's own servers and those shared with it, see
 * server-route.ts), name-spaced, and paginated with the gateway's own cursors; calls route back by
 * qualified name, resource URI or completion reference. A server the tenant may not use is
 * indistinguishable from one that does not exist.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { LiveView } from '../control/live-view.ts';
import { GatewayError } from '../errors.ts';
import type { ListedKind } from '../guard/authorize-stage.ts';
import type { Principal } from '../identity/principal.ts';
import { findByUri, listsName, type ServerCatalog } from '../upstream/server-catalog.ts';
import type { SessionLink } from '../upstream/session-link.ts';
import type { UpstreamServer } from '../upstream/upstream-server.ts';
import { decodeCursor, page } from './page-cursor.ts';
import { qualify } from './qualified-name.ts';
import { builtinRoute, type BuiltinRoute, type BuiltinServer } from './builtin-route.ts';
import { grantedCatalog, routeLive, routesOf, type ServerRoute } from './server-route.ts';
import { matchesTemplate } from './uri-template.ts';

export type ListMethod = 'tools/list' | 'prompts/list' | 'resources/list' | 'resources/templates/list';

export const LIST_METHODS: ReadonlySet<string> = new Set<ListMethod>([
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
]);

/** A server as a session sees it: an upstream one (its tenant's own, or shared), or a built-in one. */
export type SessionRoute = ServerRoute | BuiltinRoute;

/** Where a request goes: a route, and the params as its server knows them. */
export type Route = SessionRoute & { readonly params: Record<string, unknown> };

/** What the router needs of a session: its link, and its principal (who sees built-in servers). */
export type RoutedSession = SessionLink & { readonly principal: Principal };

type Params = Record<string, unknown>;

/** A route's catalog as its session may see it (a grant narrows it). */
type RoutedCatalog = { readonly route: SessionRoute; readonly catalog: ServerCatalog };

export type RouterOptions = {
  /** The current view; a swapped view (a reload, a store change) invalidates what was derived. */
  view(): LiveView;
  /** The current servers, by name, in config order. */
  servers(): ReadonlyMap<string, UpstreamServer>;
  /** The server the gateway answers itself, when it has one (`mcplane`, with a store). */
  readonly builtin?: BuiltinServer;
  readonly log: Logger;
  readonly now?: () => number;
};

export class Router {
  readonly #options: RouterOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #builtin: BuiltinRoute | undefined;
  #byTenant = new Map<string, readonly ServerRoute[]>();
  #derivedFrom: { view: LiveView; servers: ReadonlyMap<string, UpstreamServer> } | undefined;

  constructor(options: RouterOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#builtin = options.builtin ? builtinRoute(options.builtin) : undefined;
  }

  get #config(): Config {
    return this.#options.view().config;
  }

  /**
   * The routes a tenant's sessions reach: its own servers in config order, then those shared
   * with it; none for a suspended or unknown tenant. Derived once per view, and a grant that has
   * expired since drops out at once, before the view that forgets it is built.
   */
  routesFor(tenantId: string): readonly ServerRoute[] {
    const view = this.#options.view();
    const current = this.#options.servers();
    if (this.#derivedFrom?.view !== view || this.#derivedFrom.servers !== current) {
      this.#byTenant = new Map();
      this.#derivedFrom = { view, servers: current };
    }
    const now = this.#now();
    let routes = this.#byTenant.get(tenantId);
    if (!routes) {
      routes = routesOf(view, current, tenantId, now);
      this.#byTenant.set(tenantId, routes);
    }
    return routes.every((route) => routeLive(route, now))
      ? routes
      : routes.filter((route) => routeLive(route, now));
  }

  /** The distinct servers a tenant's sessions reach, own or shared. */
  serversFor(tenantId: string): UpstreamServer[] {
    return [...new Set(this.routesFor(tenantId).map((route) => route.server))];
  }

  /** Whether sessions of this tenant reach this server on this tenant's pool (default: their own). */
  reaches(tenantId: string, server: string, poolTenant: string = tenantId): boolean {
    return this.routesFor(tenantId).some(
      (route) =>
        route.server.name === server && (route.server.mode !== 'tenant' || route.poolTenant === poolTenant),
    );
  }

  /** A session's routes: its tenant's, then the built-in server if its principal sees it. */
  #sessionRoutes(principal: Principal): readonly SessionRoute[] {
    const routes = this.routesFor(principal.tenantId);
    return this.#builtin?.server.visibleTo(principal) ? [...routes, this.#builtin] : routes;
  }

  /** Whether a request goes to the built-in server (it then passes the pipeline as face `admin-mcp`). */
  isBuiltinCall(principal: Principal, method: string, params: Params): boolean {
    if (method !== 'tools/call' || typeof params.name !== 'string' || !this.#builtin) return false;
    return this.#spacedRoute(this.#sessionRoutes(principal), params.name)?.route.kind === 'builtin';
  }

  /** One page of an aggregated list. */
  async list(
    session: RoutedSession,
    method: ListMethod,
    params: Params | undefined,
  ): Promise<Record<string, unknown>> {
    const offset = decodeCursor(params?.cursor, method);
    const missing: string[] = [];
    const catalogs = await this.catalogs(session, undefined, missing);
    const separator = this.#config.gateway.namespaceSeparator;
    const key = LIST_KEY[method];
    const items: unknown[] = [];
    for (const { route, catalog } of catalogs.values()) {
      const name = (bare: string): string => (route.spaced ? qualify(route.name, bare, separator) : bare);
      if (method === 'tools/list') {
        for (const tool of catalog.tools) items.push({ ...tool, name: name(tool.name) });
      } else if (method === 'prompts/list') {
        for (const prompt of catalog.prompts) items.push({ ...prompt, name: name(prompt.name) });
      } else if (method === 'resources/list') {
        items.push(...catalog.resources);
      } else {
        items.push(...catalog.resourceTemplates);
      }
    }
    const { items: pageItems, nextCursor } = page(items, offset, this.#config.gateway.pageSize, method);
    const result: Record<string, unknown> =
      nextCursor === undefined ? { [key]: pageItems } : { [key]: pageItems, nextCursor };
    // Partial success (seed 003 §3): the servers that could not be reached are left out of the
    // list, and named, so a client can tell "no such tool" from "its server is down".
    if (missing.length > 0) result._meta = { [`${this.#config.gateway.metaPrefix}/unavailable`]: missing };
    return result;
  }

  /**
   * The catalogs of the session's routes that can be reached, by route name; a server that
   * cannot start is left out (and logged) rather than failing the whole list.
   */
  async catalogs(
    session: RoutedSession,
    routes: readonly SessionRoute[] = this.#sessionRoutes(session.principal),
    missing?: string[],
  ): Promise<Map<string, RoutedCatalog>> {
    const settled = await Promise.allSettled(routes.map((route) => this.#catalogOf(session, route)));
    const catalogs = new Map<string, RoutedCatalog>();
    settled.forEach((outcome, index) => {
      const route = routes[index] as SessionRoute;
      if (outcome.status === 'fulfilled') catalogs.set(route.name, { route, catalog: outcome.value });
      else {
        missing?.push(route.name);
        this.#log.warn(
          { server: route.server.name, route: route.name, err: outcome.reason },
          'server left out of the list: unavailable',
        );
      }
    });
    return catalogs;
  }

  /** Where a request that targets one server goes, with its params rewritten for that server. */
  async route(session: RoutedSession, method: string, params: Params): Promise<Route> {
    switch (method) {
      case 'tools/call':
        return this.#byName(session, params, 'name', 'UNKNOWN_TOOL');
      case 'prompts/get':
        return this.#byName(session, params, 'name', 'UNKNOWN_PROMPT');
      case 'resources/read':
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return { ...(await this.#byUri(session, params.uri)), params };
      case 'completion/complete':
        return this.#completion(session, params);
      default:
        throw new GatewayError('METHOD_NOT_FOUND');
    }
  }

  /**
   * Where a call goes when its server could not be reached to confirm it (its catalog could not
   * be read): the route whose server cannot serve now and whose last known catalog has the
   * item, or, for a name-spaced name, whose server never started. The resilience stage then
   * answers it (breaker, fallback, stale copy). Undefined when no such route exists; the caller
   * keeps its own error. Nothing about tools is revealed: an item the server never listed is
   * still unknown, and policy decides on the route as for any other call.
   */
  routeUnreachable(session: RoutedSession, method: string, params: Params): Route | undefined {
    const routes = this.routesFor(session.tenantId).filter(
      (route) => !route.server.reachable(route.poolTenant),
    );
    const listed = (route: ServerRoute): ServerCatalog | undefined =>
      route.server.lastKnownCatalog(route.poolTenant);
    if (method === 'tools/call' || method === 'prompts/get') {
      const name = params.name;
      if (typeof name !== 'string') return undefined;
      const has = (catalog: ServerCatalog, bare: string): boolean =>
        listsName(method === 'tools/call' ? catalog.tools : catalog.prompts, bare);
      const spaced = this.#spacedRoute(routes, name);
      if (spaced && spaced.route.kind === 'upstream') {
        const catalog = listed(spaced.route);
        if (catalog && !has(grantedCatalog(catalog, spaced.route.grant), spaced.name)) return undefined;
        return { ...spaced.route, params: { ...params, name: spaced.name } };
      }
      const bare = routes.find((route) => {
        const catalog = listed(route);
        return !route.spaced && catalog !== undefined && has(catalog, name);
      });
      return bare ? { ...bare, params } : undefined;
    }
    if (method === 'resources/read' && typeof params.uri === 'string') {
      const uri = params.uri;
      const owner = routes.find((route) => {
        const catalog = listed(route);
        return (
          catalog !== undefined &&
          (findByUri(catalog.resources, uri) !== undefined ||
            catalog.resourceTemplates.some((template) => matchesTemplate(template.uriTemplate, uri)))
        );
      });
      return owner ? { ...owner, params } : undefined;
    }
    return undefined;
  }

  /**
   * Which server a listed item came from and its name there, from the catalogs already known
   * (no process is started): for decisions made per listed item, such as policy on lists. A
   * shared server's items are placed at the real server, as its calls are.
   */
  place(
    principal: Principal,
    kind: ListedKind,
    listed: string,
  ): { server: string; name: string } | undefined {
    const routes = this.routesFor(principal.tenantId);
    if (kind === 'tool' || kind === 'prompt') {
      const spaced = this.#spacedRoute(this.#sessionRoutes(principal), listed);
      if (spaced) return { server: spaced.route.server.name, name: spaced.name };
      for (const route of routes) {
        if (route.spaced) continue;
        const has = route.server
          .knownCatalogs()
          .some((catalog) => listsName(kind === 'tool' ? catalog.tools : catalog.prompts, listed));
        if (has) return { server: route.server.name, name: listed };
      }
      return undefined;
    }
    for (const route of routes) {
      const has = route.server
        .knownCatalogs()
        .some((catalog) =>
          kind === 'resource'
            ? findByUri(catalog.resources, listed) !== undefined
            : catalog.resourceTemplates.some((item) => item.uriTemplate === listed),
        );
      if (has) return { server: route.server.name, name: listed };
    }
    return undefined;
  }

  /**
   * While a route's server has no ready process (it crashed and is restarting, or is backing
   * off), the catalog it last read, so that routing a call to it does not wait for a process:
   * the resilience stage then answers at once if its breaker is open, and otherwise the call
   * waits in the pool as it would anyway.
   */
  #knownWhileDown(route: SessionRoute): ServerCatalog | undefined {
    if (route.kind !== 'upstream' || route.server.reachable(route.poolTenant)) return undefined;
    const known = route.server.lastKnownCatalog(route.poolTenant);
    return known ? grantedCatalog(known, route.grant) : undefined;
  }

  async #catalogOf(session: SessionLink, route: SessionRoute): Promise<ServerCatalog> {
    if (route.kind === 'builtin') return route.server.catalog;
    return grantedCatalog(await route.server.catalog(session, route.poolTenant), route.grant);
  }

  /**
   * The name-spaced route a qualified name belongs to, and the bare name: the route whose
   * `<name><separator>` starts it. Server names cannot hold the separator and shared routes'
   * names hold the owner separator, so at most one route matches a well-formed name; the
   * longest wins should a config make two.
   */
  #spacedRoute(
    routes: readonly SessionRoute[],
    qualified: string,
  ): { route: SessionRoute; name: string } | undefined {
    const separator = this.#config.gateway.namespaceSeparator;
    let found: { route: SessionRoute; name: string } | undefined;
    for (const route of routes) {
      if (!route.spaced) continue;
      const prefix = `${route.name}${separator}`;
      if (qualified.length <= prefix.length || !qualified.startsWith(prefix)) continue;
      if (found === undefined || route.name.length > found.route.name.length) {
        found = { route, name: qualified.slice(prefix.length) };
      }
    }
    return found;
  }

  /**
   * A qualified name routes to its server directly; a bare name is looked up in the catalogs of
   * the servers that keep their names bare.
   */
  async #byName(
    session: RoutedSession,
    params: Params,
    field: string,
    code: 'UNKNOWN_TOOL' | 'UNKNOWN_PROMPT',
  ): Promise<Route> {
    const name = params[field];
    if (typeof name !== 'string') throw new GatewayError(code);
    const routes = this.#sessionRoutes(session.principal);
    const spaced = this.#spacedRoute(routes, name);
    if (spaced) {
      // Only names the server lists (to this session): an unlisted name must answer exactly as a
      // tool that policy hides does (the gateway's own "Unknown tool"), not with the server's own
      // wording; a tool a read grant does not share is unknown too.
      const catalog = this.#knownWhileDown(spaced.route) ?? (await this.#catalogOf(session, spaced.route));
      const items = code === 'UNKNOWN_TOOL' ? catalog.tools : catalog.prompts;
      if (!listsName(items, spaced.name)) throw new GatewayError(code);
      return { ...spaced.route, params: { ...params, [field]: spaced.name } };
    }
    const bare = routes.filter((route) => route.kind === 'upstream' && !route.spaced);
    if (bare.length > 0) {
      const catalogs = await this.catalogs(session, bare);
      for (const { route, catalog } of catalogs.values()) {
        const items = code === 'UNKNOWN_TOOL' ? catalog.tools : catalog.prompts;
        if (listsName(items, name)) return { ...route, params };
      }
    }
    throw new GatewayError(code);
  }

  /**
   * URIs are not name-spaced: the first route (own servers first, in config order) that lists a
   * resource, or else has a template it matches, serves it.
   */
  async #byUri(session: RoutedSession, uri: unknown): Promise<SessionRoute> {
    if (typeof uri !== 'string') throw new GatewayError('INVALID_PARAMS', 'uri must be a string');
    const catalogs = [...(await this.catalogs(session)).values()];
    for (const { route, catalog } of catalogs) {
      if (findByUri(catalog.resources, uri) !== undefined) return route;
    }
    for (const { route, catalog } of catalogs) {
      if (catalog.resourceTemplates.some((template) => matchesTemplate(template.uriTemplate, uri))) {
        return route;
      }
    }
    throw new GatewayError('UNKNOWN_RESOURCE');
  }

  async #completion(session: RoutedSession, params: Params): Promise<Route> {
    const ref = params.ref as Params | undefined;
    if (ref?.type === 'ref/prompt') {
      const route = await this.#byName(session, ref, 'name', 'UNKNOWN_PROMPT');
      return { ...route, params: { ...params, ref: route.params } };
    }
    if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
      const catalogs = await this.catalogs(session);
      for (const { route, catalog } of catalogs.values()) {
        const owns =
          catalog.resourceTemplates.some((template) => template.uriTemplate === ref.uri) ||
          findByUri(catalog.resources, ref.uri) !== undefined;
        if (owns) return { ...route, params };
      }
      throw new GatewayError('UNKNOWN_RESOURCE');
    }
    throw new GatewayError('INVALID_PARAMS', 'ref must be a ref/prompt or ref/resource');
  }
}

const LIST_KEY: Record<ListMethod, string> = {
  'tools/list': 'tools',
  'prompts/list': 'prompts',
  'resources/list': 'resources',
  'resources/templates/list': 'resourceTemplates',
};
