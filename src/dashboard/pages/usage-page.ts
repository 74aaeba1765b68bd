/**
 * Usage of one tenant: calls per day, per tool and per key (`GET /tenants/{id}/usage`), as
 * charts and, for screen readers and without JavaScript, as the tables they are drawn from;
 * quota gauges (`GET /tenants/{id}/limits`); and the month's CSV export (`GET /usage/export`).
 * On a gateway whose admin API has no such endpoint the page says so.
 */
import { html } from 'hono/html';
import { adminRaw, notAvailable, type AdminReply } from '../admin-calls.ts';
import type { DashboardApp, DashboardDeps } from '../dashboard-context.ts';
import { page, problemBox, ui, unavailable, type Html } from '../page-layout.ts';

type UsageRow = {
  group: string;
  calls: number;
  errors: number;
  bytesIn: number;
  bytesOut: number;
  cpuSeconds: number;
  wallSeconds: number;
  cost: number;
};
type Usage = { tenant: string; since: string; until: string; groupBy: string; rows: UsageRow[] };
type Limits = {
  tier: string;
  quota: { monthlyCalls?: number; used: number; resetAt: string };
};

const GROUPS = [
  { by: 'day', label: 'Calls per day' },
  { by: 'tool', label: 'Calls per tool' },
  { by: 'key', label: 'Calls per key' },
] as const;

const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;

export function usagePages(app: DashboardApp, deps: DashboardDeps): void {
  app.get('/tenants/:id/usage', async (c) => {
    const tenant = c.req.param('id');
    const until = new Date();
    const since = new Date(until.getTime() - 30 * 86_400_000);
    const query = (by: string) =>
      `/tenants/${encodeURIComponent(tenant)}/usage?${new URLSearchParams({ since: since.toISOString(), until: until.toISOString(), groupBy: by }).toString()}`;
    const [usages, limits] = await Promise.all([
      Promise.all(GROUPS.map((group) => c.get('api')<Usage>('GET', query(group.by)))),
      c.get('api')<Limits>('GET', `/tenants/${encodeURIComponent(tenant)}/limits`),
    ]);
    const period = until.toISOString().slice(0, 7);
    const body = html`${quota(limits)}
      ${usages.map((usage, index) => chart(GROUPS[index] as (typeof GROUPS)[number], usage))}
      <section aria-labelledby="export-heading">
        <h2 id="export-heading">Export</h2>
        <form method="get" action="${ui('/usage/export.csv')}" class="inline">
          <label for="export-period">Month</label>
          <input id="export-period" name="period" value="${period}" pattern="\\d{4}-\\d{2}" required />
          <button type="submit">Download CSV</button>
        </form>
      </section>`;
    const here = ui(`/tenants/${encodeURIComponent(tenant)}/usage`);
    return c.html(page(c.get('session'), `Usage of ${tenant}`, here, body));
  });

  app.get('/usage/export.csv', async (c) => {
    const period = c.req.query('period') ?? '';
    if (!PERIOD.test(period)) return c.text('period must be YYYY-MM\n', 400);
    const raw = await adminRaw(
      deps.admin,
      c.get('session').key,
      `/usage/export?${new URLSearchParams({ format: 'csv', period }).toString()}`,
    );
    if (raw.status === 404)
      return c.text(
        'The usage export is not available on this gateway (no such endpoint), or not for you.\n',
        404,
      );
    if (raw.status !== 200)
      return c.text(`The admin API refused the export (${raw.status}).\n`, raw.status as 400);
    return c.body(raw.text, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="mcplane-usage-${period}.csv"`,
    });
  });
}

function quota(limits: AdminReply<Limits>): Html {
  if (notAvailable(limits)) return unavailable('Quota');
  if (!limits.ok) return problemBox(limits.problem);
  const { monthlyCalls, used, resetAt } = limits.body.quota;
  return html`<section aria-labelledby="quota-heading">
    <h2 id="quota-heading">Quota (tier ${limits.body.tier})</h2>
    ${
      monthlyCalls === undefined
        ? html`<p>No monthly call quota: ${used} calls this month.</p>`
        : html`<label for="quota-calls">Monthly calls: ${used} of ${monthlyCalls}</label>
            <meter
              id="quota-calls"
              min="0"
              max="${monthlyCalls}"
              low="${Math.round(monthlyCalls * 0.7)}"
              high="${Math.round(monthlyCalls * 0.9)}"
              optimum="0"
              value="${used}"
            >
              ${used} of ${monthlyCalls}
            </meter>`
    }
    <p class="hint">Resets at ${resetAt}.</p>
  </section>`;
}

function chart(group: (typeof GROUPS)[number], usage: AdminReply<Usage>): Html {
  const id = `usage-${group.by}`;
  if (notAvailable(usage))
    return html`<section aria-labelledby="${id}">
      <h2 id="${id}">${group.label}</h2>
      ${unavailable('Usage metering')}
    </section>`;
  if (!usage.ok)
    return html`<section aria-labelledby="${id}">
      <h2 id="${id}">${group.label}</h2>
      ${problemBox(usage.problem)}
    </section>`;
  const rows = usage.body.rows;
  // A row without a group holds what no call can be charged with: a tenant process's own start-up
  // and idle time, charged to its tenant as a whole (docs/metering.md).
  const label = (row: UsageRow): string => (row.group === '' ? `(no ${group.by})` : row.group);
  const data = JSON.stringify({
    labels: rows.map(label),
    series: [
      { label: 'calls', values: rows.map((row) => row.calls) },
      { label: 'errors', values: rows.map((row) => row.errors) },
    ],
  });
  return html`<section aria-labelledby="${id}">
    <h2 id="${id}">${group.label}</h2>
    ${
      rows.length === 0
        ? html`<p>No calls in the last 30 days.</p>`
        : html`<div class="chart">
              <canvas
                data-chart="${data}"
                role="img"
                aria-label="${group.label}, as the table below"
              ></canvas>
            </div>
            <table data-usage="${group.by}">
              <caption>
                ${group.label} (last 30 days)
              </caption>
              <thead>
                <tr>
                  <th scope="col">${group.by}</th>
                  <th scope="col">Calls</th>
                  <th scope="col">Errors</th>
                  <th scope="col">Bytes in</th>
                  <th scope="col">Bytes out</th>
                  <th scope="col">CPU s</th>
                  <th scope="col">Wall s</th>
                  <th scope="col">Cost</th>
                </tr>
              </thead>
              <tbody>
                ${rows.map(
                  (row) =>
                    html`<tr>
                      <th scope="row">${label(row)}</th>
                      <td>${row.calls}</td>
                      <td>${row.errors}</td>
                      <td>${row.bytesIn}</td>
                      <td>${row.bytesOut}</td>
                      <td>${row.cpuSeconds}</td>
                      <td>${row.wallSeconds}</td>
                      <td>${row.cost}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
    }
  </section>`;
}
