/**
 * Tool changes: tool definitions a server offered that differ from their pins, each with its
 * field-by-field diff and what the scan found, and approve or reject for those this credential
 * may decide (`GET /tool-changes`, `POST /tool-changes/{id}/approve|reject`).
 */
import { html } from 'hono/html';
import type { Problem } from '../admin-calls.ts';
import {
  flash,
  statusOf,
  type DashboardApp,
  type DashboardContext,
  type DashboardDeps,
} from '../dashboard-context.ts';
import { notice, page, problemBox, ui, when, type Html } from '../page-layout.ts';

type ToolChange = {
  id: string;
  tenantId: string | null;
  server: string;
  tool: string;
  kind: string;
  status: string;
  diff: { path: string; old?: unknown; new?: unknown }[];
  findings: { detector: string; action: string; where: string; detail?: string }[];
  decidable: boolean;
  createdAt: string;
  decidedBy: string | null;
};

const STATUSES = ['pending', 'approved', 'rejected'] as const;

export function toolChangesPages(app: DashboardApp, _deps: DashboardDeps): void {
  app.get('/tool-changes', (c) => render(c));
  for (const decision of ['approve', 'reject'] as const) {
    app.post(`/tool-changes/:id/${decision}`, async (c) => {
      const id = c.req.param('id');
      const decided = await c.get('api')<ToolChange>(
        'POST',
        `/tool-changes/${encodeURIComponent(id)}/${decision}`,
      );
      if (!decided.ok) return render(c, decided.problem);
      flash(
        c,
        `${decided.body.tool} on ${decided.body.server}: ${decision === 'approve' ? 'approved, the tool is released' : 'rejected, the tool stays held'}.`,
      );
      return c.redirect(ui('/tool-changes'), 303);
    });
  }
}

async function render(c: DashboardContext, problem?: Problem): Promise<Response> {
  const status = STATUSES.find((name) => name === c.req.query('status')) ?? 'pending';
  const changes = await c.get('api')<{ changes: ToolChange[] }>('GET', `/tool-changes?status=${status}`);
  const flashed = c.get('flash');
  const body = html`${flashed ? notice(flashed) : ''} ${problem ? problemBox(problem) : ''}
    <nav aria-label="Status">
      <ul class="tabs">
        ${STATUSES.map(
          (name) =>
            html`<li>
              <a
                href="${ui(`/tool-changes?status=${name}`)}"
                ${name === status ? html`aria-current="page"` : ''}
                >${name}</a
              >
            </li>`,
        )}
      </ul>
    </nav>
    ${
      changes.ok
        ? changes.body.changes.length === 0
          ? html`<p>No ${status} tool changes.</p>`
          : changes.body.changes.map((change) => card(c.get('session').csrf, change))
        : problemBox(changes.problem)
    }`;
  return c.html(
    page(c.get('session'), 'Tool changes', ui('/tool-changes'), body),
    statusOf(problem ?? (changes.ok ? undefined : changes.problem)),
  );
}

const shown = (value: unknown): string => (value === undefined ? '' : JSON.stringify(value, null, 2));

function card(csrf: string, change: ToolChange): Html {
  const decide = (decision: 'approve' | 'reject', label: string) =>
    html`<form
      method="post"
      action="${ui(`/tool-changes/${encodeURIComponent(change.id)}/${decision}`)}"
      class="inline"
    >
      <input type="hidden" name="_csrf" value="${csrf}" />
      <button type="submit" aria-label="${label} ${change.tool} on ${change.server}">${label}</button>
    </form>`;
  return html`<article class="card" aria-labelledby="change-${change.id}">
    <h2 id="change-${change.id}">
      <code>${change.tool}</code> on ${change.server}: ${change.kind}
      <span class="badge ${change.status}">${change.status}</span>
    </h2>
    <p class="hint">
      ${change.tenantId === null ? 'Global (every tenant)' : html`Tenant ${change.tenantId}`}, offered
      ${when(change.createdAt)}${change.decidedBy ? html`, decided by ${change.decidedBy}` : ''}
    </p>
    <table class="diff">
      <caption>
        What changed
      </caption>
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Pinned</th>
          <th scope="col">Offered</th>
        </tr>
      </thead>
      <tbody>
        ${change.diff.map(
          (entry) =>
            html`<tr>
              <th scope="row"><code>${entry.path}</code></th>
              <td><pre class="old">${shown(entry.old)}</pre></td>
              <td><pre class="new">${shown(entry.new)}</pre></td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${
      change.findings.length > 0
        ? html`<p>Scan findings:</p>
            <ul>
              ${change.findings.map((finding) => html`<li>${finding.detector} (${finding.action}) in ${finding.where}${finding.detail ? `: ${finding.detail}` : ''}</li>`)}
            </ul>`
        : ''
    }
    ${change.decidable ? html`<p>${decide('approve', 'Approve')} ${decide('reject', 'Reject')}</p>` : ''}
  </article>`;
}
