/**
 * What the resilience layer may do for one call, from the server's settings and the tool's
 * annotations (MCP 2025-11-25, "Tool annotations"): whether it may be retried, whether a stale
 * copy may be kept and served, and which fallback serves it.
 *
 * Annotations are hints a server gives about its own tools, so they are believed only from a
 * server the config trusts (`trust: auto`). By the spec's defaults a tool that is not read-only
 * is destructive unless it says `destructiveHint: false`; such a tool is never retried on its
 * annotations. A tool named in `retry.tools` is the operator's word and is retried unless it
 * says `destructiveHint: true`, which nothing overrides.
 */
import type { ServerConfig } from '../config/schema.ts';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { FallbackSettings } from './resilience-schema.ts';

export function mayRetry(
  settings: ServerConfig,
  method: string,
  tool: string | undefined,
  annotations: Tool['annotations'],
): boolean {
  if (!settings.retry) return false;
  if (method === 'resources/read' || method === 'prompts/get') return true;
  if (method !== 'tools/call' || tool === undefined) return false;
  if (annotations?.destructiveHint === true) return false;
  if (settings.retry.tools.includes(tool)) return true;
  if (settings.trust !== 'auto') return false;
  if (annotations?.readOnlyHint === true) return true;
  return annotations?.idempotentHint === true && annotations.destructiveHint === false;
}

/** Whether results of this call are kept and served stale while the server is down. */
export function mayServeStale(
  settings: ServerConfig,
  method: string,
  tool: string | undefined,
  annotations: Tool['annotations'],
): boolean {
  const stale = settings.staleIfError;
  if (!stale) return false;
  if (method === 'resources/read') return stale.resources;
  if (method !== 'tools/call' || tool === undefined) return false;
  // Only a read-only tool's answer may stand in for a fresh one; listing a tool does not make it so.
  if (annotations?.readOnlyHint !== true) return false;
  return stale.tools === undefined || stale.tools.includes(tool);
}

export function fallbackOf(
  settings: ServerConfig,
  method: string,
  tool: string | undefined,
): FallbackSettings | undefined {
  if (method !== 'tools/call' || tool === undefined) return undefined;
  return settings.toolFallbacks[tool] ?? settings.fallback;
}

/** The fallback's arguments: the mapped ones (fallback name ← primary name), or all of them. */
export function fallbackArguments(
  fallback: FallbackSettings,
  args: unknown,
): Record<string, unknown> | undefined {
  const given = args !== null && typeof args === 'object' ? (args as Record<string, unknown>) : undefined;
  if (!fallback.arguments) return given;
  const mapped: Record<string, unknown> = {};
  for (const [to, from] of Object.entries(fallback.arguments)) {
    if (given && Object.hasOwn(given, from)) mapped[to] = given[from];
  }
  return mapped;
}
