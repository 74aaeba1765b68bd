/**
 * What one server offers: its tools, prompts, resources and resource templates, read in full
 * (following the server's own cursors) so the gateway can aggregate and paginate them itself.
 */
import type {
  InitializeResult,
  Prompt,
  Resource,
  ResourceTemplate,
  ServerCapabilities,
  Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { GatewayError } from '../errors.ts';
import type { JSONRPCResponse } from '../jsonrpc/message.ts';

export type ServerCatalog = {
  readonly tools: readonly Tool[];
  readonly prompts: readonly Prompt[];
  readonly resources: readonly Resource[];
  readonly resourceTemplates: readonly ResourceTemplate[];
};

/** What a session sees of a server: an UpstreamProcess is one, and so is a snapshot of one. */
export type ServerProfile = {
  readonly server: string;
  readonly capabilities: ServerCapabilities;
  readonly initializeResult: InitializeResult | undefined;
  readonly catalog: ServerCatalog;
};

export type CatalogKind = 'tools' | 'prompts' | 'resources';

export const EMPTY_CATALOG: ServerCatalog = Object.freeze({
  tools: [],
  prompts: [],
  resources: [],
  resourceTemplates: [],
});

/** Lists this long or longer are looked up through an index; shorter ones are walked. */
const INDEXED_FROM = 16;

type Keyed = { readonly name: string } | { readonly uri: string };
const indexes = new WeakMap<readonly Keyed[], ReadonlyMap<string, Keyed>>();

function lookup<T extends Keyed>(
  items: readonly T[],
  key: string,
  keyOf: (item: T) => string,
): T | undefined {
  if (items.length < INDEXED_FROM) return items.find((item) => keyOf(item) === key);
  let index = indexes.get(items) as Map<string, T> | undefined;
  if (index === undefined) {
    index = new Map();
    for (const item of items) {
      const key = keyOf(item);
      if (!index.has(key)) index.set(key, item);
    }
    indexes.set(items, index);
  }
  return index.get(key);
}

/**
 * The first tool or prompt of a catalog's list with this name. A catalog's lists are read once
 * and never changed (a refresh makes new ones), so a long list gets a map, built at its first
 * lookup: the lookups a call makes (routing, pinning, resilience, the output schema) do not each
 * walk a server's thousand tools.
 */
export function findNamed<T extends { readonly name: string }>(
  items: readonly T[],
  name: string,
): T | undefined {
  return lookup(items, name, (item) => item.name);
}

/** Whether a list of tools or of prompts (either: the router asks of both) has this name. */
export function listsName(items: readonly { readonly name: string }[], name: string): boolean {
  return findNamed(items, name) !== undefined;
}

/** The first resource of a catalog with this URI (as findNamed, by `uri`). */
export function findByUri<T extends { readonly uri: string }>(
  items: readonly T[],
  uri: string,
): T | undefined {
  return lookup(items, uri, (item) => item.uri);
}

/** A bound on pages followed per list, so a server whose cursor never ends cannot hang startup. */
const MAX_PAGES = 100;

type Caller = (method: string, params: Record<string, unknown> | undefined) => Promise<JSONRPCResponse>;

/** Reads every page of one list method. */
export async function readAllPages<T>(call: Caller, method: string, key: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const reply = await call(method, cursor === undefined ? undefined : { cursor });
    if ('error' in reply) {
      throw new GatewayError('UPSTREAM_UNAVAILABLE', `The server failed ${method}: ${reply.error.message}`);
    }
    const result = reply.result as Record<string, unknown>;
    const list = result[key];
    if (Array.isArray(list)) items.push(...(list as T[]));
    cursor =
      typeof result.nextCursor === 'string' && result.nextCursor !== '' ? result.nextCursor : undefined;
    if (cursor === undefined) return items;
  }
  throw new GatewayError(
    'UPSTREAM_UNAVAILABLE',
    `The server's ${method} did not end after ${MAX_PAGES} pages`,
  );
}

/** Reads the lists the server's capabilities say it has. */
export async function readCatalog(call: Caller, capabilities: ServerCapabilities): Promise<ServerCatalog> {
  const [tools, prompts, resources, resourceTemplates] = await Promise.all([
    capabilities.tools ? readAllPages<Tool>(call, 'tools/list', 'tools') : [],
    capabilities.prompts ? readAllPages<Prompt>(call, 'prompts/list', 'prompts') : [],
    capabilities.resources ? readAllPages<Resource>(call, 'resources/list', 'resources') : [],
    capabilities.resources ? readTemplates(call) : [],
  ]);
  return { tools, prompts, resources, resourceTemplates };
}

/** Re-reads one kind after a `list_changed` notification. */
export async function refreshCatalog(
  call: Caller,
  catalog: ServerCatalog,
  kind: CatalogKind,
): Promise<ServerCatalog> {
  switch (kind) {
    case 'tools':
      return { ...catalog, tools: await readAllPages<Tool>(call, 'tools/list', 'tools') };
    case 'prompts':
      return { ...catalog, prompts: await readAllPages<Prompt>(call, 'prompts/list', 'prompts') };
    case 'resources': {
      const [resources, resourceTemplates] = await Promise.all([
        readAllPages<Resource>(call, 'resources/list', 'resources'),
        readTemplates(call),
      ]);
      return { ...catalog, resources, resourceTemplates };
    }
  }
}

/** Templates are optional even for servers with resources; one that lacks the method has none. */
async function readTemplates(call: Caller): Promise<ResourceTemplate[]> {
  try {
    return await readAllPages<ResourceTemplate>(call, 'resources/templates/list', 'resourceTemplates');
  } catch (error) {
    if (error instanceof GatewayError && error.code === 'UPSTREAM_UNAVAILABLE') return [];
    throw error;
  }
}
