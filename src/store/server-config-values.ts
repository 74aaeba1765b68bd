/**
 * Pure steps on decrypted tenant server configs, for the code around the store:
 *
 * - `applyServerConfigPatch`: what a PATCH would store, so the admin API can validate the
 *   result (start the server with it) before calling `put`. Same rules as `ServerConfigs.patch`.
 * - `processOverride`: the plain env and args to spawn with, and the secret values a caller
 *   must scrub from the child's output before showing any of it (a 422's error text, logs).
 */
import type { ConfigValue, ResolvedServerConfig } from './records.ts';
import { isSecretArg, isSecretEnvName } from './secrets/secret-names.ts';
import type { ServerConfigInput, ServerConfigPatch } from './store.ts';

export function applyServerConfigPatch(
  current: Pick<ResolvedServerConfig, 'env' | 'args'> | undefined,
  patch: ServerConfigPatch,
): ServerConfigInput {
  const env: Record<string, ConfigValue> = { ...current?.env };
  for (const [name, value] of Object.entries(patch.env ?? {})) {
    if (value === null) delete env[name];
    else env[name] = value;
  }
  const args = patch.args === undefined ? (current?.args ?? null) : patch.args;
  return { env, args };
}

export type ProcessOverride = {
  readonly env: Readonly<Record<string, string>>;
  /** Replaces the server's args; `undefined` keeps them. */
  readonly args: readonly string[] | undefined;
  /** Every value stored (or, by the naming rules, to be stored) as secret. */
  readonly secrets: readonly string[];
};

const text = (value: ConfigValue): string => (typeof value === 'string' ? value : value.secret);

export function processOverride(config: Pick<ServerConfigInput, 'env' | 'args'>): ProcessOverride {
  const secrets: string[] = [];
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.env ?? {})) {
    env[name] = text(value);
    if (typeof value !== 'string' || isSecretEnvName(name)) secrets.push(text(value));
  }
  const args = config.args === null || config.args === undefined ? undefined : config.args.map(text);
  config.args?.forEach((value, index) => {
    if (typeof value !== 'string' || isSecretArg(args ?? [], index)) secrets.push(text(value));
  });
  return { env, args, secrets: secrets.filter((secret) => secret !== '') };
}
