import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';

export const ISSUER = 'https://idp.example.com';
export const AUDIENCE = 'https://gw.example.com/mcp';

export type SigningKey = { alg: string; privateKey: CryptoKey; publicKey: CryptoKey; kid: string };

export async function signingKey(alg: string, kid = `${alg}-key`): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { alg, privateKey, publicKey, kid };
}

export async function publicPem(key: SigningKey): Promise<string> {
  return exportSPKI(key.publicKey);
}

export async function publicJwk(key: SigningKey, extra: Partial<JWK> = {}): Promise<JWK> {
  return { ...(await exportJWK(key.publicKey)), ...extra };
}

/** A token that passes every check of the standard config unless `claims`/`options` say otherwise. */
export async function token(
  key: SigningKey | { alg: string; secret: Uint8Array },
  claims: JWTPayload = {},
  options: { expiresIn?: string | number; withKid?: boolean } = {},
): Promise<string> {
  const header = { alg: key.alg, ...('kid' in key && options.withKid ? { kid: key.kid } : {}) };
  const jwt = new SignJWT({ tenant: 'acme', scope: 'tools:call resources:read', ...claims })
    .setProtectedHeader(header)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('user-1')
    .setIssuedAt();
  if (options.expiresIn !== undefined) jwt.setExpirationTime(options.expiresIn);
  else jwt.setExpirationTime('5m');
  return jwt.sign('secret' in key ? key.secret : key.privateKey);
}
