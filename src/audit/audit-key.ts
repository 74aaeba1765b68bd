/**
 * The Ed25519 key that signs audit checkpoints.
 *
 * `MCPLANE_AUDIT_KEY` holds either a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`, as
 * `openssl genpkey -algorithm ed25519` writes it) or the 32-byte private seed in base64. Without
 * it, the key lives in a key file (PKCS#8 PEM, mode 0600), generated on first start; its public
 * half is written beside it as `<keyFile>.pub` (SPKI PEM) for `audit verify --public-key`.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GatewayError } from '../errors.ts';

export const AUDIT_KEY_ENV = 'MCPLANE_AUDIT_KEY';

// The fixed DER prefix of a PKCS#8 Ed25519 private key (RFC 8410 §7); the 32-byte seed follows.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export type AuditSigningKey = {
  readonly privateKey: KeyObject;
  readonly publicKey: AuditPublicKey;
  /** Where it came from, for the start-up log line (never the key itself). */
  readonly source: 'env' | 'file' | 'generated';
};

export type AuditPublicKey = {
  readonly key: KeyObject;
  /** The raw 32-byte key, base64: what checkpoints carry and `--public-key` accepts. */
  readonly raw: string;
  /** The first 16 bytes of SHA-256 of the raw key, hex. */
  readonly keyId: string;
};

/** The signing key: from the environment, else the key file, else a new one saved there. */
export async function loadAuditKey(options: {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly keyFile: string;
}): Promise<AuditSigningKey> {
  const fromEnv = options.env[AUDIT_KEY_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return signingKey(fromEnv, AUDIT_KEY_ENV, 'env');
  const existing = await readKeyFile(options.keyFile);
  if (existing !== undefined) return signingKey(existing, options.keyFile, 'file');
  return generateKeyFile(options.keyFile);
}

function signingKey(text: string, origin: string, source: AuditSigningKey['source']): AuditSigningKey {
  const privateKey = parsePrivateKey(text, origin);
  return { privateKey, publicKey: describePublicKey(createPublicKey(privateKey)), source };
}

/** A private key from PKCS#8 PEM or a base64 32-byte seed; the error names only where it came from. */
export function parsePrivateKey(text: string, origin: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    if (trimmed.startsWith('-----BEGIN')) key = createPrivateKey({ key: trimmed, format: 'pem' });
    else {
      const seed = base64Of32Bytes(trimmed);
      key = createPrivateKey({
        key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
        format: 'der',
        type: 'pkcs8',
      });
    }
  } catch {
    throw new GatewayError(
      'AUDIT_KEY_INVALID',
      `${origin} must hold an Ed25519 PKCS#8 PEM private key or a base64 32-byte seed`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new GatewayError(
      'AUDIT_KEY_INVALID',
      `${origin} holds a ${key.asymmetricKeyType} key, not Ed25519`,
    );
  return key;
}

/**
 * A public key to pin: an SPKI PEM (the `.pub` file's text) or the raw key in base64, as
 * `audit verify` prints it.
 */
export function parsePublicKey(text: string): AuditPublicKey {
  const trimmed = text.trim();
  try {
    const key = trimmed.startsWith('-----BEGIN')
      ? createPublicKey({ key: trimmed, format: 'pem' })
      : rawPublicKey(trimmed);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
    return describePublicKey(key);
  } catch {
    throw new GatewayError(
      'AUDIT_KEY_INVALID',
      'expected an Ed25519 public key (SPKI PEM or base64 raw key)',
    );
  }
}

/** The raw base64 key a checkpoint carries, as a key object; throws on anything else. */
export function rawPublicKey(raw: string): KeyObject {
  const bytes = base64Of32Bytes(raw);
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: bytes.toString('base64url') },
    format: 'jwk',
  });
}

export function describePublicKey(key: KeyObject): AuditPublicKey {
  const jwk = key.export({ format: 'jwk' });
  const bytes = Buffer.from(jwk.x ?? '', 'base64url');
  return { key, raw: bytes.toString('base64'), keyId: keyIdOf(bytes) };
}

export function keyIdOf(rawKey: Buffer): string {
  return createHash('sha256').update(rawKey).digest('hex').slice(0, 32);
}

/** 32 bytes from base64 or base64url (padding optional); throws on anything else. */
function base64Of32Bytes(text: string): Buffer {
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) throw new Error('not 32 bytes of base64');
  return Buffer.from(text, 'base64');
}

async function readKeyFile(path: string): Promise<string | undefined> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new GatewayError('AUDIT_KEY_INVALID', `cannot read the audit key file ${path}`, { cause: error });
  }
  // Like ssh with its identity files: a signing key others can read signs nothing worth trusting.
  if ((mode & 0o077) !== 0) {
    throw new GatewayError(
      'AUDIT_KEY_INVALID',
      `the audit key file ${path} is readable by group or others; chmod 600 it`,
    );
  }
  return readFile(path, 'utf8');
}

async function generateKeyFile(path: string): Promise<AuditSigningKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  let file;
  try {
    file = await open(path, 'wx', 0o600);
  } catch (error) {
    // Another process made it first: use theirs, so both sign with one key.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return signingKey((await readKeyFile(path)) ?? '', path, 'file');
    }
    throw new GatewayError('AUDIT_KEY_INVALID', `cannot create the audit key file ${path}`, { cause: error });
  }
  try {
    await file.writeFile(privateKey.export({ format: 'pem', type: 'pkcs8' }));
    await file.sync();
  } finally {
    await file.close();
  }
  await writeFile(`${path}.pub`, publicKey.export({ format: 'pem', type: 'spki' }), { mode: 0o644 });
  return { privateKey, publicKey: describePublicKey(publicKey), source: 'generated' };
}
