/**
 * Turns a presented mcplane API key into a principal, using the key entries of the config and,
 * when there is a store, the store's keys (held in memory by {@link KeyLookup}).
 */
import type { ApiKeyEntry, Config } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import { apiKeyState } from '../store/api-key-state.ts';
import type { ApiKeyCredential } from '../store/records.ts';
import { parseApiKey } from './api-key-format.ts';
import { hashApiKey, verifyApiKeyHash } from './api-key-hash.ts';
import { PLATFORM_TENANT, type Principal } from './principal.ts';
import type { KeyLookup } from './stored-keys.ts';

export type ApiKeySources = {
  /** The store's keys; absent without a store. */
  readonly stored?: KeyLookup;
  /** Whether a tenant may authenticate at all (false for a suspended or deleted tenant). */
  readonly tenantActive?: (tenantId: string) => boolean;
  readonly now?: () => number;
};

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
export function createApiKeyAuthenticator(config: Config, sources: ApiKeySources = {}): ApiKeyAuthenticator {
  const now = sources.now ?? (() => Date.now());
  const pepper = config.gateway.auth.apiKeys.pepper;
  const byId = indexKeys(config);
  // Compared against when the id is unknown, so unknown and known ids cost the same work.
  const decoy = hashApiKey('mcpl_decoy', pepper);

  return {
    authenticate(rawKey) {
      const parsed = parseApiKey(rawKey);
      if (!parsed) throw refused('malformed');
      const known = byId.get(parsed.id);
      const stored = known ? undefined : sources.stored?.get(parsed.id);
      const matches = verifyApiKeyHash(rawKey, known?.entry.hash ?? stored?.hash ?? decoy, pepper);
      if (stored) {
        if (!matches) throw refused('bad_secret', parsed.id);
        return storedPrincipal(stored, now(), sources);
      }
      if (!known) throw refused('unknown_key');
      if (!matches) throw refused('bad_secret', parsed.id);
      if (known.entry.suspended) throw refused('suspended', parsed.id);
      if (now() >= known.expiresAt) throw expired(parsed.id);
      return {
        tenantId: known.tenantId,
        subject: `key:${parsed.id}`,
        scopes: known.entry.scopes ?? ['*'],
        via: 'api-key',
      };
    },
  };
}

function expired(keyId: string): GatewayError {
  return new GatewayError('UNAUTHENTICATED', 'API key expired', { detail: { reason: 'expired', keyId } });
}

/** A store key that matched: its state now (suspension, rotation grace, expiry), then its tenant's. */
function storedPrincipal(key: ApiKeyCredential, at: number, sources: ApiKeySources): Principal {
  const state = apiKeyState(key, at);
  if (state === 'expired') throw expired(key.id);
  if (state !== 'active') throw refused(state, key.id);
  if (key.tenantId !== null && sources.tenantActive && !sources.tenantActive(key.tenantId)) {
    throw refused('tenant_inactive', key.id);
  }
  sources.stored?.used(key.id);
  return {
    tenantId: key.tenantId ?? PLATFORM_TENANT,
    subject: `key:${key.id}`,
    scopes: key.scopes,
    via: 'api-key',
    role: key.role,
  };
}
