/**
 * Which `_meta` keys belong to the gateway. The gateway writes its context (tenant, principal,
 * session) under its own prefix, e.g. `dev.mcplane/tenant`, and removes every such key a client
 * sent, so a client can never choose what a server sees. A key that only *looks* like the
 * gateway's to a lenient server (`DEV.MCPLANE/tenant`, ` dev.mcplane/tenant`, a zero-width
 * space before the slash) is removed too: the comparison ignores case, surrounding whitespace,
 * invisible format characters and compatibility forms (fullwidth letters).
 */

/**
 * Unicode format characters (general category Cf: zero-width space, joiners, U+2060 word joiner,
 * U+FEFF, soft hyphen, bidi controls, ...) plus the invisible marks outside Cf.
 */
const INVISIBLE =
  /\p{Cf}|\u034F|\u115F|\u1160|\u17B4|\u17B5|\u3164|\uFFA0|\p{Variation_Selector}|[\u180B-\u180D\u180F]/gu;

/** A key's prefix (the part before the first `/`) as a lenient reader would see it. */
function looseKeyPrefix(key: string): string | undefined {
  const plain = key.normalize('NFKC').replace(INVISIBLE, '');
  const slash = plain.indexOf('/');
  return slash === -1 ? undefined : plain.slice(0, slash).trim().toLowerCase();
}

/** Printable ASCII only: NFKC leaves it as it is and it holds no invisible character. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Whether `key` is, or could pass for, a key under the gateway's `prefix` (itself lower case). */
export function isGatewayMetaKey(key: string, prefix: string): boolean {
  // Most keys are plain ASCII (`progressToken`, `traceparent`): the loose reading is the plain one.
  if (PRINTABLE_ASCII.test(key)) {
    const slash = key.indexOf('/');
    return slash !== -1 && key.slice(0, slash).trim().toLowerCase() === prefix;
  }
  return looseKeyPrefix(key) === prefix;
}

/** Whether `meta` holds a key that is, or could pass for, one of the gateway's own. */
export function hasGatewayKeys(meta: Record<string, unknown>, prefix: string): boolean {
  for (const key of Object.keys(meta)) if (isGatewayMetaKey(key, prefix)) return true;
  return false;
}

/** `meta` without any key that is, or could pass for, one of the gateway's own. */
export function withoutGatewayKeys(meta: Record<string, unknown>, prefix: string): Record<string, unknown> {
  // fromEntries defines properties, so a `__proto__` key stays data and never sets a prototype.
  return Object.fromEntries(Object.entries(meta).filter(([key]) => !isGatewayMetaKey(key, prefix)));
}
