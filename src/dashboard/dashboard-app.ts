/**
 * The web dashboard at `/ui` (issue 13), on the same listener as the admin API and a client of
 * it: every page is server-rendered from admin API answers, called in-process with the
 * session's credential, so it shows nothing the API does not and the API's roles and 404s
 * decide who sees what. See docs/dashboard.md.
 *
 * Login is with an admin API key, checked by the admin API itself; the key then lives only in
 * the server-side session. OIDC login is not built (it needs an issuer to test against).
 */
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import { parse } from 'hono/utils/cookie';
import { adminCaller } from './admin-calls.ts';
import { serveAsset } from './dashboard-assets.ts';
import { field, type DashboardApp, type DashboardDeps, type DashboardEnv } from './dashboard-context.ts';
import { csrfCheck, securityHeaders } from './dashboard-security.ts';
import {
  DashboardSessions,
  IDLE_MS,
  randomToken,
  sameToken,
  type DashboardSession,
} from './dashboard-sessions.ts';
import { barePage, ui, UI_PATH, type Html } from './page-layout.ts';
import { auditPages } from './pages/audit-page.ts';
import { keysPages } from './pages/keys-page.ts';
import { overviewPages } from './pages/overview-page.ts';
import { policyPages } from './pages/policy-page.ts';
import { poolsPages } from './pages/pools-page.ts';
import { serverConfigPages } from './pages/server-configs-page.ts';
import { tenantsPages } from './pages/tenants-page.ts';
import { toolChangesPages } from './pages/tool-changes-page.ts';
import { usagePages } from './pages/usage-page.ts';

export { UI_PATH };

const SESSION_COOKIE = 'mcplane_ui_session';
const LOGIN_COOKIE = 'mcplane_ui_login';

export type DashboardOptions = DashboardDeps & {
  /** Cookies get `Secure` (the gateway's public URL is https). */
  readonly secureCookies: boolean;
  readonly sessions?: DashboardSessions;
};

export function createDashboard(options: DashboardOptions): Hono<DashboardEnv> {
  const sessions = options.sessions ?? new DashboardSessions();
  const cookie = {
    path: UI_PATH,
    httpOnly: true,
    secure: options.secureCookies,
    sameSite: 'Strict',
  } as const;
  const app: DashboardApp = new Hono<DashboardEnv>({ strict: false }).basePath(UI_PATH);
  app.use('*', securityHeaders);
  app.get('/assets/:name', (c) => serveAsset(c, c.req.param('name')));

  app.get('/login', (c) => {
    const token = randomToken();
    setCookie(c, LOGIN_COOKIE, token, { ...cookie, maxAge: 3600 });
    return c.html(loginPage(token));
  });

  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    // Before a session exists the token is double-submitted: the form's copy must match the
    // cookie's, which another site can neither read nor (SameSite=Strict) send.
    if (!sameToken(field(form, '_csrf'), getCookie(c, LOGIN_COOKIE))) {
      return c.text('Forbidden: the login form has expired (CSRF). Reload the page and try again.\n', 403);
    }
    const key = field(form, 'key');
    const token = randomToken();
    setCookie(c, LOGIN_COOKIE, token, { ...cookie, maxAge: 3600 });
    const login = key === '' ? undefined : await identify(options, key);
    if (login === undefined) {
      return c.html(loginPage(token, 'That key is not a working platform-admin or tenant-admin key.'), 401);
    }
    const session = sessions.open({ key, ...login });
    deleteCookie(c, LOGIN_COOKIE, { path: UI_PATH });
    setCookie(c, SESSION_COOKIE, session.id, { ...cookie, maxAge: IDLE_MS / 1000 });
    return c.redirect(ui('/'), 303);
  });

  app.use('*', async (c, next) => {
    const session = sessions.find(parse(c.req.header('cookie') ?? '', SESSION_COOKIE)[SESSION_COOKIE]);
    if (!session) {
      if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return c.text('Not logged in\n', 401);
      return c.redirect(ui('/login'), 303);
    }
    c.set('session', session);
    // A key revoked, suspended or expired since login ends the session: this page shows the
    // API's 401, the next one is the login form.
    c.set(
      'api',
      adminCaller(options.admin, session.key, () => sessions.close(session.id)),
    );
    c.set('flash', session.flash);
    session.flash = undefined;
    await next();
  });
  app.use('*', csrfCheck);

  app.post('/logout', (c) => {
    sessions.close(c.get('session').id);
    deleteCookie(c, SESSION_COOKIE, { path: UI_PATH });
    return c.redirect(ui('/login'), 303);
  });

  overviewPages(app, options);
  tenantsPages(app, options);
  keysPages(app, options);
  serverConfigPages(app, options);
  poolsPages(app, options);
  usagePages(app, options);
  auditPages(app, options);
  toolChangesPages(app, options);
  policyPages(app, options);
  app.notFound((c) => c.text('Not found\n', 404));
  app.onError((error, c) => {
    options.log.error({ err: error }, 'dashboard request failed');
    return c.text('The dashboard failed to render this page; the gateway log has the details.\n', 500);
  });
  return app;
}

/**
 * Asks the admin API who the key is: any admin may list tenants; only a platform admin may
 * read the gateway status. Undefined for a key the API refuses.
 */
async function identify(
  options: DashboardDeps,
  key: string,
): Promise<Pick<DashboardSession, 'role' | 'tenantId'> | undefined> {
  const api = adminCaller(options.admin, key);
  const tenants = await api<{ tenants: { id: string }[] }>('GET', '/tenants');
  if (!tenants.ok) return undefined;
  const status = await api('GET', '/status');
  if (status.ok) return { role: 'platform-admin', tenantId: null };
  const own = tenants.body.tenants[0];
  return own === undefined ? undefined : { role: 'tenant-admin', tenantId: own.id };
}

function loginPage(token: string, error?: string): Html {
  return barePage(
    'Log in',
    html`${error ? html`<p class="problem" role="alert">${error}</p>` : ''}
      <form method="post" action="${ui('/login')}" class="card">
        <input type="hidden" name="_csrf" value="${token}" />
        <label for="key">Admin API key</label>
        <input id="key" name="key" type="password" autocomplete="off" required autofocus />
        <p class="hint">
          A platform-admin key (<code>mcplane admin create-key</code>) or a tenant-admin key. It stays on the
          gateway, in this session; the browser gets only a session cookie.
        </p>
        <button type="submit">Log in</button>
      </form>`,
  );
}
