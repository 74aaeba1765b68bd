/**
 * Which server a request goes to, and what a session sees of all its servers together. Lists are
 * aggregated over the servers the session's tenant may use, name-spaced, and paginated with the
 * gateway's own cursors; calls route back by qualified name, resource URI or completion reference.
 * A server the tenant may not use is indistinguishable from one that does not exist.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { tenantAllows, type LiveView } from '../control/live-view.ts';
import { GatewayError } from '../errors.ts';
import type { ServerCatalog } from '../upstream/server-catalog.ts';
import type { SessionLink } from '../upstream/session-link.ts';
import type { UpstreamServer } from '../upstream/upstream-server.ts';
import { decodeCursor, page } from './page-cursor.ts';
import { qualify, unqualify } from './qualified-name.ts';
import { matchesTemplate } from './uri-template.ts';

export type ListMethod = 'tools/list' | 'prompts/list' | 'resources/list' | 'resources/templates/list';

export const LIST_METHODS: ReadonlySet<string> = new Set<ListMethod>([
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
]);

export type Route = { readonly server: UpstreamServer; readonly params: Record<string, unknown> };

type Params = Record<string, unknown>;

export type RouterOptions = {
  /** The current view; a swapped view (a reload, a store change) invalidates what was derived. */
  view(): LiveView;
  /** The current servers, by name, in config order. */
  servers(): ReadonlyMap<string, UpstreamServer>;
  readonly log: Logger;
};

export class Router {
  readonly #options: RouterOptions;
  readonly #log: Logger;
  #byTenant = new Map<string, readonly UpstreamServer[]>();
  #derivedFrom: { view: LiveView; servers: ReadonlyMap<string, UpstreamServer> } | undefined;

  constructor(options: RouterOptions) {
    this.#options = options;
    this.#log = options.log;
  }

  get #config(): Config {
    return this.#options.view().config;
  }

  get #servers(): ReadonlyMap<string, UpstreamServer> {
    return this.#options.servers();
  }

  /** The servers a tenant may use, in config order; none for a suspended or unknown tenant. */
  serversFor(tenantId: string): readonly UpstreamServer[] {
    const view = this.#options.view();
    const current = this.#servers;
    if (this.#derivedFrom?.view !== view || this.#derivedFrom.servers !== current) {
      this.#byTenant = new Map();
      this.#derivedFrom = { view, servers: current };
    }
    let servers = this.#byTenant.get(tenantId);
    if (!servers) {
      const tenant = view.tenants.get(tenantId);
      servers = [...current.values()].filter((server) => tenantAllows(tenant, server.name));
      this.#byTenant.set(tenantId, servers);
    }
    return servers;
  }

  /** Whether sessions of this tenant see this server. */
  allows(tenantId: string, server: string): boolean {
    return this.serversFor(tenantId).some((candidate) => candidate.name === server);
  }

  /** One page of an aggregated list. */
  async list(
    session: SessionLink,
    method: ListMethod,
    params: Params | undefined,
  ): Promise<Record<string, unknown>> {
    const offset = decodeCursor(params?.cursor, method);
    const catalogs = await this.catalogs(session);
    const separator = this.#config.gateway.namespaceSeparator;
    const key = LIST_KEY[method];
    const items: unknown[] = [];
    for (const [server, catalog] of catalogs) {
      const spaced = this.#servers.get(server)?.settings.namespace !== false;
      const name = (bare: string): string => (spaced ? qualify(server, bare, separator) : bare);
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
    return nextCursor === undefined ? { [key]: pageItems } : { [key]: pageItems, nextCursor };
  }

  /**
   * The catalogs of the session's servers that can be reached; a server that cannot start is
   * left out (and logged) rather than failing the whole list.
   */
  async catalogs(
    session: SessionLink,
    servers: readonly UpstreamServer[] = this.serversFor(session.tenantId),
  ): Promise<Map<string, ServerCatalog>> {
    const settled = await Promise.allSettled(servers.map((server) => server.catalog(session)));
    const catalogs = new Map<string, ServerCatalog>();
    settled.forEach((outcome, index) => {
      const server = servers[index] as UpstreamServer;
      if (outcome.status === 'fulfilled') catalogs.set(server.name, outcome.value);
      else
        this.#log.warn(
          { server: server.name, err: outcome.reason },
          'server left out of the list: unavailable',
        );
    });
    return catalogs;
  }

  /** Where a request that targets one server goes, with its params rewritten for that server. */
  async route(session: SessionLink, method: string, params: Params): Promise<Route> {
    switch (method) {
      case 'tools/call':
        return this.#byName(session, params, 'name', 'UNKNOWN_TOOL');
      case 'prompts/get':
        return this.#byName(session, params, 'name', 'UNKNOWN_PROMPT');
      case 'resources/read':
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return { server: await this.#byUri(session, params.uri), params };
      case 'completion/complete':
        return this.#completion(session, params);
      default:
        throw new GatewayError('METHOD_NOT_FOUND');
    }
  }

  /**
   * A qualified name routes to its server directly; a bare name is looked up in the catalogs of
   * the servers that keep their names bare.
   */
  async #byName(
    session: SessionLink,
    params: Params,
    field: string,
    code: 'UNKNOWN_TOOL' | 'UNKNOWN_PROMPT',
  ): Promise<Route> {
    const name = params[field];
    if (typeof name !== 'string') throw new GatewayError(code);
    const parts = unqualify(name, this.#config.gateway.namespaceSeparator);
    const spaced = parts && this.#allowed(session, parts.server);
    if (parts && spaced?.settings.namespace) {
      // Only names the server lists: an unlisted name must answer exactly as a tool that policy
      // hides does (the gateway's own "Unknown tool"), not with the server's own wording.
      const catalog = await spaced.catalog(session);
      const items = code === 'UNKNOWN_TOOL' ? catalog.tools : catalog.prompts;
      if (!items.some((item) => item.name === parts.name)) throw new GatewayError(code);
      return { server: spaced, params: { ...params, [field]: parts.name } };
    }
    const bare = this.serversFor(session.tenantId).filter((server) => !server.settings.namespace);
    if (bare.length > 0) {
      const catalogs = await this.catalogs(session, bare);
      for (const [server, catalog] of catalogs) {
        const items = code === 'UNKNOWN_TOOL' ? catalog.tools : catalog.prompts;
        if (items.some((item) => item.name === name)) {
          return { server: this.#allowed(session, server) as UpstreamServer, params };
        }
      }
    }
    throw new GatewayError(code);
  }

  async #byUri(session: SessionLink, uri: unknown): Promise<UpstreamServer> {
    if (typeof uri !== 'string') throw new GatewayError('INVALID_PARAMS', 'uri must be a string');
    const catalogs = await this.catalogs(session);
    for (const [name, catalog] of catalogs) {
      if (catalog.resources.some((resource) => resource.uri === uri))
        return this.#allowed(session, name) as UpstreamServer;
    }
    for (const [name, catalog] of catalogs) {
      if (catalog.resourceTemplates.some((template) => matchesTemplate(template.uriTemplate, uri))) {
        return this.#allowed(session, name) as UpstreamServer;
      }
    }
    throw new GatewayError('UNKNOWN_RESOURCE');
  }

  async #completion(session: SessionLink, params: Params): Promise<Route> {
    const ref = params.ref as Params | undefined;
    if (ref?.type === 'ref/prompt') {
      const route = await this.#byName(session, ref, 'name', 'UNKNOWN_PROMPT');
      return { server: route.server, params: { ...params, ref: route.params } };
    }
    if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
      const catalogs = await this.catalogs(session);
      for (const [name, catalog] of catalogs) {
        const owns =
          catalog.resourceTemplates.some((template) => template.uriTemplate === ref.uri) ||
          catalog.resources.some((resource) => resource.uri === ref.uri);
        if (owns) return { server: this.#allowed(session, name) as UpstreamServer, params };
      }
      throw new GatewayError('UNKNOWN_RESOURCE');
    }
    throw new GatewayError('INVALID_PARAMS', 'ref must be a ref/prompt or ref/resource');
  }

  #allowed(session: SessionLink, server: string): UpstreamServer | undefined {
    return this.serversFor(session.tenantId).find((candidate) => candidate.name === server);
  }
}

const LIST_KEY: Record<ListMethod, string> = {
  'tools/list': 'tools',
  'prompts/list': 'prompts',
  'resources/list': 'resources',
  'resources/templates/list': 'resourceTemplates',
};
