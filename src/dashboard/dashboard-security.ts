/**
 * The dashboard's browser-facing defences: a strict Content-Security-Policy (only this origin's
 * scripts and styles, no inline code, no eval, no framing), and the CSRF check every
 * state-changing request passes: the session's synchronizer token in the `_csrf` form field
 * or the `X-CSRF-Token` header, and an `Origin`, when the browser sends one, of this very host.
 */
import type { MiddlewareHandler } from 'hono';
import { sameToken } from './dashboard-sessions.ts';
import type { DashboardEnv } from './dashboard-context.ts';

export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.header('content-security-policy', CSP);
  c.header('x-content-type-options', 'nosniff');
  // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on form posts,
  // which the Host/Origin guard rightly refuses.
  c.header('referrer-policy', 'same-origin');
  c.header('x-frame-options', 'DENY');
  c.header('cross-origin-opener-policy', 'same-origin');
  if (!c.res.headers.has('cache-control')) c.header('cache-control', 'no-store');
};

const SAFE = new Set(['GET', 'HEAD']);

/** Whether an `Origin` header (if any) names the host the request was sent to. */
export function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** Refuses a state-changing request of a session without its token (403). */
export const csrfCheck: MiddlewareHandler<DashboardEnv> = async (c, next) => {
  if (SAFE.has(c.req.method)) return next();
  const session = c.get('session');
  let token = c.req.header('x-csrf-token');
  if (token === undefined && isForm(c.req.header('content-type'))) {
    const form = await c.req.parseBody();
    token = typeof form._csrf === 'string' ? form._csrf : undefined;
  }
  if (!sameOrigin(c.req.header('origin'), c.req.header('host')) || !sameToken(token, session.csrf)) {
    return c.text(
      'Forbidden: this request lacks the page token (CSRF). Reload the page and try again.\n',
      403,
    );
  }
  return next();
};

function isForm(type: string | undefined): boolean {
  return (
    type !== undefined &&
    (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data'))
  );
}
