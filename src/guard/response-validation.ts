/**
 * Response validation (seed 003 §3): a tool that declares an `outputSchema` must return
 * `structuredContent` that conforms to it (MCP 2025-06-18 and later, "Structured content"). A
 * result that does not is the sign of a broken or subverted server.
 *
 * Schemas are JSON Schema 2020-12 unless they name draft-07 (or earlier) in `$schema` (MCP
 * 2025-11-25 makes 2020-12 the default dialect). Compiled validators are kept per schema object,
 * and by content for schemas that arrive as fresh objects, in a bounded cache; a schema that
 * does not compile is reported, never thrown. Error details name the failing JSON pointer and
 * keyword, not the offending value.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import { canonicalHash } from '../jsonrpc/canonical-json.ts';

export type ValidationOutcome = { readonly ok: true } | { readonly ok: false; readonly detail: string };

type Compiled = ValidateFunction | { readonly error: string };

const MAX_BY_CONTENT = 256;
const OLD_DRAFT = /json-schema\.org\/(?:draft-0[4-7]|draft\/2019-09)/;

// ajv-formats is CommonJS: its default import is the plugin itself under NodeNext.
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv | Ajv2020) => void;

export class OutputSchemaValidator {
  readonly #modern = new Ajv2020({ strict: false, allErrors: false, validateSchema: false, logger: false });
  readonly #legacy = new Ajv({ strict: false, allErrors: false, validateSchema: false, logger: false });
  readonly #byObject = new WeakMap<object, Compiled>();
  readonly #byContent = new Map<string, Compiled>();

  constructor() {
    addFormats(this.#modern);
    addFormats(this.#legacy);
  }

  /** Whether `structuredContent` of a result conforms to the tool's `outputSchema`. */
  validateResult(schema: Record<string, unknown>, result: Record<string, unknown>): ValidationOutcome {
    if (result.isError === true) return { ok: true };
    if (!('structuredContent' in result)) {
      return {
        ok: false,
        detail: 'the tool declares an outputSchema but the result has no structuredContent',
      };
    }
    const compiled = this.#compiled(schema);
    if ('error' in compiled) return { ok: false, detail: compiled.error };
    if (compiled(result.structuredContent)) return { ok: true };
    const first = compiled.errors?.[0];
    const where = first?.instancePath === '' || first === undefined ? '(root)' : first.instancePath;
    return {
      ok: false,
      detail: `structuredContent ${where}: ${first?.message ?? 'invalid'} (${first?.keyword ?? 'schema'})`,
    };
  }

  #compiled(schema: Record<string, unknown>): Compiled {
    const known = this.#byObject.get(schema);
    if (known) return known;
    const key = canonicalHash(schema);
    let compiled = this.#byContent.get(key);
    if (!compiled) {
      compiled = this.#compile(schema);
      if (this.#byContent.size >= MAX_BY_CONTENT) this.#byContent.clear();
      this.#byContent.set(key, compiled);
    }
    this.#byObject.set(schema, compiled);
    return compiled;
  }

  #compile(schema: Record<string, unknown>): Compiled {
    const ajv =
      typeof schema.$schema === 'string' && OLD_DRAFT.test(schema.$schema) ? this.#legacy : this.#modern;
    try {
      return ajv.compile(schema);
    } catch {
      return { error: "the tool's outputSchema could not be compiled" };
    } finally {
      // Ajv keeps every compiled schema (and its $id) forever; the caches here bound them instead.
      ajv.removeSchema(schema);
    }
  }
}
