/**
 * What pinning pins of a tool (issue 8): its name, description, inputSchema, outputSchema and
 * annotations, which together are what a model is told about the tool. Its hash is the SHA-256
 * of their canonical JSON, so key order and white space never count as a change. Other members
 * (`title`, `icons`, `_meta`) are not part of the pin.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { canonicalHash } from '../../jsonrpc/canonical-json.ts';

export type PinnedDefinition = {
  readonly name: string;
  readonly description?: unknown;
  readonly inputSchema?: unknown;
  readonly outputSchema?: unknown;
  readonly annotations?: unknown;
};

const MEMBERS = ['description', 'inputSchema', 'outputSchema', 'annotations'] as const;

/** The pinned members of a tool as a server lists it, with `name` as the server knows it. */
export function definitionOf(
  tool: Pick<Tool, 'name'> & Record<string, unknown>,
  name = tool.name,
): PinnedDefinition {
  const definition: Record<string, unknown> = { name };
  for (const member of MEMBERS) if (tool[member] !== undefined) definition[member] = tool[member];
  return definition as PinnedDefinition;
}

/** A catalog's tools are immutable objects, read many times: hash each once. */
const hashes = new WeakMap<object, string>();

/** The pin hash of a tool as its server lists it. */
export function definitionHash(tool: Tool): string {
  let hash = hashes.get(tool);
  if (hash === undefined) {
    hash = canonicalHash(definitionOf(tool));
    hashes.set(tool, hash);
  }
  return hash;
}

/** The pin hash of a tool as a client sees it, given the name its server knows it by. */
export function listedDefinitionHash(listed: Record<string, unknown>, name: string): string {
  return canonicalHash(definitionOf({ ...listed, name }, name));
}
