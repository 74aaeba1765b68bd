/**
 * Admin API errors as RFC 9457 problem details (`application/problem+json`), carrying the
 * registry's code. The one place where a GatewayError becomes an admin HTTP response.
 */
import { GatewayError, asGatewayError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';

export type Problem = {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ErrorCode;
  /** Field-level problems of a request body or query, when validation failed. */
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
};

export function problemOf(error: GatewayError, errors?: Problem['errors']): Problem {
  return {
    type: `urn:mcplane:error:${error.code.toLowerCase().replaceAll('_', '-')}`,
    title: error.spec.publicMessage,
    status: error.spec.http,
    detail: error.publicMessage,
    code: error.code,
    ...(errors === undefined ? {} : { errors }),
  };
}

export function problemResponse(error: unknown, log?: Logger, errors?: Problem['errors']): Response {
  const failure = asGatewayError(error);
  if (failure.code === 'INTERNAL') log?.error({ err: error }, 'admin request failed');
  return new Response(JSON.stringify(problemOf(failure, errors)), {
    status: failure.spec.http,
    headers: { 'content-type': 'application/problem+json' },
  });
}
