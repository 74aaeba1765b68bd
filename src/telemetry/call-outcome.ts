/**
 * How a call ended, in the words the audit log uses, so that a metric's `outcome` label, a log
 * line and an audit record of the same call say the same: `ok`, `tool-error`, `upstream-error`,
 * `cancelled`, or the gateway's own error code (a bounded set: the registry in errors.ts).
 */
import { replyOutcome } from '../audit/call-event.ts';
import type { AuditOutcome } from '../audit/audit-record.ts';
import { asGatewayError } from '../errors.ts';
import type { Call, Reply } from '../guard/pipeline.ts';
import { CancelledError, RemoteError } from '../upstream/session-link.ts';

/** What the rest of the pipeline gave back: a reply, or what it threw. */
export type CallEnding = { readonly reply: Reply } | { readonly thrown: unknown };

export function callOutcome(call: Call, ending: CallEnding): AuditOutcome {
  if ('reply' in ending) return replyOutcome(ending.reply);
  const { thrown } = ending;
  if (thrown instanceof CancelledError || call.signal.aborted) return 'cancelled';
  if (thrown instanceof RemoteError) return 'upstream-error';
  return asGatewayError(thrown).code;
}
