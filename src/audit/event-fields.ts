/**
 * The record body an {@link AuditEvent} becomes: its time as ISO, the argument digest, and the
 * arguments themselves only when the log keeps them, through the redactor.
 *
 * Sealing is the writer's main cost, so the body is built with its keys already in canonical
 * order (and nested values as sorted copies): `JSON.stringify` of it is its canonical JSON, with
 * no sorting pass over the record. The verifier recomputes hashes with `canonicalJson`, so a key
 * out of order here would show as a hash mismatch; a property test holds the two equal.
 */
import type { AuditEvent } from './audit-record.ts';
import { canonicalCopy, canonicalDigest } from './canonical-value.ts';
import { isoTime } from '../iso-time.ts';

/**
 * Rewrites arguments before they are kept: the secret detector plugs in here. It must not change
 * its input; it returns what may be written.
 */
export type ArgsRedactor = (args: unknown, event: AuditEvent) => unknown;

/** Keep the (redacted) arguments in records, or only their digest (the default). */
export type ArgsPolicy = { readonly keep: false } | { readonly keep: true; readonly redact: ArgsRedactor };

export const DIGEST_ONLY: ArgsPolicy = { keep: false };

/** Written as `argsDigest` when the arguments could not be serialized. */
export const DIGEST_UNAVAILABLE = 'unavailable';

/** Builds the body once the chain gives it its seq and the previous hash. */
export type BodyBuilder = (seq: number, prevHash: string) => Record<string, unknown>;

/** The body of an event. Throws here, before the chain moves, when something will not serialize. */
export function eventBody(event: AuditEvent, at: number, policy: ArgsPolicy): BodyBuilder {
  const digest = event.args === undefined ? undefined : canonicalDigest(event.args);
  const kept = digest !== undefined && policy.keep ? policy.redact(event.args, event) : undefined;
  return orderedBody(event, at, { digest, kept: kept === undefined ? undefined : canonicalCopy(kept) });
}

/** The body of an event whose arguments would not serialize: everything else, and the fact. */
export function bodyWithoutArgs(event: AuditEvent, at: number): BodyBuilder {
  return orderedBody(event, at, { digest: event.args === undefined ? undefined : DIGEST_UNAVAILABLE });
}

/** The event fields the body below writes (or, for `at` and `args`, turns into others). */
type Placed =
  | 'kind'
  | 'at'
  | 'tenant'
  | 'project'
  | 'principal'
  | 'session'
  | 'face'
  | 'method'
  | 'server'
  | 'serverOwner'
  | 'tool'
  | 'prompt'
  | 'uri'
  | 'resource'
  | 'decision'
  | 'findings'
  | 'args'
  | 'outcome'
  | 'latencyMs'
  | 'upstreamMs'
  | 'servedBy'
  | 'traceId';
// A field added to AuditEvent must be placed in the body too; this stops the build until it is.
const _everyFieldPlaced: [Exclude<keyof AuditEvent, Placed>] extends [never] ? true : never = true;

function orderedBody(
  event: AuditEvent,
  at: number,
  args: { readonly digest: string | undefined; readonly kept?: unknown },
): BodyBuilder {
  const { kind, tenant, project, principal, session, face, method, server, tool, prompt, uri, resource } =
    event;
  const { decision, findings, outcome, latencyMs, upstreamMs, servedBy, traceId, serverOwner } = event;
  const time = isoTime(at);
  const sortedDecision = decision === undefined ? undefined : canonicalCopy(decision);
  const sortedFindings = findings === undefined ? [] : canonicalCopy(findings);
  // The order below is the sorted order of the keys (JavaScript's default string sort).
  return (seq, prevHash) => {
    const body: Record<string, unknown> = {};
    if (args.kept !== undefined) body.args = args.kept;
    if (args.digest !== undefined) body.argsDigest = args.digest;
    if (sortedDecision !== undefined) body.decision = sortedDecision;
    body.face = face;
    body.findings = sortedFindings;
    body.kind = kind;
    if (latencyMs !== undefined) body.latencyMs = latencyMs;
    body.method = method;
    body.outcome = outcome;
    body.prevHash = prevHash;
    body.principal = principal;
    if (project !== undefined) body.project = project;
    if (prompt !== undefined) body.prompt = prompt;
    if (resource !== undefined) body.resource = resource;
    body.seq = seq;
    if (servedBy !== undefined) body.servedBy = servedBy;
    if (server !== undefined) body.server = server;
    if (serverOwner !== undefined) body.serverOwner = serverOwner;
    if (session !== undefined) body.session = session;
    body.tenant = tenant;
    body.time = time;
    if (tool !== undefined) body.tool = tool;
    if (traceId !== undefined) body.traceId = traceId;
    if (upstreamMs !== undefined) body.upstreamMs = upstreamMs;
    if (uri !== undefined) body.uri = uri;
    return body;
  };
}
