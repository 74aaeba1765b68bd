/**
 * Turns an OAuth 2.1 access token (a signed JWT) into a principal. The gateway is a resource
 * server here: it checks signature, expiry, issuer and that the audience is this gateway
 * (MCP authorization spec, "Token Handling"; RFC 8707), and never passes the token on.
 */
import { createPublicKey } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { JWK, JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from 'jose';
import type { JwtConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import { PLATFORM_TENANT, type Principal, type Role } from './principal.ts';

export type JwtAuthenticatorOptions = {
  /** Whether a tenant id names an active tenant; a token naming any other is refused. */
  readonly tenantActive: (tenantId: string) => boolean;
  /** The clock, for tests. */
  readonly currentDate?: () => Date;
  /** Remote JWKS: fetch timeout (default 5 s), cache lifetime (10 min), refetch cooldown (30 s), in ms. */
  readonly jwksTimeout?: number;
  readonly jwksCacheMaxAge?: number;
  readonly jwksCooldown?: number;
};

export type JwtAuthenticator = {
  /** The principal for a bearer JWT; throws UNAUTHENTICATED, UNKNOWN_TENANT or FORBIDDEN. */
  authenticate(token: string): Promise<Principal>;
};

const TOKEN_PROBLEMS = new Set<string>([
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
  errors.JOSENotSupported.code,
]);

function configError(index: number, why: string): GatewayError {
  return new GatewayError('CONFIG_INVALID', `gateway.auth.jwt.publicKeys[${index}] ${why}`);
}

/** One configured key as public JWKs: PEM SPKI, a JWK, or a JWK Set. Private keys are refused. */
function toPublicJwks(text: string, index: number): JWK[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN PUBLIC KEY-----')) {
    try {
      return [createPublicKey(trimmed).export({ format: 'jwk' })];
    } catch {
      throw configError(index, 'is not a readable PEM public key');
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    throw configError(index, 'is neither a PEM SPKI public key nor JWK JSON');
  }
  const isSet = typeof parsed === 'object' && parsed !== null && 'keys' in parsed;
  const members: unknown = isSet ? (parsed as { keys: unknown }).keys : [parsed];
  if (!Array.isArray(members)) throw configError(index, 'has a "keys" member that is not an array');
  return members.map((jwk: unknown): JWK => {
    if (typeof jwk !== 'object' || jwk === null)
      throw configError(index, 'holds a JWK that is not an object');
    if ('d' in jwk || (jwk as JWK).kty === 'oct') {
      throw configError(index, 'holds a private or symmetric key; configure the public key only');
    }
    try {
      createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } catch {
      throw configError(index, 'holds a JWK that is not a usable public key');
    }
    return jwk;
  });
}

/**
 * Wraps a key set so that a failure to obtain keys (network, a bad JWKS document) is told apart
 * from a token that names no known key: the first is the gateway's problem, not the caller's.
 */
function guardKeySet(keySet: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await keySet(header, token);
    } catch (error) {
      if (error instanceof errors.JOSEError && TOKEN_PROBLEMS.has(error.code)) throw error;
      throw new GatewayError('INTERNAL', 'JWT verification keys unavailable', {
        cause: error,
        detail: { reason: 'jwks_unavailable' },
      });
    }
  };
}

function verificationKey(jwt: JwtConfig, options: JwtAuthenticatorOptions): Uint8Array | JWTVerifyGetKey {
  if (jwt.secret !== undefined) return new TextEncoder().encode(jwt.secret);
  if (jwt.jwksUrl !== undefined) {
    return guardKeySet(
      createRemoteJWKSet(new URL(jwt.jwksUrl), {
        ...(options.jwksTimeout === undefined ? {} : { timeoutDuration: options.jwksTimeout }),
        ...(options.jwksCacheMaxAge === undefined ? {} : { cacheMaxAge: options.jwksCacheMaxAge }),
        ...(options.jwksCooldown === undefined ? {} : { cooldownDuration: options.jwksCooldown }),
      }),
    );
  }
  const keys = (jwt.publicKeys ?? []).flatMap((text, index) => toPublicJwks(text, index));
  return guardKeySet(createLocalJWKSet({ keys }));
}

/**
 * Verifies with the resolved key; when several configured keys match the header (keys without
 * `kid`), tries each, as jose leaves that to the caller.
 */
async function verify(
  token: string,
  key: Uint8Array | JWTVerifyGetKey,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, key, options)).payload;
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const candidate of error) {
      try {
        return (await jwtVerify(token, candidate, options)).payload;
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

/** The message says only "expired" or "invalid"; the reason goes to the log detail. */
function refusal(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof errors.JWTExpired) {
    return new GatewayError('UNAUTHENTICATED', 'Token expired', { detail: { reason: error.code } });
  }
  if (error instanceof errors.JOSEError) {
    const claim = error instanceof errors.JWTClaimValidationFailed ? { claim: error.claim } : {};
    return new GatewayError('UNAUTHENTICATED', 'Invalid token', { detail: { reason: error.code, ...claim } });
  }
  return new GatewayError('UNAUTHENTICATED', 'Invalid token', { detail: { reason: 'unreadable' } });
}

function scopesOf(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((scope) => scope !== '');
  if (Array.isArray(value)) return value.filter((scope): scope is string => typeof scope === 'string');
  return [];
}

const ROLES: ReadonlySet<string> = new Set<Role>(['platform-admin', 'tenant-admin', 'member']);

/** The admin role a token claims; an unknown value counts as none (a member). */
function roleOf(value: unknown): Role | undefined {
  return typeof value === 'string' && ROLES.has(value) ? (value as Role) : undefined;
}

/** Builds the verifier once (keys imported, JWKS client created); `authenticate` is per request. */
export function createJwtAuthenticator(jwt: JwtConfig, options: JwtAuthenticatorOptions): JwtAuthenticator {
  const key = verificationKey(jwt, options);
  const verifyOptions = (): JWTVerifyOptions => ({
    algorithms: jwt.algorithms,
    issuer: jwt.issuer,
    audience: jwt.audience,
    clockTolerance: jwt.clockTolerance / 1000,
    requiredClaims: ['exp', 'sub'],
    ...(options.currentDate === undefined ? {} : { currentDate: options.currentDate() }),
  });

  return {
    async authenticate(token) {
      let payload: JWTPayload;
      try {
        payload = await verify(token, key, verifyOptions());
      } catch (error) {
        throw refusal(error);
      }
      if (typeof payload.sub !== 'string' || payload.sub === '') {
        throw new GatewayError('UNAUTHENTICATED', 'Invalid token', { detail: { reason: 'bad_sub' } });
      }
      const role = roleOf(jwt.roleClaim === undefined ? undefined : payload[jwt.roleClaim]);
      const scopes = scopesOf(payload[jwt.scopeClaim]);
      // Prefixed so a token's `sub` can never equal an API key principal's `key:<id>`.
      const subject = `jwt:${payload.sub}`;
      if (role === 'platform-admin') return { tenantId: PLATFORM_TENANT, subject, scopes, via: 'jwt', role };
      const tenantId = payload[jwt.tenantClaim];
      if (typeof tenantId !== 'string') {
        throw new GatewayError('FORBIDDEN', undefined, { detail: { reason: 'no_tenant_claim' } });
      }
      if (!options.tenantActive(tenantId)) {
        // The token is verified, so its claim is the issuer's word and safe to log (truncated).
        throw new GatewayError('UNKNOWN_TENANT', undefined, { detail: { tenant: tenantId.slice(0, 64) } });
      }
      return { tenantId, subject, scopes, via: 'jwt', ...(role === undefined ? {} : { role }) };
    },
  };
}
