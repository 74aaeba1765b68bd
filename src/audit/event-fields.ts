/**
 * The fields an {@link AuditEvent} contributes to its record: its time as ISO, the argument
 * digest, and the arguments themselves only when the log keeps them, through the redactor.
 */
import { canonicalHash } from '../jsonrpc/canonical-json.ts';
import type { AuditEvent } from './audit-record.ts';

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

export function eventFields(event: AuditEvent, at: number, policy: ArgsPolicy): Record<string, unknown> {
  const { at: _at, args, findings, ...rest } = event;
  const fields: Record<string, unknown> = {
    ...rest,
    time: new Date(at).toISOString(),
    findings: findings ?? [],
  };
  if (args !== undefined) {
    fields.argsDigest = canonicalHash(args);
    if (policy.keep) fields.args = policy.redact(args, event);
  }
  return fields;
}

/** The fields of an event whose arguments would not serialize: everything else, and the fact. */
export function fieldsWithoutArgs(event: AuditEvent, at: number): Record<string, unknown> {
  const { args, ...rest } = event;
  const fields = eventFields(rest, at, DIGEST_ONLY);
  if (args !== undefined) fields.argsDigest = DIGEST_UNAVAILABLE;
  return fields;
}
