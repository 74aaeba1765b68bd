/**
 * Random tokens for sessions (a session's key, its Streamable HTTP session id), cut from a pool
 * of CSPRNG bytes: one `randomFillSync` per 4 KiB instead of one `getrandom` system call per
 * token, as Node's own `randomUUID` keeps an entropy cache. Each byte is handed out once and
 * zeroed as it is.
 */
import { randomFillSync } from 'node:crypto';

const POOL = Buffer.alloc(4096);
let next = POOL.length;

/** `bytes` random bytes (at most 4096) as base64url. */
export function randomToken(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > POOL.length)
    throw new RangeError(`a token is 1 to ${POOL.length} bytes`);
  if (next + bytes > POOL.length) {
    randomFillSync(POOL);
    next = 0;
  }
  const token = POOL.toString('base64url', next, next + bytes);
  POOL.fill(0, next, next + bytes);
  next += bytes;
  return token;
}
