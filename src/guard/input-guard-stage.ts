/**
 * The input guard: detectors (and the classifier, when configured) over what a client sends for
 * a model or a server to act on: every string of `tools/call` arguments and of `prompts/get`
 * arguments, and, through {@link InputGuardStage.guardSamplingRequest}, the server-to-client
 * `sampling/createMessage` requests the session relays.
 *
 * Block refuses the call with GUARD_BLOCKED; redact rewrites `call.params` before `next`; flag
 * only records. Every hit is in `call.notes.findings`.
 *
 * Per-server settings need `call.target.server`: in front of the route stage the target is not
 * known yet and the tenant's settings apply alone.
 */
import type { JSONRPCError } from '../jsonrpc/message.ts';
import type { GuardProfiles } from './guard-profiles.ts';
import { runGuards } from './guard-run.ts';
import type { Call, Finding, Next, Reply, Stage } from './pipeline.ts';

/** The methods whose arguments the input guard reads. */
export const INPUT_GUARDED_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get']);

/** What the session needs to know to guard a server-to-client request. */
export type RelayContext = {
  readonly tenantId: string;
  readonly server: string;
  readonly signal: AbortSignal;
};

export type SamplingGuardResult =
  | { readonly ok: true; readonly params: Record<string, unknown>; readonly findings: readonly Finding[] }
  | { readonly ok: false; readonly error: JSONRPCError['error']; readonly findings: readonly Finding[] };

export class InputGuardStage implements Stage {
  readonly name = 'guard-input';
  readonly #profiles: GuardProfiles;

  constructor(options: { profiles: GuardProfiles }) {
    this.#profiles = options.profiles;
  }

  async handle(call: Call, next: Next): Promise<Reply> {
    const args = call.params.arguments;
    if (!INPUT_GUARDED_METHODS.has(call.method) || args === null || typeof args !== 'object')
      return next(call);
    const profile = this.#profiles.profile(call.session.principal.tenantId, call.target?.server);
    const classifier = profile.classifier?.input;
    const outcome = await runGuards({
      scopes: [{ where: 'args', value: args, selection: 'all-strings' }],
      detectors: profile.input,
      classifier:
        classifier && profile.classifier
          ? { client: profile.classifier.client, action: classifier }
          : undefined,
      classifierWhere: 'args',
      findings: call.notes.findings,
      signal: call.signal,
    });
    if (outcome.refused) return outcome.reply;
    const guarded = outcome.values[0];
    if (guarded !== args) call.params = { ...call.params, arguments: guarded };
    return next(call);
  }

  /**
   * Guards the params of a `sampling/createMessage` a server sends towards the client: the
   * `systemPrompt` and the text of every message. The session relays `params` on `ok`, and
   * answers the server with `error` otherwise.
   */
  async guardSamplingRequest(
    params: Record<string, unknown>,
    context: RelayContext,
  ): Promise<SamplingGuardResult> {
    const profile = this.#profiles.profile(context.tenantId, context.server);
    const findings: Finding[] = [];
    const classifier = profile.classifier?.input;
    const outcome = await runGuards({
      scopes: [
        { where: 'sampling.systemPrompt', value: params.systemPrompt, selection: 'all-strings' },
        { where: 'sampling.messages', value: params.messages, selection: 'content-text' },
      ],
      detectors: profile.input,
      classifier:
        classifier && profile.classifier
          ? { client: profile.classifier.client, action: classifier }
          : undefined,
      classifierWhere: 'sampling',
      findings,
      signal: context.signal,
    });
    if (outcome.refused) return { ok: false, error: outcome.reply.error, findings };
    const [systemPrompt, messages] = outcome.values;
    const changed = systemPrompt !== params.systemPrompt || messages !== params.messages;
    const guarded = changed
      ? {
          ...params,
          ...(systemPrompt !== undefined ? { systemPrompt } : {}),
          ...(messages !== undefined ? { messages } : {}),
        }
      : params;
    return { ok: true, params: guarded, findings };
  }
}
