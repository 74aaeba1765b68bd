/**
 * Turns a presented mcplane API key into a principal, using the key entries of the config.
 */
import type { ApiKeyEntry, Config } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import { parseApiKey } from './api-key-format.ts';
import { hashApiKey, verifyApiKeyHash } from './api-key-hash.ts';
import type { Principal } from './principal.ts';

export type ApiKeyAuthenticator = {
  /** The principal for a presented key; throws UNAUTHENTICATED otherwise. Never logs the key. */
  authenticate(rawKey: string): Principal;
};

type IndexedKey = {
  readonly tenantId: string;
  readonly entry: ApiKeyEntry;
  /** `expiresAt` in epoch milliseconds, or Infinity. */
  readonly expiresAt: number;
};

function indexKeys(config: Config): Map<string, IndexedKey> {
  const byId = new Map<string, IndexedKey>();
  for (const [tenantId, tenant] of Object.entries(config.tenants)) {
    for (const entry of tenant.apiKeys) {
      // The schema refuses duplicates; this guards a Config built some other way.
      if (byId.has(entry.id)) {
        throw new GatewayError('CONFIG_INVALID', 'duplicate API key id', { detail: { keyId: entry.id } });
      }
      const expiresAt = entry.expiresAt === undefined ? Infinity : Date.parse(entry.expiresAt);
      byId.set(entry.id, { tenantId, entry, expiresAt });
    }
  }
  return byId;
}

/** Every failure a client could provoke without holding the key reads the same. */
function refused(reason: string, keyId?: string): GatewayError {
  return new GatewayError('UNAUTHENTICATED', 'Invalid API key', {
    detail: keyId === undefined ? { reason } : { reason, keyId },
  });
}

/**
 * Indexes the config's keys by id once. `now` is injectable for expiry tests.
 *
 * The order of checks matters: the checksum first (free), then the hash, and only then
 * suspension and expiry, so nobody who lacks the secret learns anything about a key's state.
 * Only an expired key gets its own message; whoever sees it already holds the key.
 */
export function createApiKeyAuthenticator(
  config: Config,
  now: () => number = () => Date.now(),
): ApiKeyAuthenticator {
  const pepper = config.gateway.auth.apiKeys.pepper;
  const byId = indexKeys(config);
  // Compared against when the id is unknown, so unknown and known ids cost the same work.
  const decoy = hashApiKey('mcpl_decoy', pepper);

  return {
    authenticate(rawKey) {
      const parsed = parseApiKey(rawKey);
      if (!parsed) throw refused('malformed');
      const known = byId.get(parsed.id);
      const matches = verifyApiKeyHash(rawKey, known?.entry.hash ?? decoy, pepper);
      if (!known) throw refused('unknown_key');
      if (!matches) throw refused('bad_secret', parsed.id);
      if (known.entry.suspended) throw refused('suspended', parsed.id);
      if (now() >= known.expiresAt) {
        throw new GatewayError('UNAUTHENTICATED', 'API key expired', {
          detail: { reason: 'expired', keyId: parsed.id },
        });
      }
      return {
        tenantId: known.tenantId,
        subject: `key:${parsed.id}`,
        scopes: known.entry.scopes ?? ['*'],
        via: 'api-key',
      };
    },
  };
}
