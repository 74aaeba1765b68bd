/**
 * What the pipeline's policy, guard and audit stages are built from, loaded from the config
 * (and its `policies/` folder) at start and on every reload, before anything is swapped in.
 */
import { dirname, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import type { AuditLog } from '../audit/audit-log.ts';
import { openAuditLog } from '../audit/open-audit-log.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { GuardProfiles } from './guard-profiles.ts';
import { compilePolicies, loadPolicies } from './policy/load-policies.ts';
import type { PolicySet } from './policy/policy-set.ts';

export type CallGuarding = {
  readonly policies: PolicySet;
  readonly profiles: GuardProfiles;
};

/**
 * The policies of `gateway.policies.dir` (relative to the config file) and the guard profiles
 * of `gateway.guards`. Throws ConfigError with every problem of an invalid policy file.
 */
export async function loadCallGuarding(
  config: Config,
  configPath: string | undefined,
): Promise<CallGuarding> {
  const profiles = new GuardProfiles(config.gateway.guards);
  // A config built in code (tests, embedding) has no file to resolve the folder against.
  if (configPath === undefined) return { policies: compilePolicies([]), profiles };
  const dir = resolve(dirname(configPath), config.gateway.policies.dir);
  const exists = await stat(dir).then(
    (info) => info.isDirectory(),
    () => false,
  );
  const policies = exists ? await loadPolicies(dir) : compilePolicies([]);
  return { policies, profiles };
}

/** The audit log of `gateway.audit`, when enabled. */
export async function openAudit(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
  log: Logger,
  store?: Store,
): Promise<AuditLog | undefined> {
  if (!config.gateway.audit.enabled) return undefined;
  return openAuditLog(config.gateway.audit, { env, log, ...(store ? { store } : {}) });
}
