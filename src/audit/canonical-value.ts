/**
 * Canonical JSON without the sorted copy, when a value is canonical already. Most values a record
 * holds (a tool's arguments as the client sent them, a decision, a finding) have their keys in
 * sorted order; for those `JSON.stringify` of the value itself is its canonical JSON, and building
 * a prototype-less copy of every object (what canonical-json.ts does) is the expensive part of an
 * argument digest. Anything the check is not sure of is copied with its keys sorted, so the text
 * is always exactly `canonicalJson(value)`; a property test holds the two equal.
 */
import { hash } from 'node:crypto';

/**
 * Whether `JSON.stringify(value)` is already `canonicalJson(value)`: plain objects (or arrays) all
 * the way down with every object's keys in ascending order, and only strings, finite or not
 * numbers, booleans and null as leaves. No `undefined` member, no function, no `toJSON`.
 */
export function isCanonical(value: unknown): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (Array.isArray(value)) {
    // A hole reads as undefined, which takes the general path.
    for (const item of value as unknown[]) if (!isCanonical(item)) return false;
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const keys = Object.keys(value);
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index] as string;
    if (index > 0 && !((keys[index - 1] as string) < key)) return false;
    if (!isCanonical((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** `canonicalJson(value)`, without copying a value that is canonical already. */
export function canonicalText(value: unknown): string {
  return JSON.stringify(canonicalCopy(value));
}

/** The value itself when it is canonical already, else a copy with every object's keys sorted. */
export function canonicalCopy(value: unknown): unknown {
  return isCanonical(value) ? value : sortedCopy(value);
}

/**
 * A copy with object keys sorted at every level, as canonical-json.ts sorts them, so that
 * `JSON.stringify` of it is `canonicalJson(value)`. Its objects are plain ones, which V8 builds
 * and stringifies much faster than prototype-less ones; only an object with a member named
 * `__proto__` (which assignment would turn into its prototype) is copied without a prototype.
 */
export function sortedCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedCopy);
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value).sort();
  const sorted = (keys.includes('__proto__') ? Object.create(null) : {}) as Record<string, unknown>;
  for (const key of keys) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) sorted[key] = sortedCopy(member);
  }
  return sorted;
}

/** The SHA-256 (hex) of {@link canonicalText}: the same digest as `canonicalHash`. */
export function canonicalDigest(value: unknown): string {
  return hash('sha256', canonicalText(value), 'hex');
}
