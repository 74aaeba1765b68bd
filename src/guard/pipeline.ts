/**
 * The call pipeline: every client request a session does not answer itself (initialize, ping)
 * passes one ordered list of named stages, on every face. The composition root builds the list;
 * nothing else decides the order.
 *
 * A stage is middleware of one shape, `(call, next) => Promise<Reply>`:
 * - it may refuse by returning a reply without calling `next` (it never throws past the pipeline;
 *   a GatewayError thrown by a stage is turned into a reply by {@link runPipeline});
 * - it may rewrite `call.params` before `next` (redaction of input) or the reply after it
 *   (redaction of output, list filtering);
 * - it records what it decided in `call.notes`, which the audit and metering stage reads last.
 *
 * Lists (`tools/list` and the other list methods) are calls too: they travel the same stages,
 * and a stage that decides per tool filters the list's items on the way back, so a denied tool
 * is absent from the list exactly as it is refused when called.
 */
import { GatewayError, asGatewayError, type ErrorCode } from '../errors.ts';
import type { Principal } from '../identity/principal.ts';
import type { JSONRPCError, RequestId } from '../jsonrpc/message.ts';

/** The transport a call came in on. */
export type Face = 'streamable-http' | 'legacy-sse' | 'stdio' | 'admin-mcp';

/** What the pipeline knows of the session a call belongs to. */
export type CallSession = {
  readonly key: string;
  readonly principal: Principal;
  readonly face: Face;
};

/**
 * Where a call goes, once the route stage knows. For a server another tenant shares with the
 * session's tenant, `server` is still the real server's name (policies and guard profiles written
 * for `kb` apply to `acme.kb` too) and `owner` names the tenant whose instance serves it.
 */
export type CallTarget = {
  readonly server: string;
  /** The grant owner whose tenant pool serves the call; absent for the tenant's own servers. */
  readonly owner?: string;
  /** The item's name as the server knows it (bare, not name-spaced). */
  readonly tool?: string;
  readonly prompt?: string;
  readonly uri?: string;
};

/** A finding of a guard detector, recorded for audit whatever its action. */
export type Finding = {
  readonly detector: string;
  readonly action: 'block' | 'redact' | 'flag';
  /** Where it was found, e.g. `args.path` or `result.content[0].text`. */
  readonly where: string;
  /** A short, non-secret description; never the matched text itself. */
  readonly detail?: string;
};

/** A policy decision, recorded for audit. */
export type Decision = {
  readonly effect: 'allow' | 'deny';
  /** The rule that decided, or `default`. */
  readonly rule: string;
  readonly mode: 'enforce' | 'dry-run';
  readonly reason?: string;
};

/** What stages learn about a call on its way; the last stage turns it into audit and usage. */
export type CallNotes = {
  decision?: Decision;
  findings: Finding[];
  /** Set by the resilience stage when a fallback or a stale copy served the call. */
  servedBy?: 'primary' | 'fallback' | 'stale';
  /** Set by the resilience stage: how many times the call was retried on the primary server. */
  retries?: number;
  /** Time spent upstream (ms), apart from the gateway's own time: set by the forwarding step. */
  upstreamMs?: number;
  /** Time the call waited for a process (a pool slot, a session's own process) before it (ms). */
  poolWaitMs?: number;
  /**
   * CPU time (ms) the serving process tree used for the call, where that can be told apart: a
   * process of one tenant or one session with no other call in flight (upstream/call-cpu-watch.ts).
   */
  cpuMs?: number;
};

export type Call = {
  readonly id: RequestId;
  readonly method: string;
  /** The params as the next stage will see them; stages may replace them. */
  params: Record<string, unknown>;
  readonly session: CallSession;
  readonly signal: AbortSignal;
  /** `performance.now()` when the call entered the pipeline. */
  readonly startedAt: number;
  target?: CallTarget;
  readonly notes: CallNotes;
};

export type Reply = { readonly result: Record<string, unknown> } | { readonly error: JSONRPCError['error'] };

export type Next = (call: Call) => Promise<Reply>;

export type Stage = {
  readonly name: string;
  handle(call: Call, next: Next): Promise<Reply>;
};

/** A reply refusing the call with a registry error. */
export function refusal(code: ErrorCode, message?: string, data?: Record<string, unknown>): Reply {
  const error = new GatewayError(code, message).toJsonRpcError();
  return { error: data === undefined ? error : { ...error, data: { ...error.data, ...data } } };
}

/**
 * Chains the stages in order in front of `terminal` (the stage that actually forwards). Built
 * once per pipeline, not per call.
 */
export function composePipeline(stages: readonly Stage[], terminal: Next): Next {
  return stages.reduceRight<Next>((next, stage) => (call) => guarded(stage, call, next), terminal);
}

/**
 * Runs one stage, turning a gateway error it throws (or rejects with) into a refusal. Not an
 * async function: the stage's own promise is followed with one `then`, rather than wrapped in a
 * second promise and awaited, once per stage of every call.
 */
function guarded(stage: Stage, call: Call, next: Next): Promise<Reply> {
  let running: Promise<Reply>;
  try {
    running = stage.handle(call, next);
  } catch (error) {
    return refuseLater(error);
  }
  return running.then(undefined, refusalOf);
}

/** A stage that threw before it returned a promise: the same refusal, or the same rejection. */
async function refuseLater(error: unknown): Promise<Reply> {
  return refusalOf(error);
}

function refusalOf(error: unknown): Reply {
  const failure = asGatewayError(error);
  // Upstream JSON-RPC errors and cancellations are not the stage's business; let them pass.
  if (failure.code === 'INTERNAL' && !(error instanceof GatewayError)) throw error;
  return { error: failure.toJsonRpcError() };
}

/** A fresh call record. */
export function newCall(fields: Omit<Call, 'notes' | 'startedAt'> & { startedAt?: number }): Call {
  return { ...fields, startedAt: fields.startedAt ?? performance.now(), notes: { findings: [] } };
}
