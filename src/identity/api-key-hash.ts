/**
 * What the config stores instead of an API key: `<algorithm>:<base64url digest>`.
 *
 * A fast hash is enough here: a key carries 256 random bits, so there is nothing to brute-force
 * and a slow password hash would only cost latency on every request.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const HMAC_PREFIX = 'hmac-sha256:';
const PLAIN_PREFIX = 'sha256:';

/**
 * Hashes a full API key for storage in `tenants.<id>.apiKeys[].hash`.
 *
 * With a pepper (the server secret in `gateway.auth.apiKeys.pepper`) this is
 * `hmac-sha256:<HMAC-SHA256(pepper, key)>`. Without one it is `sha256:<SHA-256(key)>`, which
 * still verifies but is weaker: anyone who can read the config (a backup, a repository, a
 * support bundle) can then check offline whether a candidate key they found elsewhere, in a
 * log or a paste, is live for this gateway, without ever touching it. With a pepper that check
 * needs the pepper too, which lives in the environment, not in the file.
 */
export function hashApiKey(key: string, pepper?: string): string {
  if (pepper === undefined) return PLAIN_PREFIX + createHash('sha256').update(key).digest('base64url');
  return HMAC_PREFIX + createHmac('sha256', pepper).update(key).digest('base64url');
}

/**
 * Whether `key` matches a stored hash. The algorithm comes from the stored value, so `sha256:`
 * entries keep working after a pepper is introduced. An `hmac-sha256:` entry never matches
 * without the pepper. The digests are compared in constant time.
 */
export function verifyApiKeyHash(key: string, stored: string, pepper?: string): boolean {
  let expected: Buffer;
  let actual: Buffer;
  if (stored.startsWith(HMAC_PREFIX)) {
    if (pepper === undefined) return false;
    expected = Buffer.from(stored.slice(HMAC_PREFIX.length), 'base64url');
    actual = createHmac('sha256', pepper).update(key).digest();
  } else if (stored.startsWith(PLAIN_PREFIX)) {
    expected = Buffer.from(stored.slice(PLAIN_PREFIX.length), 'base64url');
    actual = createHash('sha256').update(key).digest();
  } else {
    return false;
  }
  // timingSafeEqual throws on unequal lengths; a stored digest's length is not secret.
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
