import { isMap, isNode, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import type { ConfigPath } from './config-path.ts';

/** 1-based line and column in the YAML text. */
export type TextPosition = { readonly line: number; readonly column: number };

/**
 * Where `path` is written in the document. A path that does not exist in the text (a missing
 * required key, a default) is placed at its nearest ancestor that does.
 */
export function locatePath(document: Document, lineCounter: LineCounter, path: ConfigPath): TextPosition {
  let node: unknown = document.contents;
  let offset = isNode(node) ? (node.range?.[0] ?? 0) : 0;
  for (const segment of path) {
    const step = childOf(node, segment);
    if (step === undefined) break;
    node = step.node;
    offset = step.offset ?? offset;
  }
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

type Step = { readonly node: unknown; readonly offset: number | undefined };

function childOf(node: unknown, segment: string | number): Step | undefined {
  if (isMap(node)) {
    const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
    if (pair === undefined) return undefined;
    const keyOffset = isNode(pair.key) ? pair.key.range?.[0] : undefined;
    // A scalar value is the precise spot; a nested block starts on a later line, and an empty
    // value has no text of its own, so for those the key is where the reader looks.
    const value = pair.value;
    const valueOffset = isScalar(value) && value.value !== null ? value.range?.[0] : undefined;
    return { node: value, offset: valueOffset ?? keyOffset };
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment];
    if (item === undefined) return undefined;
    return { node: item, offset: isNode(item) ? item.range?.[0] : undefined };
  }
  return undefined;
}
