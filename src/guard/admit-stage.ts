/**
 * The `admit` stage: a call needs its method's scope (`tools:call`, `resources:read`,
 * `prompts:read`), on every face. The HTTP faces check the same before a session sees the
 * message, to answer with HTTP 403 and a `WWW-Authenticate` challenge; this is what holds for
 * stdio and anything else.
 */
import { GatewayError } from '../errors.ts';
import { requireScope } from '../identity/scopes.ts';
import { requiredScope } from '../identity/required-scope.ts';
import type { Call, Next, Reply, Stage } from './pipeline.ts';

export const admitStage: Stage = {
  name: 'admit',
  handle(call: Call, next: Next): Promise<Reply> {
    const scope = requiredScope(call.method);
    if (scope) {
      try {
        requireScope(call.session.principal, scope);
      } catch (error) {
        if (error instanceof GatewayError) return Promise.resolve({ error: error.toJsonRpcError() });
        throw error;
      }
    }
    return next(call);
  },
};
