/**
 * What one line of the audit log holds. Producers hand the log an {@link AuditEvent}; the writer
 * seals it into an {@link AuditRecord} by giving it the next `seq`, the previous record's hash and
 * its own hash, so the records form one hash chain per log (see audit-chain.ts).
 */
import type { ErrorCode } from '../errors.ts';
import type { Face, Finding } from '../guard/pipeline.ts';

/**
 * What a record is about. Policy decisions and guard findings made during a call are fields of
 * that call's record (`decision`, `findings`), so a refused call is one record, not three;
 * `guard-finding` is for findings outside any client call (a tool definition scanned when a
 * server starts, for example).
 */
export type AuditKind =
  | 'tool-call'
  | 'prompt-get'
  | 'resource-read'
  | 'list'
  /** Any other client request through the pipeline (completion, subscriptions, …). */
  | 'request'
  /** A server-to-client request: sampling, elicitation, roots. */
  | 'server-request'
  | 'admin-change'
  | 'guard-finding';

/** Kinds the log itself writes. */
export type ChainKind = 'checkpoint' | 'dropped';

/** Where an audited action came from: a pipeline face, the admin REST API, or the gateway itself. */
export type AuditFace = Face | 'admin-api' | 'gateway';

/**
 * How it ended: `ok`; `tool-error` (a tool result with `isError: true`); `upstream-error` (the
 * server answered with a JSON-RPC error); `client-error` (the client answered a server-to-client
 * request with one); `cancelled`; or the gateway's own error code.
 */
export type AuditOutcome = 'ok' | 'tool-error' | 'upstream-error' | 'client-error' | 'cancelled' | ErrorCode;

export type AuditDecision = {
  readonly effect: 'allow' | 'deny';
  readonly rule: string;
  readonly mode: 'enforce' | 'dry-run';
  /** Set when a dry-run rule would have denied the call that it let through. */
  readonly wouldDeny?: true;
  readonly reason?: string;
};

/** What a producer records. The writer adds seq, time (when not given), prevHash and hash. */
export type AuditEvent = {
  readonly kind: AuditKind;
  /** Epoch milliseconds; `Date.now()` at append when absent. Written as an ISO time. */
  readonly at?: number;
  readonly tenant: string;
  readonly project?: string;
  /** The principal's subject (`key:<id>`, `jwt:<sub>`, `local`, …). */
  readonly principal: string;
  readonly session?: string;
  readonly face: AuditFace;
  /** The JSON-RPC method, or for admin changes the action (e.g. `tenant.update`). */
  readonly method: string;
  readonly server?: string;
  /** For a server shared by a grant: the tenant whose instance served the call (`tenant` is the caller's). */
  readonly serverOwner?: string;
  /** The names the client asked for, as the client sees them (name-spaced). */
  readonly tool?: string;
  readonly prompt?: string;
  readonly uri?: string;
  /** For admin changes: what was changed, such as `tenants/acme` or `servers/echo`. */
  readonly resource?: string;
  readonly decision?: AuditDecision;
  readonly findings?: readonly Finding[];
  /**
   * The arguments, digested (SHA-256 of canonical JSON) at seal time and kept only when the log is
   * configured to keep them, then through its redactor. Never written as given.
   */
  readonly args?: unknown;
  readonly outcome: AuditOutcome;
  readonly latencyMs?: number;
  readonly upstreamMs?: number;
  readonly servedBy?: 'primary' | 'fallback' | 'stale';
  readonly traceId?: string;
};

/** The fields every line of the log has, whatever its kind. */
export type ChainFields = {
  readonly seq: number;
  /** ISO 8601, UTC, milliseconds. */
  readonly time: string;
  readonly prevHash: string;
  /** SHA-256 (hex) of the canonical JSON of the record without `hash`. */
  readonly hash: string;
};

/** An audited action, sealed. */
export type EventRecord = ChainFields &
  Omit<AuditEvent, 'at' | 'args' | 'findings'> & {
    readonly findings: readonly Finding[];
    /** Absent for kinds without arguments; `unavailable` when they could not be serialized. */
    readonly argsDigest?: string;
    readonly args?: unknown;
  };

/**
 * A signed statement that the chain up to `prevHash` (the record before this one) is as written.
 * The signature is Ed25519 over {@link checkpointMessage}.
 */
export type CheckpointRecord = ChainFields & {
  readonly kind: 'checkpoint';
  /** `every` after each `checkpointEvery` records, `close` at shutdown. */
  readonly reason: 'every' | 'close';
  /** Fingerprint of the public key: the first 16 bytes of SHA-256 of the raw key, hex. */
  readonly keyId: string;
  /** The raw 32-byte Ed25519 public key, base64. */
  readonly publicKey: string;
  readonly signature: string;
};

/**
 * Records the log refused to keep because its backlog was full, in their place in the chain: the
 * loss is on the record, never silent.
 */
export type DroppedRecord = ChainFields & {
  readonly kind: 'dropped';
  readonly count: number;
  readonly from: string;
  readonly until: string;
};

export type AuditRecord = EventRecord | CheckpointRecord | DroppedRecord;

/** The `prevHash` of the first record of a log. */
export const GENESIS_HASH = '0'.repeat(64);
