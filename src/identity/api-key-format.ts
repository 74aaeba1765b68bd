/**
 * The textual form of an mcplane API key, built so that a leaked key is easy to spot and cheap
 * to reject:
 *
 *     mcpl_<id>_<secret>_<checksum>
 *
 * - `mcpl_`: a fixed prefix, so secret scanners (GitHub, gitleaks, trufflehog) can match it.
 * - `<id>`: 12 random base62 characters naming the key's entry in the config. Not secret.
 * - `<secret>`: 32 bytes from the CSPRNG, base62, left-padded to 43 characters.
 * - `<checksum>`: CRC32 of everything before its underscore, base62, padded to 6 characters,
 *   so a scanner can tell a real key from a look-alike without asking anyone, and the gateway
 *   can drop a mistyped or forged string before any hash work.
 *
 * The layout is the one GitHub uses for its tokens (prefix + random + CRC32). The separators
 * are underscores, which base62 never contains. For scanners: {@link API_KEY_SCAN_PATTERN}.
 */
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

export const API_KEY_PREFIX = 'mcpl_';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_LENGTH = 12;
const SECRET_BYTES = 32;
/** ceil(256 / log2(62)): the most base62 digits 32 bytes can need. */
const SECRET_LENGTH = 43;
/** ceil(32 / log2(62)). */
const CHECKSUM_LENGTH = 6;

/** The whole key, anchored; what {@link parseApiKey} accepts before it checks the checksum. */
export const API_KEY_PATTERN = /^mcpl_([0-9A-Za-z]{12})_([0-9A-Za-z]{43})_([0-9A-Za-z]{6})$/;

/**
 * For secret scanners: finds keys inside arbitrary text. The look-arounds stand in for `\b`,
 * which would not fire next to `_`. Validate each hit's checksum with {@link parseApiKey}.
 *
 *     (?<![0-9A-Za-z_])mcpl_[0-9A-Za-z]{12}_[0-9A-Za-z]{43}_[0-9A-Za-z]{6}(?![0-9A-Za-z_])
 */
export const API_KEY_SCAN_PATTERN =
  /(?<![0-9A-Za-z_])mcpl_[0-9A-Za-z]{12}_[0-9A-Za-z]{43}_[0-9A-Za-z]{6}(?![0-9A-Za-z_])/g;

/** A parsed key. `secret` is the credential: never log it. */
export type ParsedApiKey = { readonly id: string; readonly secret: string };

/** Encodes a non-negative integer as base62, left-padded with `0` to exactly `length` digits. */
function toBase62(value: bigint, length: number): string {
  let digits = '';
  let rest = value;
  while (rest > 0n) {
    digits = ALPHABET.charAt(Number(rest % 62n)) + digits;
    rest /= 62n;
  }
  return digits.padStart(length, '0');
}

/** Uniform random base62 characters: bytes >= 248 are dropped so `% 62` has no bias. */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET.charAt(byte % 62);
    }
  }
  return out;
}

function checksum(body: string): string {
  return toBase62(BigInt(crc32(body)), CHECKSUM_LENGTH);
}

/** A new random key and its id. Show the key to its owner once; store only its hash. */
export function generateApiKey(): { key: string; id: string } {
  const id = randomBase62(ID_LENGTH);
  const secret = toBase62(BigInt(`0x${randomBytes(SECRET_BYTES).toString('hex')}`), SECRET_LENGTH);
  const body = `${API_KEY_PREFIX}${id}_${secret}`;
  return { key: `${body}_${checksum(body)}`, id };
}

/**
 * Splits a presented key into id and secret, or `undefined` when it is not a well-formed
 * mcplane key or its checksum does not match. Cheap: no hashing, no lookups.
 */
export function parseApiKey(raw: string): ParsedApiKey | undefined {
  const match = API_KEY_PATTERN.exec(raw);
  if (!match) return undefined;
  const [, id, secret, sum] = match as unknown as [string, string, string, string];
  if (checksum(raw.slice(0, raw.length - CHECKSUM_LENGTH - 1)) !== sum) return undefined;
  return { id, secret };
}
