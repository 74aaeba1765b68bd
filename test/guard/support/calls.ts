import { newCall, type Call, type CallTarget } from '../../../src/guard/pipeline.ts';
import { localPrincipal } from '../../../src/identity/principal.ts';

/** A call record as the pipeline would hand it to a guard stage. */
export function guardCall(
  method: string,
  params: Record<string, unknown>,
  options: { tenant?: string; target?: CallTarget } = {},
): Call {
  return newCall({
    id: 7,
    method,
    params,
    session: {
      key: 'session-1',
      principal: localPrincipal(options.tenant ?? 'acme'),
      face: 'streamable-http',
    },
    signal: new AbortController().signal,
    ...(options.target ? { target: options.target } : {}),
  });
}
