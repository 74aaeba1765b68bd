/**
 * The page shell every dashboard page shares: the head (only same-origin scripts and styles,
 * as the CSP demands), a skip link, the main navigation and the logout form.
 *
 * Pages are `hono/html` templates: every interpolated value is HTML-escaped, so data from the
 * admin API (tenant names, tool descriptions, policy reasons) can never become markup.
 */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Problem } from './admin-calls.ts';
import type { DashboardSession } from './dashboard-sessions.ts';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export const UI_PATH = '/ui';

export function ui(path = ''): string {
  return `${UI_PATH}${path}`;
}

type NavItem = { readonly href: string; readonly label: string; readonly platform?: boolean };

function navItems(session: DashboardSession): NavItem[] {
  const tenant = session.tenantId;
  return [
    { href: ui('/'), label: 'Overview' },
    { href: ui('/tenants'), label: 'Tenants' },
    ...(tenant === null
      ? []
      : [
          { href: ui(`/tenants/${tenant}/keys`), label: 'Keys' },
          { href: ui(`/tenants/${tenant}/servers`), label: 'Server configs' },
          { href: ui(`/tenants/${tenant}/usage`), label: 'Usage' },
        ]),
    { href: ui('/pools'), label: 'Pools' },
    { href: ui('/audit'), label: 'Audit' },
    { href: ui('/tool-changes'), label: 'Tool changes' },
    { href: ui('/policy'), label: 'Policy', platform: true },
  ].filter((item) => !item.platform || session.role === 'platform-admin');
}

export function csrfField(session: DashboardSession): Html {
  return html`<input type="hidden" name="_csrf" value="${session.csrf}" />`;
}

function head(title: string): Html {
  return html`<head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="htmx-config" content='{"includeIndicatorCSS": false, "history": false}' />
    <title>${title} · mcplane</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${ui('/assets/ui.css')}" />
    <script src="${ui('/assets/htmx.min.js')}" defer></script>
    <script src="${ui('/assets/chart.umd.min.js')}" defer></script>
    <script src="${ui('/assets/ui.js')}" defer></script>
  </head>`;
}

/** A full page for a logged-in session. `current` is the nav entry to mark. */
export function page(session: DashboardSession, title: string, current: string, body: Html): Html {
  const who = session.role === 'platform-admin' ? 'platform admin' : `tenant admin of ${session.tenantId}`;
  return html`<!doctype html>
    <html lang="en">
      ${head(title)}
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <span class="brand">mcplane</span>
          <nav aria-label="Main">
            <ul>
              ${navItems(session).map(
                (item) =>
                  html`<li>
                    <a href="${item.href}" ${item.href === current ? html`aria-current="page"` : ''}
                      >${item.label}</a
                    >
                  </li>`,
              )}
            </ul>
          </nav>
          <form method="post" action="${ui('/logout')}" class="logout">
            ${csrfField(session)}
            <span class="who">${who}</span>
            <button type="submit">Log out</button>
          </form>
        </header>
        <main id="main" tabindex="-1">
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`;
}

/** A page without a session: the login form and the errors before login. */
export function barePage(title: string, body: Html): Html {
  return html`<!doctype html>
    <html lang="en">
      ${head(title)}
      <body>
        <main id="main" class="narrow">
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`;
}

/** What the admin API refused, with its field errors, announced to screen readers. */
export function problemBox(problem: Problem): Html {
  return html`<div class="problem" role="alert">
    <p><strong>${problem.status} ${problem.title}</strong>: ${problem.detail}</p>
    ${
      problem.errors && problem.errors.length > 0
        ? html`<ul>
            ${problem.errors.map((error) => html`<li><code>${error.path || '(body)'}</code>: ${error.message}</li>`)}
          </ul>`
        : ''
    }
  </div>`;
}

/** A feature this gateway's admin API does not have (its route answers 404). */
export function unavailable(feature: string): Html {
  return html`<p class="unavailable" role="status">
    ${feature} is not available on this gateway: its admin API has no endpoint for it.
  </p>`;
}

export function notice(text: string): Html {
  return html`<p class="notice" role="status">${text}</p>`;
}

/** An admin API list's path for the page after `cursor` (the dashboard page's own `?cursor=`). */
export function pageOf(path: string, cursor: string | undefined): string {
  return cursor === undefined || cursor === '' ? path : `${path}?cursor=${encodeURIComponent(cursor)}`;
}

/** Links to the first page and, when the API said more may follow, to the next. */
export function pager(here: string, cursor: string | undefined, next: string | undefined): Html {
  if (next === undefined && (cursor === undefined || cursor === '')) return html``;
  return html`<nav class="pager" aria-label="Pages">
    ${cursor ? html`<a href="${here}">First page</a>` : ''}
    ${next === undefined ? '' : html`<a href="${pageOf(here, next)}" rel="next">Next page</a>`}
  </nav>`;
}

/** `2026-12-01T10:00:00.000Z` as `2026-12-01 10:00:00`; empty for null. */
export function when(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '';
}
