/**
 * How deeply a JSON value nests, measured without recursion. Deep nesting costs little to
 * parse but breaks whatever later walks the value recursively (`JSON.stringify` throws past
 * roughly 5,000 levels), so a message nested deeper than the gateway's limit is refused where
 * it comes in, before anything holds on to it.
 */

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * Whether JSON text nests objects and arrays deeper than `limit`, read from the text before it
 * is parsed: one pass over the characters, no allocation, and it stops at the first level past
 * the limit. Brackets inside strings do not count. Text that is not JSON gets an answer too;
 * the parser refuses it afterwards.
 */
export function textNestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === BACKSLASH) index++;
      else if (char === QUOTE) inString = false;
    } else if (char === QUOTE) {
      inString = true;
    } else if (char === OPEN_OBJECT || char === OPEN_ARRAY) {
      if (++depth > limit) return true;
    } else if (char === CLOSE_OBJECT || char === CLOSE_ARRAY) {
      depth--;
    }
  }
  return false;
}

/**
 * Whether a parsed value nests objects and arrays deeper than `limit` (the value itself, if an
 * object or array, is level 1). An explicit stack replaces recursion, so no depth of input can
 * overflow the call stack; the walk stops at the first level past the limit.
 */
export function valueNestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth > limit) return true;
    const children = Array.isArray(next.value) ? next.value : Object.values(next.value);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: next.depth + 1 });
    }
  }
  return false;
}
