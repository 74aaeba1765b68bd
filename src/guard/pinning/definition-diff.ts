/**
 * A readable diff of two tool definitions, for the admin who decides a change: every leaf that
 * differs, by its JSON path (`description`, `inputSchema.properties.path.description`,
 * `inputSchema.required[1]`), with the old and the new value. A value only one side has shows
 * only that side. Arrays are compared item by item (a reordered `required` list shows as each
 * position that changed), objects member by member, in sorted key order.
 */
export type DiffEntry = {
  readonly path: string;
  readonly old?: unknown;
  readonly new?: unknown;
};

/** Bounds the diff of a pathological definition; past it, one entry says what was left out. */
const MAX_ENTRIES = 500;

export function diffDefinitions(before: unknown, after: unknown): DiffEntry[] {
  const entries: DiffEntry[] = [];
  walk(before, after, '', entries);
  if (entries.length <= MAX_ENTRIES) return entries;
  const left = entries.length - MAX_ENTRIES;
  return [...entries.slice(0, MAX_ENTRIES), { path: '…', new: `${left} more differences` }];
}

function walk(before: unknown, after: unknown, path: string, entries: DiffEntry[]): void {
  if (before === undefined && after === undefined) return;
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys) walk(own(before, key), own(after, key), member(path, key), entries);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const length = Math.max(before.length, after.length);
    for (let index = 0; index < length; index++)
      walk(before[index], after[index], `${path}[${index}]`, entries);
    return;
  }
  if (same(before, after)) return;
  entries.push({
    path: path === '' ? '$' : path,
    ...(before === undefined ? {} : { old: before }),
    ...(after === undefined ? {} : { new: after }),
  });
}

/** An own member only: `__proto__` from JSON.parse is data, not the prototype. */
function own(value: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(value, key) ? value[key] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Leaves (and a leaf against a container) compare by their JSON text. */
function same(before: unknown, after: unknown): boolean {
  return JSON.stringify(before) === JSON.stringify(after);
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function member(path: string, key: string): string {
  if (IDENTIFIER.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}
