import { z } from 'zod';
import { ConfigSchema } from './schema.ts';

/** Identifies the schema for editors; a URN because the project publishes no schema URL yet. */
export const CONFIG_SCHEMA_ID = 'urn:mcplane:servers-config';

/**
 * The JSON Schema of `servers.config.yaml`, generated from {@link ConfigSchema} so the two
 * cannot disagree. It describes what may be written (`io: 'input'`: durations as `30s`,
 * defaults optional); checks zod runs in code, such as a tenant naming a known server, are
 * not expressible in it and only `mcplane check-config` reports them.
 */
export function configJsonSchema(): object {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input', target: 'draft-2020-12' });
  return {
    $schema: schema.$schema,
    $id: CONFIG_SCHEMA_ID,
    title: 'mcplane servers.config.yaml',
    description: 'The MCP servers an mcplane gateway runs and the tenants that may use them.',
    ...schema,
  };
}

/** The checked-in form: two-space JSON with a trailing newline. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
