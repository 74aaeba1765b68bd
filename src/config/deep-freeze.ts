/**
 * Freezes a value and everything reachable from it, so no part of the running gateway can
 * change the config another part has already read.
 */
export function deepFreeze<T>(value: T): T {
  // Freezing before descending also stops on a cycle: a frozen object is not visited again.
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
