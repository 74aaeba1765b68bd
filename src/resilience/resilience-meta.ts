/**
 * The `_meta` keys the resilience layer writes on what it serves, under the gateway's meta
 * prefix (config `gateway.metaPrefix`, e.g. `dev.mcplane/servedBy`). A server's own keys that
 * could pass for these are removed from its results first, so a server cannot claim to be a
 * fallback or a stale copy.
 */
import { isGatewayMetaKey } from '../jsonrpc/gateway-meta-key.ts';

export const META_KEYS = ['servedBy', 'fallback', 'stale', 'unavailable'] as const;

export function metaKey(prefix: string, name: (typeof META_KEYS)[number]): string {
  return `${prefix}/${name}`;
}

/** `result` with `extra` merged into its `_meta`, after dropping look-alikes of the keys above. */
export function withResilienceMeta(
  result: Record<string, unknown>,
  prefix: string,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  const meta = withoutOwnKeys(result._meta, prefix);
  const merged = { ...meta, ...extra };
  return Object.keys(merged).length === 0 ? withoutMeta(result) : { ...result, _meta: merged };
}

function withoutOwnKeys(meta: unknown, prefix: string): Record<string, unknown> {
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) return {};
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta as Record<string, unknown>)) {
    const suffix = key
      .slice(key.indexOf('/') + 1)
      .trim()
      .toLowerCase();
    const ours = isGatewayMetaKey(key, prefix) && META_KEYS.some((name) => name.toLowerCase() === suffix);
    if (!ours) kept[key] = value;
  }
  return kept;
}

function withoutMeta(result: Record<string, unknown>): Record<string, unknown> {
  if (!('_meta' in result)) return result;
  const { _meta: _dropped, ...rest } = result;
  return rest;
}
