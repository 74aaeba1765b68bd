import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, configJsonSchemaText } from '../../src/config/json-schema.ts';

const CHECKED_IN = new URL('../../schema/servers.config.schema.json', import.meta.url);

describe('the editor JSON Schema', () => {
  it('the checked-in schema matches the zod schema', async () => {
    const checkedIn = await readFile(CHECKED_IN, 'utf8').catch(() => '(missing)');
    expect(checkedIn, 'schema/servers.config.schema.json is stale: run `npm run schema`').toBe(
      configJsonSchemaText(),
    );
  });

  it('describes what an author writes: durations as strings, unknown keys refused', () => {
    const schema = configJsonSchema() as {
      $id: string;
      required: string[];
      additionalProperties: boolean;
    };
    expect(schema.$id).toBe('urn:mcplane:servers-config');
    expect(schema.required).toEqual(['servers']);
    expect(schema.additionalProperties).toBe(false);
    expect(JSON.stringify(schema)).toContain('"pattern":"^\\\\d+(ms|s|m|h)$"');
  });
});
