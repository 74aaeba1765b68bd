/**
 * Walking the strings of a JSON value with their paths, and rebuilding only what changed.
 *
 * Two selections: every string leaf (tool arguments, `structuredContent`), or only the `text`
 * members of content blocks (tool result `content[]`, embedded resources, resource contents,
 * prompt and sampling messages), where `data` and `blob` (base64 media) are skipped.
 *
 * Bounded: at most {@link MAX_DEPTH} levels and {@link MAX_STRINGS} strings per walk; past that
 * the walk stops visiting and says so (`complete: false`), so the guard can record it.
 */

export const MAX_DEPTH = 64;
export const MAX_STRINGS = 10_000;

export type Selection = 'all-strings' | 'content-text';

/** Returns the replacement text, or `undefined` to stop the walk (the value was blocked). */
export type StringVisitor = (text: string, where: string) => string | undefined;

export type WalkResult = {
  /** The value with replaced strings; the same reference when nothing changed. */
  readonly value: unknown;
  readonly complete: boolean;
  readonly stopped: boolean;
};

const BINARY_KEYS: ReadonlySet<string> = new Set(['data', 'blob']);
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `base.key`, or `base["odd key"]` when the key is not an identifier. */
export function childPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return IDENTIFIER.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

export function walkStrings(
  value: unknown,
  where: string,
  selection: Selection,
  visit: StringVisitor,
): WalkResult {
  const state = { strings: 0, complete: true, stopped: false };
  // A node's path is built only when it is needed (a visited string, or a node with children):
  // most strings of a result (a block's `type`, say) are not visited.
  const walk = (
    node: unknown,
    base: string,
    key: string | number | undefined,
    depth: number,
    selected: boolean,
  ): unknown => {
    if (state.stopped) return node;
    if (typeof node === 'string') {
      if (!selected) return node;
      if (state.strings >= MAX_STRINGS) {
        state.complete = false;
        return node;
      }
      state.strings++;
      const replaced = visit(node, key === undefined ? base : childPath(base, key));
      if (replaced === undefined) {
        state.stopped = true;
        return node;
      }
      return replaced;
    }
    if (node === null || typeof node !== 'object') return node;
    if (depth >= MAX_DEPTH) {
      state.complete = false;
      return node;
    }
    const path = key === undefined ? base : childPath(base, key);
    if (Array.isArray(node)) {
      const items = node as unknown[];
      let copy: unknown[] | undefined;
      for (let index = 0; index < items.length; index++) {
        const item = items[index];
        const next = walk(item, path, index, depth + 1, selection === 'all-strings');
        if (next !== item) (copy ??= [...items])[index] = next;
      }
      return copy ?? items;
    }
    const record = node as Record<string, unknown>;
    let copy: Record<string, unknown> | undefined;
    for (const member of Object.keys(record)) {
      if (selection === 'content-text' && BINARY_KEYS.has(member)) continue;
      const pick = selection === 'all-strings' || member === 'text';
      const item = record[member];
      const next = walk(item, path, member, depth + 1, pick);
      if (next !== item) setOwn((copy ??= { ...record }), member, next);
    }
    return copy ?? node;
  };
  const result = walk(value, where, undefined, 0, selection === 'all-strings');
  return { value: result, complete: state.complete, stopped: state.stopped };
}

/** An own data property, even for `__proto__`, which plain assignment would treat as the prototype. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
