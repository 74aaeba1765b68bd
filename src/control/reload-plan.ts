/**
 * What a new config changes against the running one. Servers are compared by their effective
 * spec (their own entry plus the gateway settings every child inherits), so a server whose spec
 * did not change keeps its pools and processes; settings that only take effect at start are
 * reported as needing a restart instead of being silently ignored.
 */
import type { Config } from '../config/schema.ts';
import { canonicalJson } from '../jsonrpc/canonical-json.ts';

export type ReloadPlan = {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
  readonly unchanged: readonly string[];
  /** Whether any tenant (its servers, overrides, keys, tier) differs. */
  readonly tenantsChanged: boolean;
  /** Whether authentication settings (keys' pepper, JWT) differ; they apply live. */
  readonly authChanged: boolean;
  /** Dotted paths of gateway settings that differ but only apply at start. */
  readonly restartRequired: readonly string[];
  /** The config to run: the new one, with the settings that need a restart kept as they were. */
  readonly apply: Config;
};

/** Gateway settings that live reload applies; every other `gateway.*` key needs a restart. */
const LIVE_GATEWAY_KEYS: ReadonlySet<string> = new Set([
  'auth',
  'envAllowlist',
  'maxMessageSize',
  'policies',
  'guards',
  'drainTimeout',
  // Read by the retention job at every run.
  'retention',
]);

/**
 * The parts of the config that decide how a server's processes are started and behave. Its
 * pinning settings are not among them: they are read from the current config per call, so
 * changing them applies live and keeps the processes.
 */
export function serverSpecFingerprint(config: Config, server: string): string {
  const { envAllowlist, maxMessageSize } = config.gateway;
  const spec = config.servers[server];
  // canonicalJson drops undefined members.
  const started = spec && { ...spec, pinning: undefined, trust: undefined };
  return canonicalJson({ server: started, envAllowlist, maxMessageSize });
}

export function planReload(current: Config, incoming: Config): ReloadPlan {
  const restartRequired = Object.keys({ ...current.gateway, ...incoming.gateway })
    .filter((key) => !LIVE_GATEWAY_KEYS.has(key))
    .filter(
      (key) => canonicalJson(gatewayValue(current, key)) !== canonicalJson(gatewayValue(incoming, key)),
    );
  const next = keepRestartSettings(current, incoming, restartRequired);
  const before = new Set(Object.keys(current.servers));
  const after = Object.keys(next.servers);
  const added = after.filter((name) => !before.has(name));
  const removed = [...before].filter((name) => next.servers[name] === undefined);
  const kept = after.filter((name) => before.has(name));
  const changed = kept.filter(
    (name) => serverSpecFingerprint(current, name) !== serverSpecFingerprint(next, name),
  );
  const unchanged = kept.filter((name) => !changed.includes(name));
  return {
    added,
    removed,
    changed,
    unchanged,
    tenantsChanged: canonicalJson(current.tenants) !== canonicalJson(next.tenants),
    authChanged: canonicalJson(current.gateway.auth) !== canonicalJson(next.gateway.auth),
    restartRequired: restartRequired.map((key) => `gateway.${key}`),
    apply: next,
  };
}

function keepRestartSettings(current: Config, incoming: Config, keys: readonly string[]): Config {
  if (keys.length === 0) return incoming;
  const gateway: Record<string, unknown> = { ...incoming.gateway };
  for (const key of keys) gateway[key] = gatewayValue(current, key);
  return Object.freeze({ ...incoming, gateway: Object.freeze(gateway) as Config['gateway'] });
}

function gatewayValue(config: Config, key: string): unknown {
  return (config.gateway as Record<string, unknown>)[key];
}
