/**
 * The gateway's own InitializeResult: the protocol version it agrees to, and the capabilities of
 * the servers behind it, merged (spec 2025-11-25, "Lifecycle" §initialization).
 */
import {
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  type InitializeResult,
  type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import type { ServerProfile } from '../upstream/server-catalog.ts';

/** The client's version when we support it, else our latest (the client then decides). */
export function negotiateVersion(requested: unknown): string {
  return typeof requested === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(requested)
    ? requested
    : LATEST_PROTOCOL_VERSION;
}

/**
 * Tools and logging are always offered: the gateway answers tools/list and logging/setLevel
 * itself, and a server that is down now may offer tools later (announced by list_changed).
 */
export function mergeCapabilities(servers: readonly ServerCapabilities[]): ServerCapabilities {
  const merged: ServerCapabilities = { tools: { listChanged: true }, logging: {} };
  for (const capabilities of servers) {
    if (capabilities.prompts) merged.prompts = { listChanged: true };
    if (capabilities.resources) {
      merged.resources = {
        listChanged: true,
        subscribe: Boolean(merged.resources?.subscribe) || Boolean(capabilities.resources.subscribe),
      };
    }
    if (capabilities.completions) merged.completions = {};
  }
  return merged;
}

export function initializeResult(
  requestedVersion: unknown,
  processes: readonly ServerProfile[],
  gatewayVersion: string,
): InitializeResult {
  const instructions = processes
    .filter((process) => process.initializeResult?.instructions)
    .map((process) => `## ${process.server}\n${process.initializeResult?.instructions ?? ''}`)
    .join('\n\n');
  return {
    protocolVersion: negotiateVersion(requestedVersion),
    capabilities: mergeCapabilities(processes.map((process) => process.capabilities)),
    serverInfo: { name: 'mcplane', version: gatewayVersion },
    ...(instructions ? { instructions } : {}),
  };
}
