/**
 * What a call carries that only the session and the forwarding end need: the session itself (to
 * route for, and to relay progress to) and the forwarding step. Kept beside the call rather
 * than in it, so the stages see only the pipeline's contract.
 */
import type { GatewayError } from '../errors.ts';
import type { Route, RoutedSession } from '../router/router.ts';
import type { Call, Next } from './pipeline.ts';

export type CallContext = {
  readonly link: RoutedSession;
  /** The pipeline's last step for this call: forward to the routed server, or aggregate a list. */
  readonly forward: Next;
  /** Set by the route stage. */
  route?: Route;
  /**
   * Set by the pinning stage when the routed server could not be reached to judge the tool's
   * definition (it never started, or is down with no catalog known): the call must not reach
   * that server unjudged, so the resilience stage fails its primary attempt with this error
   * (counted by the breaker) and may still serve a fallback or a stale copy.
   */
  unverified?: GatewayError;
  /**
   * Set by a stage that follows the exchange with the server (tracing): called once the call has
   * its process, just before the request is written, so it may still add to `call.params._meta`
   * (the trace context); what it returns is called when the exchange has ended.
   */
  onUpstream?: (call: Call, process: { readonly pid: number | undefined }) => (() => void) | undefined;
};

/**
 * Where a call keeps its context: a property under a symbol of this module's, which the stages'
 * contract (the `Call` type) does not name. A property costs a call far less than an entry in a
 * WeakMap (whose entries the collector must trace as ephemerons).
 */
const CONTEXT: unique symbol = Symbol('mcplane.callContext');

type WithContext = Call & { [CONTEXT]?: CallContext };

export function attachContext(call: Call, context: CallContext): void {
  (call as WithContext)[CONTEXT] = context;
}

/** The call's context, or undefined for a call that was built without one (a unit test's). */
export function findContext(call: Call): CallContext | undefined {
  return (call as WithContext)[CONTEXT];
}

export function contextOf(call: Call): CallContext {
  const context = (call as WithContext)[CONTEXT];
  if (!context) throw new Error('a call entered the pipeline without its context');
  return context;
}

/** The pipeline's terminal: whatever forwarding the call's session attached. */
export const forwardAttached: Next = (call) => contextOf(call).forward(call);
