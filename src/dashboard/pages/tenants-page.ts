/**
 * Tenants: the list (a tenant admin's has only its own), and for a platform admin: create,
 * suspend or resume, set the tier (`/tenants`, `PATCH /tenants/{id}`). Config-managed tenants
 * are refused by the API (409) and shown as such.
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

export type TenantOut = {
  id: string;
  name: string;
  tier: string;
  status: 'active' | 'suspended' | 'deleted';
  managedBy: 'config' | 'store';
  createdAt: string | null;
};

export function tenantsPages(app: DashboardApp, _deps: DashboardDeps): void {
  app.get('/tenants', (c) => render(c));

  app.post('/tenants', async (c) => {
    const form = await c.req.parseBody();
    const tier = field(form, 'tier');
    const created = await c.get('api')('POST', '/tenants', {
      id: field(form, 'id'),
      name: field(form, 'name'),
      ...(tier === '' ? {} : { tier }),
    });
    if (!created.ok) return render(c, created.problem);
    flash(c, `Tenant ${field(form, 'id')} created.`);
    return c.redirect(ui('/tenants'), 303);
  });

  app.post('/tenants/:id/update', async (c) => {
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const patch: Record<string, string> = {};
    const status = field(form, 'status');
    const tier = field(form, 'tier');
    if (status !== '') patch.status = status;
    if (tier !== '') patch.tier = tier;
    const updated = await c.get('api')('PATCH', `/tenants/${encodeURIComponent(id)}`, patch);
    if (!updated.ok) return render(c, updated.problem);
    flash(c, `Tenant ${id} updated.`);
    return c.redirect(ui('/tenants'), 303);
  });
}

async function render(c: DashboardContext, problem?: Problem): Promise<Response> {
  const session = c.get('session');
  const cursor = c.req.query('cursor');
  const list = await c.get('api')<{ tenants: TenantOut[]; nextCursor?: string }>(
    'GET',
    pageOf('/tenants', cursor),
  );
  const platform = session.role === 'platform-admin';
  const flashed = c.get('flash');
  const body = html`${flashed ? notice(flashed) : ''} ${problem ? problemBox(problem) : ''}
  ${
    list.ok
      ? html`${table(session.csrf, list.body.tenants, platform)}
        ${pager(ui('/tenants'), cursor, list.body.nextCursor)}`
      : // A refused cursor (a stale or edited link): say why, and offer the way back.
        html`${problemBox(list.problem)} ${pager(ui('/tenants'), cursor, undefined)}`
  }
  ${platform ? createForm(c) : ''}`;
  return c.html(
    page(session, 'Tenants', ui('/tenants'), body),
    statusOf(problem ?? (list.ok ? undefined : list.problem)),
  );
}

function table(csrf: string, tenants: TenantOut[], platform: boolean): Html {
  return html`<table>
    <caption>
      Tenants
    </caption>
    <thead>
      <tr>
        <th scope="col">Tenant</th>
        <th scope="col">Name</th>
        <th scope="col">Tier</th>
        <th scope="col">Status</th>
        <th scope="col">Created</th>
        <th scope="col">Manage</th>
        ${platform ? html`<th scope="col">Change</th>` : ''}
      </tr>
    </thead>
    <tbody>
      ${tenants.map(
        (tenant) =>
          html`<tr>
            <th scope="row">${tenant.id}</th>
            <td>${tenant.name}</td>
            <td>${tenant.tier}</td>
            <td><span class="badge ${tenant.status}">${tenant.status}</span></td>
            <td>${tenant.managedBy === 'config' ? 'in the config file' : when(tenant.createdAt)}</td>
            <td>
              <a href="${ui(`/tenants/${tenant.id}/keys`)}">keys</a> ·
              <a href="${ui(`/tenants/${tenant.id}/servers`)}">server configs</a> ·
              <a href="${ui(`/tenants/${tenant.id}/usage`)}">usage</a>
            </td>
            ${platform ? html`<td>${tenant.managedBy === 'config' ? html`<span class="muted">change it in the config file</span>` : changeForms(csrf, tenant)}</td>` : ''}
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function changeForms(csrf: string, tenant: TenantOut): Html {
  const next = tenant.status === 'active' ? 'suspended' : 'active';
  return html`<form method="post" action="${ui(`/tenants/${tenant.id}/update`)}" class="inline">
      <input type="hidden" name="_csrf" value="${csrf}" />
      <input type="hidden" name="status" value="${next}" />
      <button type="submit">${next === 'suspended' ? 'Suspend' : 'Resume'} ${tenant.id}</button>
    </form>
    <form method="post" action="${ui(`/tenants/${tenant.id}/update`)}" class="inline">
      <input type="hidden" name="_csrf" value="${csrf}" />
      <label for="tier-${tenant.id}">Tier of ${tenant.id}</label>
      <input id="tier-${tenant.id}" name="tier" value="${tenant.tier}" required size="10" />
      <button type="submit">Set tier</button>
    </form>`;
}

function createForm(c: DashboardContext): Html {
  return html`<form method="post" action="${ui('/tenants')}" class="card" aria-labelledby="new-tenant">
    <h2 id="new-tenant">New tenant</h2>
    ${csrfField(c.get('session'))}
    <label for="tenant-id">Id</label>
    <input
      id="tenant-id"
      name="id"
      required
      pattern="[a-z][a-z0-9-]{0,62}"
      aria-describedby="tenant-id-hint"
    />
    <p id="tenant-id-hint" class="hint">Lowercase letters, digits and dashes, starting with a letter.</p>
    <label for="tenant-name">Name</label>
    <input id="tenant-name" name="name" required maxlength="200" />
    <label for="tenant-tier">Tier (optional)</label>
    <input id="tenant-tier" name="tier" maxlength="64" />
    <button type="submit">Create tenant</button>
  </form>`;
}
