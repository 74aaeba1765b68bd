/**
 * The generic high-entropy token test of the `secrets` detector: does this run of token
 * characters look like a random credential rather than an identifier, a path, a digest or data?
 *
 * A candidate is a maximal run of `[A-Za-z0-9+/=_-]`, between `minLength` (default 32) and
 * {@link MAX_TOKEN_LENGTH} characters. It is a secret when all of these hold:
 * - Shannon entropy of its characters ≥ `threshold` bits per character (default 4.0; random
 *   base62 of 32 characters measures 4.1–4.9, English identifiers 3.5–4.4);
 * - it mixes upper case, lower case and digits;
 * - its character class (upper, lower, digit, other) changes between at least 35% of adjacent
 *   pairs: random text changes ~62% of the time, camelCase and SNAKE_CASE words rarely;
 * - at most one `/` per ten characters (paths have many, base64 about one per 64);
 * - less than 70% of it in word-like runs (`Word`, `word`, `WORD` of four letters or more):
 *   `AbstractSingletonProxyFactoryBean2` is a name, not a key.
 *
 * Deliberately not reported (false positives that are common in tool output):
 * - hex-only runs, with or without dashes: git and content hashes (32, 40, 64, 128 hex), UUIDs.
 *   Their alphabet caps entropy at 4 bits, and a hex-only secret of these lengths cannot be told
 *   from a digest; a 32-hex API key is therefore missed, by choice;
 * - runs longer than {@link MAX_TOKEN_LENGTH}: encoded data (images, archives), not keys;
 * - runs right after `base64,` (data URIs), SRI digests (`sha256-…`), runs containing `EXAMPLE`
 *   (documentation keys), and runs inside public PEM blocks and SSH public keys (the caller
 *   masks those);
 * - tokens without a digit: camelCase names have none, and a random 40-character base62 token
 *   lacks one only 0.1% of the time (0.4% at 32 characters).
 */

/** Longer runs are data, not credentials. */
export const MAX_TOKEN_LENGTH = 256;

export type EntropyOptions = { readonly threshold: number; readonly minLength: number };

const HEX_ONLY = /^[0-9a-fA-F-]+$/;
const SRI = /^sha(?:256|384|512)-/;

/** Bits per character of the string's own character distribution. */
export function shannonEntropy(text: string): number {
  const counts = new Map<number, number>();
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

function charClass(code: number): number {
  if (code >= 0x41 && code <= 0x5a) return 0;
  if (code >= 0x61 && code <= 0x7a) return 1;
  if (code >= 0x30 && code <= 0x39) return 2;
  return 3;
}

/** Whether a candidate run looks like a random credential (see the module comment). */
export function looksRandom(token: string, options: EntropyOptions): boolean {
  const body = token.replace(/=+$/, '');
  if (body.length < options.minLength || body.length > MAX_TOKEN_LENGTH) return false;
  if (HEX_ONLY.test(body) || SRI.test(body) || body.includes('EXAMPLE')) return false;
  let upper = 0;
  let lower = 0;
  let digits = 0;
  let slashes = 0;
  let changes = 0;
  let previous = -1;
  for (let index = 0; index < body.length; index++) {
    const code = body.charCodeAt(index);
    const kind = charClass(code);
    if (kind === 0) upper++;
    else if (kind === 1) lower++;
    else if (kind === 2) digits++;
    else if (code === 0x2f) slashes++;
    if (previous !== -1 && kind !== previous) changes++;
    previous = kind;
  }
  if (upper === 0 || lower === 0 || digits === 0) return false;
  if (slashes * 10 > body.length) return false;
  if (changes < 0.35 * (body.length - 1)) return false;
  if (wordiness(body) >= MAX_WORDINESS) return false;
  return shannonEntropy(body) >= options.threshold;
}

/** Words of four or more letters: `Word`, `word`, `WORD`. */
const WORDS = /[A-Z]?[a-z]{3,}|[A-Z]{4,}/g;
/** Random base62 reaches 0.7 in about 0.3% of 32-character tokens; names sit at 0.75–1. */
const MAX_WORDINESS = 0.7;

/** The share of characters inside word-like runs. */
function wordiness(token: string): number {
  let covered = 0;
  for (const match of token.matchAll(WORDS)) covered += match[0].length;
  return covered / token.length;
}
