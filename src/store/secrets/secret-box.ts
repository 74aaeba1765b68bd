/**
 * Authenticated encryption of secret strings with AES-256-GCM (node:crypto). A sealed value is
 *
 *     v1:<keyId>:<iv>:<tag>:<ciphertext>        (iv, tag and ciphertext in base64url)
 *
 * with a fresh 96-bit IV each time (NIST SP 800-38D §8.2.2: random IVs are safe far beyond any
 * number of secrets a store holds). The key id says which master key to open it with, so a ring
 * of current + previous keys decrypts everything during a rotation.
 *
 * Every value is bound to where it lives (`context`, e.g. tenant, server and env name) as
 * additional authenticated data: a ciphertext copied into another tenant's row does not open.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { GatewayError } from '../../errors.ts';
import type { MasterKey, MasterKeyRing } from './master-keys.ts';

const VERSION = 'v1';
const IV_BYTES = 12;
const SEALED = /^v1:([0-9a-f]{16}):([A-Za-z0-9_-]+):([A-Za-z0-9_-]+):([A-Za-z0-9_-]*)$/;

export type SecretBox = {
  /** The id of the key new values are sealed with. */
  readonly currentKeyId: string;
  seal(plaintext: string, context: string): string;
  /** Throws SECRET_UNREADABLE for an unknown key id, a wrong context or tampering. */
  open(sealed: string, context: string): string;
  /** The id of the key a sealed value was made with. */
  keyIdOf(sealed: string): string;
  /**
   * First 8 hex digits of HMAC-SHA256 under a subkey derived from the current master key: lets
   * an admin see that a secret is set and whether it changed, and nothing more. Changes when
   * the master key rotates.
   */
  fingerprint(plaintext: string, scope: string): string;
};

function aad(keyId: string, context: string): Buffer {
  return Buffer.from(`mcplane-secret:${VERSION}:${keyId}:${context}`);
}

function unreadable(message: string): GatewayError {
  return new GatewayError('SECRET_UNREADABLE', message);
}

function parse(sealed: string): { keyId: string; iv: Buffer; tag: Buffer; body: Buffer } {
  const match = SEALED.exec(sealed);
  if (!match) throw unreadable('a stored secret is not in the v1 sealed format');
  const [, keyId, iv, tag, body] = match as unknown as [string, string, string, string, string];
  return {
    keyId,
    iv: Buffer.from(iv, 'base64url'),
    tag: Buffer.from(tag, 'base64url'),
    body: Buffer.from(body, 'base64url'),
  };
}

export function createSecretBox(ring: MasterKeyRing): SecretBox {
  const keys = new Map<string, MasterKey>([ring.current, ...ring.previous].map((key) => [key.id, key]));
  const fingerprintKey = Buffer.from(
    hkdfSync('sha256', ring.current.material, Buffer.alloc(0), 'mcplane secret fingerprint v1', 32),
  );

  return {
    currentKeyId: ring.current.id,
    seal(plaintext, context) {
      const { id, material } = ring.current;
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', material, iv);
      cipher.setAAD(aad(id, context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [
        VERSION,
        id,
        iv.toString('base64url'),
        tag.toString('base64url'),
        body.toString('base64url'),
      ].join(':');
    },
    open(sealed, context) {
      const { keyId, iv, tag, body } = parse(sealed);
      const key = keys.get(keyId);
      if (!key) {
        throw unreadable(
          `a stored secret is encrypted with master key ${keyId}, which is not loaded (add it to MCPLANE_MASTER_KEY_PREVIOUS)`,
        );
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.material, iv);
        decipher.setAAD(aad(keyId, context));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch (error) {
        throw new GatewayError('SECRET_UNREADABLE', 'a stored secret failed authentication', {
          cause: error,
        });
      }
    },
    keyIdOf(sealed) {
      return parse(sealed).keyId;
    },
    fingerprint(plaintext, scope) {
      return createHmac('sha256', fingerprintKey)
        .update(scope)
        .update('\0')
        .update(plaintext)
        .digest('hex')
        .slice(0, 8);
    },
  };
}
