/**
 * The output guard: what comes back for a model to read. After `next`, it guards
 *
 * - `tools/call` results: the `text` of every `content[]` block (embedded resources included)
 *   and every string of `structuredContent`; and, before any rewriting, whether
 *   `structuredContent` conforms to the tool's `outputSchema` (response validation);
 * - `resources/read` results: the `text` of every `contents[]` entry (`blob` is skipped);
 * - `prompts/get` results: the description and the text of every message;
 * - through {@link OutputGuardStage.guardSamplingResult}, the client's answer to a server's
 *   `sampling/createMessage`, before the session hands it to the server.
 *
 * Block replaces the result with a GUARD_BLOCKED refusal; redact rewrites the result; flag only
 * records. Error replies pass untouched: an upstream JSON-RPC error is data, not a result.
 */
import type { JSONRPCError } from '../jsonrpc/message.ts';
import type { GuardProfile, GuardProfiles } from './guard-profiles.ts';
import { blockedReply, runGuards, type GuardScope } from './guard-run.ts';
import type { RelayContext } from './input-guard-stage.ts';
import type { Call, Finding, Next, Reply, Stage } from './pipeline.ts';
import { OutputSchemaValidator } from './response-validation.ts';
import type { Selection } from './text-walk.ts';

/**
 * The declared outputSchema of a tool, by server and bare tool name, for the call (whose route
 * says which pool's catalog to look in first); undefined when it has none.
 */
export type OutputSchemaLookup = (
  server: string,
  tool: string,
  call: Call,
) => Record<string, unknown> | undefined;

export type SamplingResultGuard =
  | { readonly ok: true; readonly result: Record<string, unknown>; readonly findings: readonly Finding[] }
  | { readonly ok: false; readonly error: JSONRPCError['error']; readonly findings: readonly Finding[] };

type Part = { readonly key: string; readonly selection: Selection };

/** The parts of each result a model reads. A Map: a method name is client input. */
const PARTS: ReadonlyMap<string, readonly Part[]> = new Map(
  Object.entries({
    'tools/call': [
      { key: 'content', selection: 'content-text' },
      { key: 'structuredContent', selection: 'all-strings' },
    ],
    'resources/read': [{ key: 'contents', selection: 'content-text' }],
    'prompts/get': [
      { key: 'description', selection: 'all-strings' },
      { key: 'messages', selection: 'content-text' },
    ],
  }),
);

/** The methods whose results the output guard reads. */
export const OUTPUT_GUARDED_METHODS: ReadonlySet<string> = new Set(PARTS.keys());

export class OutputGuardStage implements Stage {
  readonly name = 'guard-output';
  readonly #profiles: GuardProfiles;
  readonly #outputSchema: OutputSchemaLookup | undefined;
  readonly #validator = new OutputSchemaValidator();

  constructor(options: { profiles: GuardProfiles; outputSchema?: OutputSchemaLookup }) {
    this.#profiles = options.profiles;
    this.#outputSchema = options.outputSchema;
  }

  async handle(call: Call, next: Next): Promise<Reply> {
    const reply = await next(call);
    const parts = PARTS.get(call.method);
    if (!parts || !('result' in reply)) return reply;
    const profile = this.#profiles.profile(call.session.principal.tenantId, call.target?.server);
    if (call.method === 'tools/call') {
      const refused = this.#validate(call, profile, reply.result);
      if (refused) return refused;
    }
    const result = await guardResult(
      reply.result,
      parts,
      'result',
      profile,
      call.notes.findings,
      call.signal,
    );
    if ('error' in result) return result;
    return result.value === reply.result ? reply : { result: result.value };
  }

  /** Guards a client's `sampling/createMessage` result on its way back to the server. */
  async guardSamplingResult(
    result: Record<string, unknown>,
    context: RelayContext,
  ): Promise<SamplingResultGuard> {
    const profile = this.#profiles.profile(context.tenantId, context.server);
    const findings: Finding[] = [];
    const parts: Part[] = [{ key: 'content', selection: 'content-text' }];
    const guarded = await guardResult(result, parts, 'sampling.result', profile, findings, context.signal);
    if ('error' in guarded) return { ok: false, error: guarded.error, findings };
    return { ok: true, result: guarded.value, findings };
  }

  /** Response validation, on the result as the server sent it. */
  #validate(call: Call, profile: GuardProfile, result: Record<string, unknown>): Reply | undefined {
    const server = call.target?.server;
    const tool = call.target?.tool;
    if (
      profile.responseValidation === 'off' ||
      !this.#outputSchema ||
      server === undefined ||
      tool === undefined
    ) {
      return undefined;
    }
    const schema = this.#outputSchema(server, tool, call);
    if (!schema) return undefined;
    const outcome = this.#validator.validateResult(schema, result);
    if (outcome.ok) return undefined;
    const finding: Finding = {
      detector: 'response-validation',
      action: profile.responseValidation,
      where: 'result.structuredContent',
      detail: outcome.detail,
    };
    call.notes.findings.push(finding);
    return profile.responseValidation === 'block' ? blockedReply(finding) : undefined;
  }
}

async function guardResult(
  result: Record<string, unknown>,
  parts: readonly Part[],
  base: string,
  profile: GuardProfile,
  findings: Finding[],
  signal: AbortSignal,
): Promise<{ value: Record<string, unknown> } | { error: JSONRPCError['error'] }> {
  const present = parts.filter((part) => result[part.key] !== undefined);
  const scopes: GuardScope[] = present.map((part) => ({
    where: `${base}.${part.key}`,
    value: result[part.key],
    selection: part.selection,
  }));
  const action = profile.classifier?.output;
  const outcome = await runGuards({
    scopes,
    detectors: profile.output,
    classifier: action && profile.classifier ? { client: profile.classifier.client, action } : undefined,
    classifierWhere: base,
    findings,
    signal,
  });
  if (outcome.refused) return outcome.reply;
  let rewritten: Record<string, unknown> | undefined;
  present.forEach((part, index) => {
    const value = outcome.values[index];
    if (value !== result[part.key]) (rewritten ??= { ...result })[part.key] = value;
  });
  return { value: rewritten ?? result };
}
