import { describe, expect, it } from 'vitest';
import { OutputSchemaValidator } from '../../src/guard/response-validation.ts';

const validator = new OutputSchemaValidator();

describe('output schema validation', () => {
  it('uses JSON Schema 2020-12 by default', () => {
    // prefixItems is 2020-12 only; draft-07 would ignore it.
    const schema = {
      type: 'object',
      properties: { pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] } },
    };
    expect(validator.validateResult(schema, { structuredContent: { pair: ['a', 1] } })).toEqual({ ok: true });
    expect(validator.validateResult(schema, { structuredContent: { pair: [1, 'a'] } })).toMatchObject({
      ok: false,
    });
  });

  it('honours a draft-07 $schema', () => {
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      items: [{ type: 'string' }],
      required: ['a'],
    };
    expect(validator.validateResult(schema, { structuredContent: {} })).toEqual({
      ok: false,
      detail: "structuredContent (root): must have required property 'a' (required)",
    });
  });

  it('checks formats', () => {
    const schema = { type: 'object', properties: { at: { type: 'string', format: 'date-time' } } };
    expect(validator.validateResult(schema, { structuredContent: { at: 'yesterday' } })).toMatchObject({
      ok: false,
    });
    expect(validator.validateResult(schema, { structuredContent: { at: '2024-05-01T10:00:00Z' } })).toEqual({
      ok: true,
    });
  });

  it('reports a schema that does not compile instead of throwing', () => {
    expect(validator.validateResult({ type: 'no-such-type' }, { structuredContent: {} })).toEqual({
      ok: false,
      detail: "the tool's outputSchema could not be compiled",
    });
  });

  it('compiles schemas that share an $id, or arrive as fresh objects, without clashing', () => {
    for (let round = 0; round < 3; round++) {
      const a = { $id: 'https://tools.example/read.json', type: 'object', required: ['a'] };
      const b = {
        $id: 'https://tools.example/read.json',
        type: 'object',
        properties: { a: { type: 'number' } },
      };
      expect(validator.validateResult(a, { structuredContent: { a: 1 } })).toEqual({ ok: true });
      expect(validator.validateResult(b, { structuredContent: { a: 1 } })).toEqual({ ok: true });
      expect(validator.validateResult(b, { structuredContent: { a: 'one' } })).toMatchObject({ ok: false });
    }
  });
});
