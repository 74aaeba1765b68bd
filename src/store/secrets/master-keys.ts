/**
 * The master keys that encrypt tenant secrets at rest, from the environment:
 *
 * - `MCPLANE_MASTER_KEY`: the current key, 32 random bytes in base64 (`mcplane store new-key`).
 * - `MCPLANE_MASTER_KEY_PREVIOUS`: older keys, comma-separated, still accepted for decryption
 *   while `mcplane store rotate-key` re-encrypts under the current one.
 * - `MCPLANE_MASTER_KEY_FILE`: instead of `MCPLANE_MASTER_KEY`, a file with one base64 key per
 *   line (`#` comments allowed): the first is current, the rest are previous keys.
 *
 * A key is known by its id, a fingerprint of the key (not the key), recorded in every ciphertext.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GatewayError } from '../../errors.ts';

export type MasterKey = {
  /** 16 hex digits of SHA-256 over a label and the key: names the key, reveals nothing. */
  readonly id: string;
  readonly material: Buffer;
};

export type MasterKeyRing = {
  /** Encrypts everything new. */
  readonly current: MasterKey;
  /** Decrypt only. */
  readonly previous: readonly MasterKey[];
};

const KEY_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

function invalid(message: string): GatewayError {
  return new GatewayError('MASTER_KEY_INVALID', message);
}

/** Parses one base64 (or base64url) key; `source` names it in errors, which never show the key. */
export function parseMasterKey(encoded: string, source: string): MasterKey {
  const trimmed = encoded.trim();
  if (!BASE64.test(trimmed)) throw invalid(`${source} is not base64`);
  const material = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (material.length !== KEY_BYTES) {
    throw invalid(
      `${source} must decode to ${KEY_BYTES} bytes, not ${material.length} (make one with \`mcplane store new-key\`)`,
    );
  }
  const id = createHash('sha256')
    .update('mcplane master key id\0')
    .update(material)
    .digest('hex')
    .slice(0, 16);
  return { id, material };
}

/** A fresh random key, base64, for `MCPLANE_MASTER_KEY`. */
export function generateMasterKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

function keysFromFile(path: string): MasterKey[] {
  let contents: string;
  try {
    contents = readFileSync(path, 'utf8');
  } catch (error) {
    throw invalid(`MCPLANE_MASTER_KEY_FILE ${path} cannot be read: ${(error as NodeJS.ErrnoException).code}`);
  }
  const lines = contents
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (lines.length === 0) throw invalid(`MCPLANE_MASTER_KEY_FILE ${path} holds no key`);
  return lines.map((line, index) => parseMasterKey(line, `line ${index + 1} of MCPLANE_MASTER_KEY_FILE`));
}

function ring(keys: readonly MasterKey[]): MasterKeyRing {
  const [current, ...rest] = keys as [MasterKey, ...MasterKey[]];
  const seen = new Set([current.id]);
  const previous = rest.filter((key) => !seen.has(key.id) && seen.add(key.id));
  return { current, previous };
}

/** The key ring the environment describes, or `undefined` when it names no key. */
export function loadMasterKeys(env: Readonly<Record<string, string | undefined>>): MasterKeyRing | undefined {
  const direct = env.MCPLANE_MASTER_KEY;
  const file = env.MCPLANE_MASTER_KEY_FILE;
  const previous = (env.MCPLANE_MASTER_KEY_PREVIOUS ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key !== '')
    .map((key, index) => parseMasterKey(key, `key ${index + 1} of MCPLANE_MASTER_KEY_PREVIOUS`));
  const hasDirect = direct !== undefined && direct !== '';
  const hasFile = file !== undefined && file !== '';
  if (hasDirect && hasFile) throw invalid('set MCPLANE_MASTER_KEY or MCPLANE_MASTER_KEY_FILE, not both');
  if (hasDirect) return ring([parseMasterKey(direct, 'MCPLANE_MASTER_KEY'), ...previous]);
  if (hasFile) return ring([...keysFromFile(file), ...previous]);
  if (previous.length > 0) {
    throw invalid('MCPLANE_MASTER_KEY_PREVIOUS is set without a current MCPLANE_MASTER_KEY');
  }
  return undefined;
}
