/**
 * The `pinning` stage (issue 8): a tool whose definition is not the pinned one (it changed, it
 * is new, or it was flagged at first sight) is left out of `tools/list` and its calls are
 * refused with TOOL_QUARANTINED, until an admin approves it (see pinning/tool-pinning.ts).
 *
 * It runs after `route`, which says which server a call goes to, and before `authorize`. It
 * judges the definitions the session actually meets: for a list, each listed item as the client
 * receives it; for a call, the tool as every live process the call may reach offers it (a pool's
 * processes can disagree while a new version rolls out: the call must not reach a changed
 * definition because the list showed the old one). A tool any of them offers unapproved is
 * quarantined. With `pinning: warn` nothing is withheld, and a call to a tool that would be
 * quarantined carries a `flag` finding for audit.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { GatewayError } from '../errors.ts';
import { isGatewayFailure } from '../resilience/gateway-failure.ts';
import { qualify } from '../router/qualified-name.ts';
import type { Router } from '../router/router.ts';
import { findNamed, type ServerCatalog } from '../upstream/server-catalog.ts';
import type { SessionLink } from '../upstream/session-link.ts';
import type { UpstreamServer } from '../upstream/upstream-server.ts';
import { contextOf } from './call-context.ts';
import { refusal, type Call, type Next, type Reply, type Stage } from './pipeline.ts';
import { definitionHash, listedDefinitionHash } from './pinning/tool-definition.ts';
import type { PinJudge, PinVerdict, ToolPinning } from './pinning/tool-pinning.ts';

export type PinningStageOptions = {
  readonly pinning: ToolPinning;
  /** The router in force, read per call (a reload swaps the servers it sees). */
  readonly router: () => Router;
  readonly separator: () => string;
};

const FINDING = { detector: 'tool-pinning', where: 'tool' } as const;

export function pinningStage(options: PinningStageOptions): Stage {
  return {
    name: 'pinning',
    async handle(call: Call, next: Next): Promise<Reply> {
      if (call.method === 'tools/call') return checkCall(call, next);
      if (call.method === 'tools/list') return filterList(call, next);
      return next(call);
    },
  };

  async function checkCall(call: Call, next: Next): Promise<Reply> {
    const route = contextOf(call).route;
    const name = call.target?.tool;
    if (route === undefined || name === undefined) {
      throw new GatewayError('INTERNAL', 'the pinning stage needs the route: route before pinning', {
        detail: { method: call.method },
      });
    }
    // The gateway's own built-in tools are not a server's definitions to pin.
    if (route.kind !== 'upstream') return next(call);
    const server = route.server;
    if (!options.pinning.applies(server.name)) return next(call);
    // Pins of a tenant-mode pool are the pool's tenant's: the owner's, for a shared (granted) server.
    const tenantId = route.poolTenant;
    let verdict: PinVerdict = 'allow';
    let catalogs: Set<ServerCatalog>;
    try {
      catalogs = await reachable(server, contextOf(call).link, route.poolTenant);
    } catch (error) {
      if (!isGatewayFailure(error)) throw error;
      // Nothing to judge the tool by; the resilience stage keeps the call from this server.
      contextOf(call).unverified = error;
      return next(call);
    }
    for (const catalog of catalogs) {
      const tool = findNamed(catalog.tools, name);
      if (tool === undefined) continue;
      const judge = await options.pinning.judge(server.name, tenantId, catalog.tools);
      verdict = worse(verdict, judge(tool.name, definitionHash(tool)));
    }
    if (verdict === 'allow') return next(call);
    if (verdict === 'warn') {
      call.notes.findings.push({
        ...FINDING,
        action: 'flag',
        detail: 'definition not approved (pinning: warn)',
      });
      return next(call);
    }
    call.notes.findings.push({ ...FINDING, action: 'block', detail: 'definition not approved' });
    const listed = route.spaced ? qualify(route.name, name, options.separator()) : name;
    return refusal(
      'TOOL_QUARANTINED',
      `Tool ${listed} is quarantined: its definition is new or changed since it was approved, and an admin must approve the change (GET /admin/v1/tool-changes) before it can be called.`,
      { tool: listed },
    );
  }

  async function filterList(call: Call, next: Next): Promise<Reply> {
    const judges = await judgesFor(call);
    const reply = await next(call);
    if (!('result' in reply) || !Array.isArray(reply.result.tools)) return reply;
    const items = reply.result.tools as unknown[];
    const visible = items.filter((item) => {
      const listed = item as Record<string, unknown> | null;
      const owner = typeof listed?.name === 'string' ? judges.get(listed.name) : undefined;
      // Not from a catalog just compared (a list_changed raced this list): left out until it is.
      if (!owner || !listed || owner.elsewhere) return false;
      return owner.judge(owner.tool.name, listedHash(listed, owner.tool)) !== 'quarantine';
    });
    return visible.length === items.length ? reply : { result: { ...reply.result, tools: visible } };
  }

  /**
   * Every tool the session's servers list now, by listed name: the judge of its server, and
   * whether another live process of that server offers it quarantined (then a call would be
   * refused, so the list leaves it out too).
   */
  async function judgesFor(call: Call): Promise<Map<string, Owner>> {
    const router = options.router();
    const link = contextOf(call).link;
    const catalogs = await router.catalogs(link);
    const separator = options.separator();
    const entries = [...catalogs.values()];
    const judged = await Promise.all(
      entries.map(async ({ route, catalog }) => {
        // The built-in server's tools are the gateway's own: nothing to judge.
        if (route.kind !== 'upstream') return { judge: ALLOW, elsewhere: new Set<string>() };
        const judge = await options.pinning.judge(route.server.name, route.poolTenant, catalog.tools);
        const elsewhere = await quarantinedElsewhere(route.server, link, catalog, route.poolTenant);
        return { judge, elsewhere };
      }),
    );
    const owners = new Map<string, Owner>();
    entries.forEach(({ route, catalog }, index) => {
      const { judge, elsewhere } = judged[index] as (typeof judged)[number];
      for (const tool of catalog.tools) {
        const listed = route.spaced ? qualify(route.name, tool.name, separator) : tool.name;
        // The first server in config order wins a bare-name clash, as the router routes.
        if (!owners.has(listed)) owners.set(listed, { tool, judge, elsewhere: elsewhere.has(tool.name) });
      }
    });
    return owners;
  }

  /** Tools that a live process of the server, other than the one listed from, offers quarantined. */
  async function quarantinedElsewhere(
    server: UpstreamServer,
    link: SessionLink,
    listedFrom: ServerCatalog,
    tenantId: string,
  ): Promise<Set<string>> {
    const names = new Set<string>();
    for (const catalog of await reachable(server, link, tenantId)) {
      if (catalog === listedFrom) continue;
      const judge = await options.pinning.judge(server.name, tenantId, catalog.tools);
      for (const tool of catalog.tools) {
        if (judge(tool.name, definitionHash(tool)) === 'quarantine') names.add(tool.name);
      }
    }
    return names;
  }
}

type Owner = { readonly tool: Tool; readonly judge: PinJudge; readonly elsewhere: boolean };

const PINNED_MEMBERS = ['description', 'inputSchema', 'outputSchema', 'annotations'] as const;

/**
 * The pin hash of a listed item. The router lists a catalog's tool as a copy with the listed
 * name, sharing its members: then the catalog tool's hash (computed once) is the item's. Any
 * other item is hashed as it is.
 */
function listedHash(listed: Record<string, unknown>, tool: Tool): string {
  const copied = PINNED_MEMBERS.every(
    (member) => listed[member] === (tool as Record<string, unknown>)[member],
  );
  return copied ? definitionHash(tool) : listedDefinitionHash(listed, tool.name);
}

/** The catalogs a session's requests to a server may meet: what it lists, and every live process. */
async function reachable(
  server: UpstreamServer,
  link: SessionLink,
  poolTenant: string,
): Promise<Set<ServerCatalog>> {
  // A server restarting or backing off is judged by the catalog it last listed, without waiting.
  const known = server.reachable(poolTenant) ? undefined : server.lastKnownCatalog(poolTenant);
  const catalogs = new Set<ServerCatalog>([known ?? (await server.catalog(link, poolTenant))]);
  for (const process of server.processesFor(link, poolTenant))
    if (process.ready) catalogs.add(process.catalog);
  return catalogs;
}

const ALLOW: PinJudge = () => 'allow';

const SEVERITY: Readonly<Record<PinVerdict, number>> = { allow: 0, warn: 1, quarantine: 2 };

function worse(a: PinVerdict, b: PinVerdict): PinVerdict {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}
