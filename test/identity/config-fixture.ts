import { ConfigSchema } from '../../src/config/schema.ts';
import type { Config } from '../../src/config/schema.ts';

/** A valid config with no servers, built through the real schema so defaults apply. */
export function configWith(input: {
  tenants?: Record<string, unknown>;
  auth?: Record<string, unknown>;
}): Config {
  return ConfigSchema.parse({
    servers: {},
    tenants: input.tenants ?? {},
    gateway: input.auth === undefined ? {} : { auth: input.auth },
  });
}

export const PEPPER = 'a-test-pepper-that-is-long-enough-0123456789';
