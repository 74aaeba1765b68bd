/**
 * How a tenant server config's env and args are stored: a plain value as itself, a secret as
 * `{ s: <sealed>, f: <fingerprint> }`. Only this file turns one form into another, so a secret
 * is sealed before it reaches SQL and masked before it leaves the store (except `open*`, which
 * serves the spawning code).
 */
import { GatewayError } from '../../errors.ts';
import type { ConfigValue, MaskedSecret } from '../records.ts';
import type { SecretBox } from './secret-box.ts';
import { isSecretArg, isSecretEnvName } from './secret-names.ts';

export type StoredValue = string | { readonly s: string; readonly f: string };
export type StoredEnv = Record<string, StoredValue>;

/** Where a value lives: bound into its ciphertext and named (never shown) in errors. */
export type ValueHome = { readonly tenantId: string; readonly server: string };

function plainText(value: ConfigValue): string {
  return typeof value === 'string' ? value : value.secret;
}

function seal(box: SecretBox | undefined, plaintext: string, home: ValueHome, slot: string): StoredValue {
  if (!box) {
    throw new GatewayError(
      'MASTER_KEY_MISSING',
      `storing the secret ${slot} of server ${home.server} needs a master key: set MCPLANE_MASTER_KEY or MCPLANE_MASTER_KEY_FILE (docs/store.md)`,
    );
  }
  return {
    s: box.seal(plaintext, `${home.tenantId}/${home.server}/${slot}`),
    f: box.fingerprint(plaintext, home.tenantId),
  };
}

function open(box: SecretBox | undefined, stored: StoredValue, home: ValueHome, slot: string): ConfigValue {
  if (typeof stored === 'string') return stored;
  if (!box) {
    throw new GatewayError(
      'MASTER_KEY_MISSING',
      `reading the secret ${slot} of server ${home.server} for tenant ${home.tenantId} needs a master key`,
    );
  }
  return { secret: box.open(stored.s, `${home.tenantId}/${home.server}/${slot}`) };
}

export function sealEnv(
  box: SecretBox | undefined,
  env: Readonly<Record<string, ConfigValue>>,
  home: ValueHome,
): StoredEnv {
  const stored: StoredEnv = {};
  for (const [name, value] of Object.entries(env)) {
    const secret = typeof value !== 'string' || isSecretEnvName(name);
    stored[name] = secret ? seal(box, plainText(value), home, `env ${name}`) : value;
  }
  return stored;
}

export function sealArgs(
  box: SecretBox | undefined,
  args: readonly ConfigValue[],
  home: ValueHome,
): StoredValue[] {
  const texts = args.map(plainText);
  return args.map((value, index) => {
    const secret = typeof value !== 'string' || isSecretArg(texts, index);
    return secret ? seal(box, texts[index] ?? '', home, `arg ${index}`) : value;
  });
}

export function openEnv(
  box: SecretBox | undefined,
  env: Readonly<StoredEnv>,
  home: ValueHome,
): Record<string, ConfigValue> {
  return Object.fromEntries(
    Object.entries(env).map(([name, stored]) => [name, open(box, stored, home, `env ${name}`)]),
  );
}

export function openArgs(
  box: SecretBox | undefined,
  args: readonly StoredValue[],
  home: ValueHome,
): ConfigValue[] {
  return args.map((stored, index) => open(box, stored, home, `arg ${index}`));
}

function mask(stored: StoredValue): string | MaskedSecret {
  return typeof stored === 'string' ? stored : { set: true, fingerprint: stored.f };
}

export function maskEnv(env: Readonly<StoredEnv>): Record<string, string | MaskedSecret> {
  return Object.fromEntries(Object.entries(env).map(([name, stored]) => [name, mask(stored)]));
}

export function maskArgs(args: readonly StoredValue[]): (string | MaskedSecret)[] {
  return args.map(mask);
}

/** The key ids of every sealed value, for rotation reports. */
export function sealedKeyIds(box: SecretBox | undefined, values: readonly StoredValue[]): string[] {
  return values.flatMap((stored) => {
    if (typeof stored === 'string') return [];
    if (!box) return [stored.s.split(':')[1] ?? 'unknown'];
    return [box.keyIdOf(stored.s)];
  });
}

/** Parses a stored env column, refusing anything that is not a map of stored values. */
export function storedEnv(value: unknown): StoredEnv {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError('stored env is not an object');
  }
  return value as StoredEnv;
}

export function storedArgs(value: unknown): StoredValue[] | null {
  if (value === null) return null;
  if (!Array.isArray(value)) throw new TypeError('stored args are not a list');
  return value as StoredValue[];
}
