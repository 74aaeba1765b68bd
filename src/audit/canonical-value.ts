/**
 * Canonical JSON without the sorted copy, when a value is canonical already. Most values a record
 * holds (a tool's arguments as the client sent them, a decision, a finding) have their keys in
 * sorted order; for those `JSON.stringify` of the value itself is its canonical JSON, and building
 * a prototype-less copy of every object (what canonical-json.ts does) is the expensive part of an
 * argument digest. Anything the check is not sure of takes the general path, so the text is
 * always exactly `canonicalJson(value)`; a property test holds the two equal.
 */
import { hash } from 'node:crypto';
import { canonicalJson } from '../jsonrpc/canonical-json.ts';

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
  return isCanonical(value) ? JSON.stringify(value) : canonicalJson(value);
}

/** The SHA-256 (hex) of {@link canonicalText}: the same digest as `canonicalHash`. */
export function canonicalDigest(value: unknown): string {
  return hash('sha256', canonicalText(value), 'hex');
}
