/**
 * A tenant's own server configs (`mode: tenant` servers): register or replace (`PUT`), change
 * some environment names (`PATCH`), remove. Secrets are write-only: the form takes them, the
 * API stores them encrypted, and the page shows only that one is set and its fingerprint. When
 * the server does not start with the config, the API's 422 is shown inline, next to the form
 * (htmx swaps the answer in; without JavaScript the whole page comes back with it).
 */
import { html } from 'hono/html';
import type { Problem } from '../admin-calls.ts';
import {
  field,
  statusOf,
  type DashboardApp,
  type DashboardContext,
  type DashboardDeps,
} from '../dashboard-context.ts';
import { csrfField, notice, page, problemBox, ui, when, type Html } from '../page-layout.ts';

type Masked = { set: true; fingerprint: string };
type ServerConfig = {
  server: string;
  env: Record<string, string | Masked>;
  args: (string | Masked)[] | null;
  updatedAt: string;
};

const base = (tenant: string) => `/tenants/${encodeURIComponent(tenant)}/servers`;

/** `NAME=value` lines; a line without `=` is a problem named by its number. */
export function envLines(text: string, secret: boolean): { env: Record<string, unknown>; bad: number[] } {
  const env: Record<string, unknown> = {};
  const bad: number[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const eq = line.indexOf('=');
    if (eq <= 0) bad.push(index + 1);
    else env[line.slice(0, eq).trim()] = secret ? { secret: line.slice(eq + 1) } : line.slice(eq + 1);
  });
  return { env, bad };
}

export function serverConfigPages(app: DashboardApp, _deps: DashboardDeps): void {
  app.get('/tenants/:id/servers', (c) => render(c, c.req.param('id')));

  app.post('/tenants/:id/servers', async (c) => {
    const tenant = c.req.param('id');
    const form = await c.req.parseBody();
    const server = field(form, 'server');
    const plain = envLines(field(form, 'env'), false);
    const secrets = envLines(field(form, 'secrets'), true);
    const argsText = field(form, 'args');
    const mode = field(form, 'mode') === 'update' ? 'update' : 'replace';
    const remove = field(form, 'remove')
      .split(/[\s,]+/)
      .filter(Boolean);
    if (server === '' || plain.bad.length > 0 || secrets.bad.length > 0) {
      return answer(c, tenant, {
        status: 400,
        title: 'Bad Request',
        code: 'INVALID_PARAMS',
        detail: server === '' ? 'Name the server' : 'Each environment line is NAME=value',
        errors: [
          ...plain.bad.map((line) => ({ path: `env line ${line}`, message: 'expected NAME=value' })),
          ...secrets.bad.map((line) => ({ path: `secrets line ${line}`, message: 'expected NAME=value' })),
        ],
      });
    }
    const env = { ...plain.env, ...secrets.env };
    const args = argsText === '' ? undefined : argsText.split(/\r?\n/).filter((line) => line !== '');
    const body =
      mode === 'update'
        ? {
            env: { ...env, ...Object.fromEntries(remove.map((name) => [name, null])) },
            ...(args ? { args } : {}),
          }
        : { env, ...(args ? { args } : {}) };
    const saved = await c.get('api')(
      mode === 'update' ? 'PATCH' : 'PUT',
      `${base(tenant)}/${encodeURIComponent(server)}`,
      body,
    );
    if (!saved.ok) return answer(c, tenant, saved.problem);
    return answer(c, tenant, undefined, `Server config ${server} saved; the server started with it.`);
  });

  app.post('/tenants/:id/servers/:server/delete', async (c) => {
    const { id: tenant, server } = c.req.param();
    const removed = await c.get('api')('DELETE', `${base(tenant)}/${encodeURIComponent(server)}`);
    if (!removed.ok) return render(c, tenant, removed.problem);
    c.get('session').flash = `Server config ${server} removed.`;
    return c.redirect(ui(`/tenants/${encodeURIComponent(tenant)}/servers`), 303);
  });
}

/** htmx asked: the result fragment; a plain form post: the whole page. */
async function answer(
  c: DashboardContext,
  tenant: string,
  problem?: Problem,
  done?: string,
): Promise<Response> {
  if (c.req.header('hx-request') !== 'true') return render(c, tenant, problem, done);
  const list = await c.get('api')<{ servers: ServerConfig[] }>('GET', base(tenant));
  return c.html(
    html`${problem ? problemBox(problem) : ''}${done ? notice(done) : ''}
    ${list.ok ? table(c, tenant, list.body.servers) : problemBox(list.problem)}`,
    statusOf(problem),
  );
}

async function render(
  c: DashboardContext,
  tenant: string,
  problem?: Problem,
  done?: string,
): Promise<Response> {
  const session = c.get('session');
  const list = await c.get('api')<{ servers: ServerConfig[] }>('GET', base(tenant));
  const here = ui(`/tenants/${encodeURIComponent(tenant)}/servers`);
  const flashed = done ?? c.get('flash');
  const body = list.ok
    ? html`<div id="server-configs" aria-live="polite">
          ${problem ? problemBox(problem) : ''} ${flashed ? notice(flashed) : ''}
          ${table(c, tenant, list.body.servers)}
        </div>
        ${form(c, tenant)}`
    : problemBox(list.problem);
  return c.html(
    page(session, `Server configs of ${tenant}`, here, body),
    statusOf(problem ?? (list.ok ? undefined : list.problem)),
  );
}

function shown(value: string | Masked): Html | string {
  return typeof value === 'string'
    ? value
    : html`<span class="secret-set">secret set (fingerprint <code>${value.fingerprint}</code>)</span>`;
}

function table(c: DashboardContext, tenant: string, configs: ServerConfig[]): Html {
  if (configs.length === 0)
    return html`<p>No server configs: every server runs with the gateway's config.</p>`;
  return html`<table>
    <caption>
      Server configs
    </caption>
    <thead>
      <tr>
        <th scope="col">Server</th>
        <th scope="col">Environment</th>
        <th scope="col">Arguments</th>
        <th scope="col">Updated</th>
        <th scope="col">Remove</th>
      </tr>
    </thead>
    <tbody>
      ${configs.map(
        (config) =>
          html`<tr>
            <th scope="row">${config.server}</th>
            <td>
              <ul class="plain">
                ${Object.entries(config.env).map(([name, value]) => html`<li><code>${name}</code> = ${shown(value)}</li>`)}
              </ul>
            </td>
            <td>
              ${
                config.args === null
                  ? html`<span class="muted">the server's own</span>`
                  : html`<ul class="plain">
                      ${config.args.map((arg) => html`<li>${shown(arg)}</li>`)}
                    </ul>`
              }
            </td>
            <td>${when(config.updatedAt)}</td>
            <td>
              <form
                method="post"
                action="${ui(`/tenants/${encodeURIComponent(tenant)}/servers/${encodeURIComponent(config.server)}/delete`)}"
              >
                ${csrfField(c.get('session'))}
                <button type="submit" aria-label="Remove the config of ${config.server}">Remove</button>
              </form>
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function form(c: DashboardContext, tenant: string): Html {
  const action = ui(`/tenants/${encodeURIComponent(tenant)}/servers`);
  return html`<form
    method="post"
    action="${action}"
    hx-post="${action}"
    hx-target="#server-configs"
    hx-swap="innerHTML"
    class="card"
    aria-labelledby="config-heading"
  >
    <h2 id="config-heading">Register or update a server config</h2>
    ${csrfField(c.get('session'))}
    <label for="config-server">Server</label>
    <input id="config-server" name="server" required aria-describedby="config-server-hint" />
    <p id="config-server-hint" class="hint">A <code>mode: tenant</code> server of the gateway's config.</p>
    <fieldset>
      <legend>Change</legend>
      <label><input type="radio" name="mode" value="replace" checked /> Replace the whole config (PUT)</label>
      <label><input type="radio" name="mode" value="update" /> Change only the names given (PATCH)</label>
    </fieldset>
    <label for="config-env">Environment, one <code>NAME=value</code> a line</label>
    <textarea id="config-env" name="env" rows="3"></textarea>
    <label for="config-secrets"
      >Secrets, one <code>NAME=value</code> a line (write-only: never shown again)</label
    >
    <textarea id="config-secrets" name="secrets" rows="2" autocomplete="off"></textarea>
    <label for="config-args">Arguments, one a line (empty: the server's own)</label>
    <textarea id="config-args" name="args" rows="2"></textarea>
    <label for="config-remove">Names to remove (update only)</label>
    <input id="config-remove" name="remove" />
    <button type="submit">Save and start the server</button>
  </form>`;
}
