/**
 * The dashboard's only way to the gateway: the admin API, called in-process with the session's
 * credential. Whatever the API refuses (401, 403, a foreign tenant's 404) the dashboard cannot
 * show either, so the API's authorization is the dashboard's.
 */
export type AdminFetch = (request: Request) => Response | Promise<Response>;

export type Problem = {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly code: string;
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
};

export type AdminReply<T> =
  | { readonly ok: true; readonly status: number; readonly body: T }
  | { readonly ok: false; readonly status: number; readonly problem: Problem };

export type AdminCall = <T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
) => Promise<AdminReply<T>>;

/** The admin API's answer for a path it has no route for (not for a missing resource). */
const NO_SUCH_ENDPOINT = 'No such admin endpoint';

/** Whether a reply says this gateway has no such endpoint (a feature not built into it). */
export function notAvailable(reply: AdminReply<unknown>): boolean {
  return !reply.ok && reply.status === 404 && reply.problem.detail === NO_SUCH_ENDPOINT;
}

/** Calls with `key`; `onUnauthorized` hears of a 401 (the key no longer works). */
export function adminCaller(admin: AdminFetch, key: string, onUnauthorized?: () => void): AdminCall {
  return async <T>(method: string, path: string, body?: unknown): Promise<AdminReply<T>> => {
    const headers: Record<string, string> = { authorization: `Bearer ${key}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await admin(
      new Request(new URL(path, 'http://mcplane.internal'), {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );
    const text = await response.text();
    const parsed = text === '' ? {} : safeJson(text);
    if (response.ok) return { ok: true, status: response.status, body: parsed as T };
    if (response.status === 401) onUnauthorized?.();
    const problem = parsed as Partial<Problem>;
    return {
      ok: false,
      status: response.status,
      problem: {
        status: response.status,
        title: problem.title ?? response.statusText,
        detail: problem.detail ?? problem.title ?? `HTTP ${response.status}`,
        code: problem.code ?? 'UNKNOWN',
        ...(problem.errors ? { errors: problem.errors } : {}),
      },
    };
  };
}

/** The raw answer (CSV exports): status, content type and text. */
export async function adminRaw(
  admin: AdminFetch,
  key: string,
  path: string,
): Promise<{ status: number; type: string | null; text: string }> {
  const response = await admin(
    new Request(new URL(path, 'http://mcplane.internal'), { headers: { authorization: `Bearer ${key}` } }),
  );
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { detail: 'The admin API answered something that is not JSON' };
  }
}
