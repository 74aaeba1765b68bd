/**
 * The audit log: filter by tenant, time and tool, page through it (`GET /audit`, a cursor per
 * page), and whether the hash chain verifies (`GET /audit/verify`). A tenant admin's answers
 * hold only its own tenant's records: the API scopes them.
 */
import { html } from 'hono/html';
import { notAvailable, type AdminReply } from '../admin-calls.ts';
import type { DashboardApp, DashboardDeps } from '../dashboard-context.ts';
import { page, problemBox, ui, unavailable, when, type Html } from '../page-layout.ts';

type AuditRecord = {
  seq?: number;
  time?: string;
  kind?: string;
  tenant?: string;
  principal?: string;
  method?: string;
  server?: string;
  tool?: string;
  outcome?: string;
  latencyMs?: number;
  decision?: { effect: string; rule: string };
};
type Verify = { ok: boolean; checked: number; problems: { seq: number; kind: string; detail: string }[] };

const FILTERS = ['tenant', 'since', 'until', 'tool'] as const;

export function auditPages(app: DashboardApp, _deps: DashboardDeps): void {
  app.get('/audit', async (c) => {
    const query = new URLSearchParams();
    for (const name of [...FILTERS, 'cursor'] as const) {
      const value = c.req.query(name)?.trim();
      if (!value) continue;
      query.set(name, name === 'since' || name === 'until' ? asIso(value) : value);
    }
    query.set('limit', '50');
    const [records, verify] = await Promise.all([
      c.get('api')<{ records: AuditRecord[]; nextCursor?: string }>('GET', `/audit?${query.toString()}`),
      c.get('api')<Verify>('GET', '/audit/verify'),
    ]);
    const filters = Object.fromEntries(FILTERS.map((name) => [name, c.req.query(name) ?? '']));
    const body = html`${chain(verify)} ${filterForm(filters)} ${list(records, filters)}`;
    return c.html(page(c.get('session'), 'Audit', ui('/audit'), body));
  });
}

/** `2026-12-01T10:00` (a datetime-local value) as ISO; anything else as given, for the API to judge. */
function asIso(value: string): string {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

function chain(verify: AdminReply<Verify>): Html {
  if (notAvailable(verify)) return unavailable('Audit chain verification');
  if (!verify.ok) return problemBox(verify.problem);
  const { ok, checked, problems } = verify.body;
  return html`<section aria-labelledby="chain-heading" class="card">
    <h2 id="chain-heading">Chain</h2>
    <p role="status" data-chain="${ok ? 'ok' : 'broken'}">
      <span class="badge ${ok ? 'closed' : 'open'}">${ok ? 'verifies' : 'does not verify'}</span>
      ${checked} records checked.
    </p>
    ${
      problems.length > 0
        ? html`<ul>
            ${problems.map((problem) => html`<li>seq ${problem.seq}: ${problem.kind}: ${problem.detail}</li>`)}
          </ul>`
        : ''
    }
  </section>`;
}

function filterForm(filters: Record<string, string>): Html {
  return html`<form
    method="get"
    action="${ui('/audit')}"
    class="card filters"
    aria-labelledby="filter-heading"
  >
    <h2 id="filter-heading">Filter</h2>
    <label for="audit-tenant">Tenant</label>
    <input id="audit-tenant" name="tenant" value="${filters.tenant}" />
    <label for="audit-since">Since</label>
    <input id="audit-since" name="since" type="datetime-local" value="${filters.since}" />
    <label for="audit-until">Until</label>
    <input id="audit-until" name="until" type="datetime-local" value="${filters.until}" />
    <label for="audit-tool">Tool</label>
    <input id="audit-tool" name="tool" value="${filters.tool}" />
    <button type="submit">Filter</button>
  </form>`;
}

function list(
  records: AdminReply<{ records: AuditRecord[]; nextCursor?: string }>,
  filters: Record<string, string>,
): Html {
  if (notAvailable(records)) return unavailable('The audit log');
  if (!records.ok) return problemBox(records.problem);
  const next = records.body.nextCursor;
  const nextQuery = new URLSearchParams({
    ...Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== '')),
    ...(next ? { cursor: next } : {}),
  });
  return html`<table>
      <caption>
        Records
      </caption>
      <thead>
        <tr>
          <th scope="col">Seq</th>
          <th scope="col">Time</th>
          <th scope="col">Tenant</th>
          <th scope="col">Principal</th>
          <th scope="col">What</th>
          <th scope="col">Outcome</th>
          <th scope="col">Decision</th>
          <th scope="col">ms</th>
        </tr>
      </thead>
      <tbody>
        ${
          records.body.records.length === 0
            ? html`<tr>
                <td colspan="8">No records match.</td>
              </tr>`
            : ''
        }
        ${records.body.records.map(
          (record) =>
            html`<tr>
              <th scope="row">${record.seq ?? ''}</th>
              <td>${when(record.time)}</td>
              <td>${record.tenant ?? ''}</td>
              <td>${record.principal ?? ''}</td>
              <td>
                ${record.method ?? record.kind ?? ''}${record.tool ? html` <code>${record.tool}</code>` : ''}${record.server ? html` on ${record.server}` : ''}
              </td>
              <td>${record.outcome ?? ''}</td>
              <td>${record.decision ? `${record.decision.effect} (${record.decision.rule})` : ''}</td>
              <td>${record.latencyMs ?? ''}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${next ? html`<p><a href="${ui(`/audit?${nextQuery.toString()}`)}" rel="next">Next page</a></p>` : ''}`;
}
