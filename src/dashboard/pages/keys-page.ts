/**
 * A tenant's API keys: create (the key is shown this once, with a copy button), rotate with a
 * grace period (the new key likewise), suspend, resume and revoke. The page that shows a new key
 * is the answer to the POST itself, never stored or cached (no-store), and no later page has it:
 * the API keeps only a keyed hash.
 */
import { html } from 'hono/html';
import type { Problem } from '../admin-calls.ts';
import {
  field,
  flash,
  statusOf,
  type DashboardApp,
  type DashboardContext,
  type DashboardDeps,
} from '../dashboard-context.ts';
import { csrfField, notice, page, pageOf, pager, problemBox, ui, when, type Html } from '../page-layout.ts';

type ApiKey = {
  id: string;
  name: string;
  role: string;
  state: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
  graceUntil: string | null;
};

const base = (tenant: string) => `/tenants/${encodeURIComponent(tenant)}/api-keys`;

export function keysPages(app: DashboardApp, _deps: DashboardDeps): void {
  app.get('/tenants/:id/keys', (c) => render(c, c.req.param('id')));

  app.post('/tenants/:id/keys', async (c) => {
    const tenant = c.req.param('id');
    const form = await c.req.parseBody();
    const expires = field(form, 'expiresAt');
    const created = await c.get('api')<ApiKey & { key: string }>('POST', base(tenant), {
      name: field(form, 'name'),
      role: field(form, 'role') || 'member',
      ...(expires === '' ? {} : { expiresAt: new Date(expires).toISOString() }),
    });
    if (!created.ok) return render(c, tenant, created.problem);
    return shownOnce(c, tenant, created.body, 'New key');
  });

  app.post('/tenants/:id/keys/:keyId/rotate', async (c) => {
    const { id: tenant, keyId } = c.req.param();
    const form = await c.req.parseBody();
    const grace = Number(field(form, 'graceSeconds') || '3600');
    const rotated = await c.get('api')<{ current: ApiKey & { key: string } }>(
      'POST',
      `${base(tenant)}/${encodeURIComponent(keyId)}/rotate`,
      { graceSeconds: grace },
    );
    if (!rotated.ok) return render(c, tenant, rotated.problem);
    return shownOnce(
      c,
      tenant,
      rotated.body.current,
      `Key ${keyId} rotated; the old key works for ${grace} s`,
    );
  });

  for (const verb of ['suspend', 'resume', 'revoke'] as const) {
    app.post(`/tenants/:id/keys/:keyId/${verb}`, async (c) => {
      const { id: tenant, keyId } = c.req.param();
      const path = `${base(tenant)}/${encodeURIComponent(keyId)}`;
      const done =
        verb === 'revoke'
          ? await c.get('api')('DELETE', path)
          : await c.get('api')('POST', `${path}/${verb}`);
      if (!done.ok) return render(c, tenant, done.problem);
      flash(
        c,
        `Key ${keyId}: ${verb === 'revoke' ? 'revoked' : verb === 'suspend' ? 'suspended' : 'resumed'}.`,
      );
      return c.redirect(ui(`/tenants/${encodeURIComponent(tenant)}/keys`), 303);
    });
  }
}

async function shownOnce(
  c: DashboardContext,
  tenant: string,
  key: ApiKey & { key: string },
  title: string,
): Promise<Response> {
  const body = html`<section class="card secret" aria-labelledby="once">
      <h2 id="once">${title}: copy it now</h2>
      <p>This is the only time the key is shown. mcplane keeps only a hash of it.</p>
      <label for="new-key">Key ${key.id} (${key.name}, ${key.role})</label>
      <div class="copy-row">
        <input id="new-key" readonly value="${key.key}" />
        <button type="button" data-copy="#new-key">Copy</button>
      </div>
      <p class="hint" data-copy-status="#new-key" role="status"></p>
    </section>
    <p><a href="${ui(`/tenants/${encodeURIComponent(tenant)}/keys`)}">Back to the keys of ${tenant}</a></p>`;
  return c.html(page(c.get('session'), title, '', body), 201);
}

async function render(c: DashboardContext, tenant: string, problem?: Problem): Promise<Response> {
  const session = c.get('session');
  const cursor = c.req.query('cursor');
  const list = await c.get('api')<{ apiKeys: ApiKey[]; nextCursor?: string }>(
    'GET',
    pageOf(base(tenant), cursor),
  );
  const flashed = c.get('flash');
  const here = ui(`/tenants/${encodeURIComponent(tenant)}/keys`);
  const body = list.ok
    ? html`${flashed ? notice(flashed) : ''} ${problem ? problemBox(problem) : ''}
      ${table(session.csrf, tenant, list.body.apiKeys)} ${pager(here, cursor, list.body.nextCursor)}
      ${createForm(c, tenant)}`
    : html`${problemBox(list.problem)} ${pager(here, cursor, undefined)}`;
  return c.html(
    page(session, `Keys of ${tenant}`, here, body),
    statusOf(problem ?? (list.ok ? undefined : list.problem)),
  );
}

function table(csrf: string, tenant: string, keys: ApiKey[]): Html {
  if (keys.length === 0) return html`<p>No keys yet.</p>`;
  const action = (key: ApiKey, verb: string, label: string) =>
    html`<form
      method="post"
      action="${ui(`/tenants/${encodeURIComponent(tenant)}/keys/${encodeURIComponent(key.id)}/${verb}`)}"
      class="inline"
    >
      <input type="hidden" name="_csrf" value="${csrf}" />
      <button type="submit" aria-label="${label} key ${key.name}">${label}</button>
    </form>`;
  return html`<table>
    <caption>
      Keys
    </caption>
    <thead>
      <tr>
        <th scope="col">Name</th>
        <th scope="col">Id</th>
        <th scope="col">Role</th>
        <th scope="col">State</th>
        <th scope="col">Last used</th>
        <th scope="col">Expires</th>
        <th scope="col">Actions</th>
      </tr>
    </thead>
    <tbody>
      ${keys.map(
        (key) =>
          html`<tr>
            <th scope="row">${key.name}</th>
            <td><code>${key.id}</code></td>
            <td>${key.role}</td>
            <td>
              <span class="badge ${key.state}">${key.state}</span
              >${key.graceUntil ? html` until ${when(key.graceUntil)}` : ''}
            </td>
            <td>${when(key.lastUsedAt) || 'never'}</td>
            <td>${when(key.expiresAt) || 'never'}</td>
            <td>
              ${
                key.state === 'active'
                  ? html`<form
                        method="post"
                        action="${ui(`/tenants/${encodeURIComponent(tenant)}/keys/${encodeURIComponent(key.id)}/rotate`)}"
                        class="inline"
                      >
                        <input type="hidden" name="_csrf" value="${csrf}" />
                        <label for="grace-${key.id}">Grace (s)</label>
                        <input
                          id="grace-${key.id}"
                          name="graceSeconds"
                          type="number"
                          min="0"
                          max="2592000"
                          value="3600"
                          size="7"
                        />
                        <button type="submit" aria-label="Rotate key ${key.name}">Rotate</button>
                      </form>
                      ${action(key, 'suspend', 'Suspend')}`
                  : ''
              }
              ${key.state === 'suspended' ? action(key, 'resume', 'Resume') : ''}
              ${key.state !== 'revoked' ? action(key, 'revoke', 'Revoke') : ''}
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function createForm(c: DashboardContext, tenant: string): Html {
  return html`<form
    method="post"
    action="${ui(`/tenants/${encodeURIComponent(tenant)}/keys`)}"
    class="card"
    aria-labelledby="new-key-heading"
  >
    <h2 id="new-key-heading">New key</h2>
    ${csrfField(c.get('session'))}
    <label for="key-name">Name</label>
    <input id="key-name" name="name" required maxlength="200" />
    <label for="key-role">Role</label>
    <select id="key-role" name="role">
      <option value="member">member (uses MCP)</option>
      <option value="tenant-admin">tenant-admin (manages this tenant)</option>
    </select>
    <label for="key-expires">Expires (optional)</label>
    <input id="key-expires" name="expiresAt" type="datetime-local" />
    <button type="submit">Create key</button>
  </form>`;
}
