/**
 * Canonical JSON: object keys sorted, no insignificant white space, so equal values always give
 * equal text. Used wherever a value is compared or hashed by content (server specs on reload;
 * tool definitions and argument digests later). Arrays keep their order; `undefined` members
 * are dropped as JSON.stringify drops them.
 */
import { hash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

/** The SHA-256 of a value's canonical JSON, as hex. */
export function canonicalHash(value: unknown): string {
  return hash('sha256', canonicalJson(value), 'hex');
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  // No prototype: on a plain object, assigning a member named `__proto__` (which JSON.parse
  // makes an own member) would set the prototype instead, and the member would vanish from the
  // text, so values differing only in it would hash the same.
  const sorted = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) sorted[key] = sortKeys(member);
  }
  return sorted;
}
