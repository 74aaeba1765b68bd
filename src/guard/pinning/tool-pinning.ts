/**
 * Tool-definition pinning (issue 8; seed 003 §2 "tool definition version drift", the rug pull).
 *
 * Every catalog a server's process reads (at start, and after `tools/list_changed`) is compared
 * with the pins of its scope: a tenant's for a `mode: tenant` pool, global (`null`) for shared
 * and session-mode servers.
 *
 * - A server never seen in the scope: each tool is pinned (`first-sight`), unless the scan for
 *   tool poisoning ({@link scanToolDefinition}) or shadowing ({@link shadowingFindings}) finds
 *   something in it; such a tool is held as a pending `added` change, with its findings.
 * - A pinned tool offered with another definition: a pending `changed` change.
 * - A tool added later: a pending `added` change, unless the server has `trust: auto` (then it
 *   is pinned at once, `trust:auto`, when the scan finds nothing).
 * - A pinned tool no longer offered: a `removed` entry, recorded already decided.
 *
 * A tool may be listed and called only while its current definition hashes to its pin. With
 * `pinning: enforce` anything else is quarantined; with `warn` it is recorded and let through;
 * with `off` nothing is compared. So a rejected change keeps the tool out until the server
 * offers the pinned definition again, and an approval releases it at once.
 *
 * Comparisons are serialised per (scope, server) and memoised per catalog (a catalog's tool
 * list is a new array whenever it is read), so the call path awaits at most the one store
 * round trip of a catalog not compared yet; the pins of each (scope, server) are cached in
 * memory, and re-read after an admin decision (here, or on another replica via the store's
 * change feed).
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../../config/schema.ts';
import type { Logger } from '../../log.ts';
import { qualify } from '../../router/qualified-name.ts';
import type { ToolChange, ToolFinding, ToolPin } from '../../store/records.ts';
import type { NewToolChange, NewToolPin, PinState, Store } from '../../store/store.ts';
import type { Finding } from '../pipeline.ts';
import { scanToolDefinition } from '../tool-definition-scan.ts';
import type { PinLedger } from './pin-ledger.ts';
import { definitionHash, definitionOf } from './tool-definition.ts';
import { SHADOWING, shadowingFindings, type NeighbourTool } from './tool-shadowing.ts';

export type PinningSettings = Pick<ServerConfig, 'mode' | 'pinning' | 'trust' | 'namespace'>;

/** What a tool as listed now may do: `allow` (pinned, or pinning off), `warn`, `quarantine`. */
export type PinVerdict = 'allow' | 'warn' | 'quarantine';

/** Judges a tool of one server in one scope by its name and its definition's hash. */
export type PinJudge = (name: string, hash: string) => PinVerdict;

export type ToolPinningOptions = {
  /** The store's pins, or a private ledger this closes with itself. */
  readonly ledger: PinLedger & { close?(): Promise<void> };
  readonly log: Logger;
  /** A server's current settings (live: reload changes them); undefined once it is removed. */
  settings(server: string): PinningSettings | undefined;
  separator(): string;
  /** Whether the tenant's sessions see the server, for shadowing in a tenant's view. */
  allows(tenantId: string, server: string): boolean;
  /** Tells the sessions that see (server, scope) that its tool list changed. */
  announce(server: string, tenantId: string | null): void;
  /** Followed for decisions made elsewhere (another replica's admin API). */
  readonly store?: Store;
  /**
   * Called once per recorded change whose definition the scan flagged (poisoning, shadowing),
   * for the audit log: findings made outside any client call.
   */
  readonly onFindings?: (
    tenantId: string | null,
    server: string,
    tool: string,
    findings: readonly ToolFinding[],
  ) => void;
};

export type PinningStats = {
  /** Servers first seen in a scope, and tools pinned without review (first sight, trust: auto). */
  readonly firstSights: number;
  readonly pinned: number;
  /** Changes recorded pending, of which flagged (poisoning or shadowing findings). */
  readonly held: number;
  readonly flagged: number;
  readonly shadowing: number;
  readonly removed: number;
  /** Comparisons that failed (store unavailable); their tools stay unpinned, so held. */
  readonly failures: number;
};

type Scope = string | null;

type PinSet = {
  pins: Map<string, ToolPin>;
  /** Pending or rejected changes, by tool and offered hash. */
  readonly open: Map<string, ToolChange>;
  /** Removals recorded, by tool and the hash it had. */
  readonly removals: Set<string>;
  seen: boolean;
};

const FIRST_SIGHT = 'first-sight';
const TRUST_AUTO = 'trust:auto';

const scopeKey = (scope: Scope, server: string): string => JSON.stringify([scope, server]);
const toolKey = (tool: string, hash: string | null): string => `${tool}\u0000${hash ?? ''}`;

function pinSetOf(state: PinState): PinSet {
  const open = new Map<string, ToolChange>();
  for (const change of state.open) open.set(toolKey(change.tool, change.newHash), change);
  return {
    pins: new Map(state.pins.map((pin) => [pin.tool, pin])),
    open,
    removals: new Set(),
    seen: state.seen,
  };
}

export class ToolPinning {
  readonly #options: ToolPinningOptions;
  readonly #log: Logger;
  /** The pins of each (scope, server) used so far, as loaded and kept up to date. */
  readonly #sets = new Map<string, { scope: Scope; server: string; set: Promise<PinSet> }>();
  readonly #chains = new Map<string, Promise<unknown>>();
  readonly #observed = new WeakMap<readonly Tool[], Map<string, Promise<void>>>();
  /** The latest catalog seen per (scope, server): the other servers' tools, for shadowing. */
  readonly #latest = new Map<string, { scope: Scope; server: string; tools: readonly Tool[] }>();
  readonly #stats = { firstSights: 0, pinned: 0, held: 0, flagged: 0, shadowing: 0, removed: 0, failures: 0 };
  #stopFollowing: (() => void) | undefined;

  constructor(options: ToolPinningOptions) {
    this.#options = options;
    this.#log = options.log.child({ component: 'pinning' });
    if (options.store) this.#stopFollowing = this.#follow(options.store);
  }

  /**
   * Compares a catalog a process of `server` read (for `tenantId`'s pool, or undefined for a
   * process serving every tenant) with the pins, once per catalog. Never rejects: a failure is
   * logged and counted, the tools stay unpinned (held), and the next use compares again. With
   * `announce`, the sessions that see the server are told when it holds a tool back.
   */
  observe(
    server: string,
    tenantId: string | undefined,
    tools: readonly Tool[],
    options: { readonly announce?: boolean } = {},
  ): Promise<void> {
    const settings = this.#options.settings(server);
    const scope = settings && scopeOf(settings, tenantId);
    if (!settings || settings.pinning === 'off' || scope === undefined) return Promise.resolve();
    const key = scopeKey(scope, server);
    let byScope = this.#observed.get(tools);
    if (!byScope) this.#observed.set(tools, (byScope = new Map<string, Promise<void>>()));
    const known = byScope.get(key);
    if (known) return known;
    this.#latest.set(key, { scope, server, tools });
    const memo = byScope;
    const announce = options.announce ?? false;
    const run = this.#serialized(key, () => this.#compare(scope, server, tools, settings, announce)).catch(
      (error: unknown) => {
        this.#stats.failures++;
        memo.delete(key);
        this.#log.warn(
          { err: error, server, tenant: scope ?? undefined },
          'could not compare tool definitions with their pins: the tools stay held until they can be',
        );
      },
    );
    byScope.set(key, run);
    return run;
  }

  /** Whether the server's tools are compared at all (it exists and has pinning on). */
  applies(server: string): boolean {
    const settings = this.#options.settings(server);
    return settings !== undefined && settings.pinning !== 'off';
  }

  /**
   * Once `tools` (a catalog the session sees) is compared, a judge of that server's tools as
   * the session's tenant sees them: by name and hash, with the current settings.
   */
  async judge(server: string, tenantId: string, tools: readonly Tool[]): Promise<PinJudge> {
    const settings = this.#options.settings(server);
    const scope = settings && scopeOf(settings, tenantId);
    if (!settings || settings.pinning === 'off' || scope === undefined) return () => 'allow';
    await this.observe(server, tenantId, tools);
    const set = await this.#set(scope, server).catch(() => undefined);
    const held: PinVerdict = settings.pinning === 'enforce' ? 'quarantine' : 'warn';
    return (name, hash) => (set?.pins.get(name)?.hash === hash ? 'allow' : held);
  }

  /** The verdict for one tool of a catalog the session sees. */
  async verdict(server: string, tenantId: string, tools: readonly Tool[], tool: Tool): Promise<PinVerdict> {
    return (await this.judge(server, tenantId, tools))(tool.name, definitionHash(tool));
  }

  /**
   * Re-reads the pins of (scope, server) after an admin decided one of its changes; when they
   * changed (an approval), tells the sessions that see the server: the tool is listed and
   * callable again. Pins this gateway never read concern no session of it.
   */
  async reload(tenantId: string | null, server: string): Promise<void> {
    const key = scopeKey(tenantId, server);
    const cached = this.#sets.get(key);
    if (!cached) return;
    const changed = await this.#serialized(key, async () => {
      const before = await cached.set.catch(() => undefined);
      const set = pinSetOf(await this.#options.ledger.state(tenantId, server));
      this.#sets.set(key, { scope: tenantId, server, set: Promise.resolve(set) });
      return before === undefined || !samePins(before, set);
    });
    if (changed) this.#options.announce(server, tenantId);
  }

  stats(): PinningStats {
    return { ...this.#stats };
  }

  async close(): Promise<void> {
    this.#stopFollowing?.();
    this.#stopFollowing = undefined;
    await this.#options.ledger.close?.();
  }

  async #compare(
    scope: Scope,
    server: string,
    tools: readonly Tool[],
    settings: PinningSettings,
    announce: boolean,
  ): Promise<void> {
    const set = await this.#set(scope, server);
    const first = !set.seen;
    const neighbours = this.#neighbours(scope, server);
    const ownNames = new Set(tools.map((tool) => tool.name));
    const listed = (name: string): string =>
      settings.namespace ? qualify(server, name, this.#options.separator()) : name;
    const toPin: NewToolPin[] = [];
    const records: NewToolChange[] = [];
    const offered = new Set<string>();
    for (const tool of tools) {
      offered.add(tool.name);
      const hash = definitionHash(tool);
      const pin = set.pins.get(tool.name);
      if (pin?.hash === hash || set.open.has(toolKey(tool.name, hash))) continue;
      const definition = definitionOf(tool);
      const findings: Finding[] = [
        // The whole tool, `title` included: not pinned, but read by clients and models too.
        ...scanToolDefinition(tool),
        ...shadowingFindings(definition, listed(tool.name), neighbours, ownNames),
      ];
      if (!pin && findings.length === 0 && (first || settings.trust === 'auto')) {
        toPin.push({ tool: tool.name, hash, definition, approvedBy: first ? FIRST_SIGHT : TRUST_AUTO });
        continue;
      }
      records.push({
        tool: tool.name,
        kind: pin ? 'changed' : 'added',
        oldHash: pin?.hash ?? null,
        oldDefinition: pin?.definition ?? null,
        newHash: hash,
        newDefinition: definition,
        findings,
      });
    }
    for (const pin of set.pins.values()) {
      if (offered.has(pin.tool) || set.removals.has(toolKey(pin.tool, pin.hash))) continue;
      records.push({
        tool: pin.tool,
        kind: 'removed',
        oldHash: pin.hash,
        oldDefinition: pin.definition,
        newHash: null,
        newDefinition: null,
        findings: [],
        status: 'approved',
      });
    }
    if (toPin.length > 0) records.push(...(await this.#pin(scope, server, set, toPin, first)));
    let held = false;
    for (const record of records) {
      const { change, created } = await this.#options.ledger.recordChange(scope, server, record);
      if (change.status === 'pending' || change.status === 'rejected')
        set.open.set(toolKey(change.tool, change.newHash), change);
      if (change.kind === 'removed') set.removals.add(toolKey(change.tool, change.oldHash));
      if (created) held = this.#report(change, settings.pinning, first) || held;
      if (created && change.findings.length > 0)
        this.#options.onFindings?.(scope, server, change.tool, change.findings);
    }
    if (toPin.length > 0 || records.length > 0) set.seen = true;
    if (held && announce) this.#options.announce(server, scope);
  }

  /**
   * Pins what needs no review. Another replica may have pinned a different definition of the
   * same tool first: the store keeps that one, and this one becomes a change to review.
   */
  async #pin(
    scope: Scope,
    server: string,
    set: PinSet,
    toPin: readonly NewToolPin[],
    first: boolean,
  ): Promise<NewToolChange[]> {
    const stored = await this.#options.ledger.pin(scope, server, toPin);
    set.pins = new Map(stored.map((pin) => [pin.tool, pin]));
    const records: NewToolChange[] = [];
    for (const candidate of toPin) {
      const pin = set.pins.get(candidate.tool);
      if (pin?.hash === candidate.hash) {
        this.#stats.pinned++;
        if (!first) records.push(addition(candidate, [], 'approved'));
        continue;
      }
      records.push(
        pin
          ? { ...addition(candidate, []), kind: 'changed', oldHash: pin.hash, oldDefinition: pin.definition }
          : addition(candidate, []),
      );
    }
    if (first) {
      this.#stats.firstSights++;
      this.#log.info(
        { server, tenant: scope ?? undefined, tools: toPin.length },
        'pinned the tool definitions of a server seen for the first time',
      );
    }
    return records;
  }

  /** Logs and counts a change just recorded; whether it holds a tool. */
  #report(change: ToolChange, mode: PinningSettings['pinning'], first: boolean): boolean {
    const fields = {
      server: change.server,
      tenant: change.tenantId ?? undefined,
      tool: change.tool,
      kind: change.kind,
      change: change.id,
      findings: change.findings.map((finding) => `${finding.detector} at ${finding.where}`),
    };
    if (change.kind === 'removed') {
      this.#stats.removed++;
      this.#log.info(fields, 'a pinned tool is no longer offered');
      return false;
    }
    if (change.status !== 'pending') {
      this.#log.info(fields, 'pinned a tool the server added (trust: auto)');
      return false;
    }
    this.#stats.held++;
    if (change.findings.length > 0) this.#stats.flagged++;
    if (change.findings.some((finding) => finding.detector === SHADOWING)) this.#stats.shadowing++;
    const flagged = change.findings.length > 0 ? ' (flagged)' : '';
    const what =
      change.kind === 'changed'
        ? `a tool definition changed${flagged}`
        : first
          ? 'a tool was flagged when its server was first seen'
          : `the server added a tool${flagged}`;
    const effect =
      mode === 'enforce'
        ? 'it is quarantined until an admin approves it'
        : 'pinning: warn lets it through; recorded for review';
    this.#log.warn(fields, `${what}: ${effect}`);
    return true;
  }

  /** The other servers' tools that the same sessions see: global ones, and the tenant's own. */
  #neighbours(scope: Scope, server: string): NeighbourTool[] {
    const separator = this.#options.separator();
    const neighbours: NeighbourTool[] = [];
    for (const seen of this.#latest.values()) {
      if (seen.server === server) continue;
      // A global catalog is compared only with global ones: a tenant's tools must not show up
      // in a finding other tenants' admins may read.
      if (seen.scope !== null && seen.scope !== scope) continue;
      if (scope !== null && !this.#options.allows(scope, seen.server)) continue;
      const settings = this.#options.settings(seen.server);
      if (!settings) continue;
      for (const tool of seen.tools) {
        const listed = settings.namespace ? qualify(seen.server, tool.name, separator) : tool.name;
        neighbours.push({ server: seen.server, listed, name: tool.name });
      }
    }
    return neighbours;
  }

  #set(scope: Scope, server: string): Promise<PinSet> {
    const key = scopeKey(scope, server);
    const cached = this.#sets.get(key);
    if (cached) return cached.set;
    const set = this.#options.ledger.state(scope, server).then(pinSetOf);
    this.#sets.set(key, { scope, server, set });
    // A failed read is not cached: the next use reads again.
    set.catch(() => {
      if (this.#sets.get(key)?.set === set) this.#sets.delete(key);
    });
    return set;
  }

  #serialized<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    const settled = run.catch(() => undefined);
    this.#chains.set(key, settled);
    void settled.then(() => {
      if (this.#chains.get(key) === settled) this.#chains.delete(key);
    });
    return run;
  }

  /**
   * Follows the store's change feed for `tool_change.*` decisions (made through any replica's
   * admin API) and re-reads the pins they touched.
   */
  #follow(store: Store): () => void {
    let last: number | undefined;
    let catching: Promise<void> = Promise.resolve();
    store.version().then(
      (version) => {
        last ??= version;
      },
      () => undefined,
    );
    const catchUp = async (version: number): Promise<void> => {
      if (last === undefined) {
        // Where the feed stood at start is not known yet: re-read everything in use.
        last = version;
        const cached = [...this.#sets.values()];
        await Promise.all(cached.map(({ scope, server }) => this.reload(scope, server)));
        return;
      }
      while (last < version) {
        const entries = await store.changes.since(last);
        const tail = entries.at(-1);
        if (tail === undefined) break;
        for (const entry of entries) {
          const server = entry.details.server;
          if (entry.action.startsWith('tool_change.') && typeof server === 'string') {
            await this.reload(entry.tenantId, server);
          }
        }
        last = tail.seq;
      }
      last = Math.max(last, version);
    };
    return store.watch((version) => {
      catching = catching
        .then(() => catchUp(version))
        .catch((error: unknown) => this.#log.warn({ err: error }, 'could not follow tool-change decisions'));
    });
  }
}

function samePins(a: PinSet, b: PinSet): boolean {
  if (a.pins.size !== b.pins.size) return false;
  for (const [tool, pin] of a.pins) if (b.pins.get(tool)?.hash !== pin.hash) return false;
  return true;
}

/** Pins are per tenant for a tenant's own pool, global for what every tenant sees alike. */
function scopeOf(settings: PinningSettings, tenantId: string | undefined): Scope | undefined {
  if (settings.mode !== 'tenant') return null;
  return tenantId;
}

function addition(
  pin: NewToolPin,
  findings: readonly Finding[],
  status: 'pending' | 'approved' = 'pending',
): NewToolChange {
  return {
    tool: pin.tool,
    kind: 'added',
    oldHash: null,
    oldDefinition: null,
    newHash: pin.hash,
    newDefinition: pin.definition,
    findings,
    status,
  };
}
