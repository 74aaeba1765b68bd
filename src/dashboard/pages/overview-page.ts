/**
 * Overview: sessions, calls per second, error rate, and each server's health and breaker state,
 * from `GET /status`, refreshed every two seconds (htmx polls the fragment). Rates come from two
 * readings of the status's request counters, so the first reading shows none yet. A tenant admin
 * may not read the gateway status (403): it sees its own pools (`GET /pools`) instead.
 */
import { html } from 'hono/html';
import type { AdminReply } from '../admin-calls.ts';
import type { DashboardApp, DashboardContext, DashboardDeps } from '../dashboard-context.ts';
import { notice, page, problemBox, ui, type Html } from '../page-layout.ts';

type Breaker = { tenant: string; state: 'closed' | 'open' | 'half-open'; retryAt?: string };
type ServerStatus = {
  mode: string;
  pools: { name: string; size: number; ready: number; waiting: number }[];
  dedicated?: number;
  spares?: number;
  breakers?: Breaker[];
};
type Status = {
  sessions: number;
  ready: boolean;
  servers: Record<string, ServerStatus>;
  sessionsByTenant: Record<string, number>;
  calls: { requests: number; errors: number } | null;
};

export function overviewPages(app: DashboardApp, _deps: DashboardDeps): void {
  app.get('/', async (c) => {
    const flash = c.get('flash');
    const body = html`${flash ? notice(flash) : ''}
      <section
        id="live"
        aria-labelledby="live-heading"
        hx-get="${ui('/overview/live')}"
        hx-trigger="every 2s"
        hx-swap="innerHTML"
      >
        ${await live(c)}
      </section>`;
    return c.html(page(c.get('session'), 'Overview', ui('/'), body));
  });
  app.get('/overview/live', async (c) => c.html(await live(c)));
}

async function live(c: DashboardContext): Promise<Html> {
  const session = c.get('session');
  const status = await c.get('api')<Status>('GET', '/status');
  if (!status.ok) return status.status === 403 ? tenantOverview(c) : problemBox(status.problem);
  const now = Date.now();
  const { calls } = status.body;
  const previous = session.lastCalls;
  let rate = '—';
  let errorRate = '—';
  if (calls && previous && now > previous.at) {
    const requests = calls.requests - previous.requests;
    const errors = calls.errors - previous.errors;
    rate = (requests / ((now - previous.at) / 1000)).toFixed(1);
    errorRate = requests > 0 ? `${((errors / requests) * 100).toFixed(1)} %` : '0 %';
  }
  if (calls) session.lastCalls = { at: now, ...calls };
  return html`<h2 id="live-heading">Live</h2>
    <dl class="figures">
      <div>
        <dt>Sessions</dt>
        <dd data-figure="sessions">${status.body.sessions}</dd>
      </div>
      <div>
        <dt>Calls / s</dt>
        <dd data-figure="calls-per-second">${rate}</dd>
      </div>
      <div>
        <dt>Error rate</dt>
        <dd data-figure="error-rate">${errorRate}</dd>
      </div>
      <div>
        <dt>Requests so far</dt>
        <dd>${calls ? calls.requests : 'metrics off'}</dd>
      </div>
      <div>
        <dt>Gateway</dt>
        <dd>${status.body.ready ? 'ready' : 'warming up'}</dd>
      </div>
    </dl>
    ${calls ? '' : html`<p class="hint">Call rates need <code>gateway.metrics.enabled</code>.</p>`}
    <table>
      <caption>
        Servers
      </caption>
      <thead>
        <tr>
          <th scope="col">Server</th>
          <th scope="col">Mode</th>
          <th scope="col">Health</th>
          <th scope="col">Processes (ready / alive)</th>
          <th scope="col">Queued</th>
          <th scope="col">Breakers</th>
        </tr>
      </thead>
      <tbody>
        ${Object.entries(status.body.servers).map(([name, server]) => serverRow(name, server))}
      </tbody>
    </table>
    ${sessionsByTenant(status.body.sessionsByTenant)}`;
}

function serverRow(name: string, server: ServerStatus): Html {
  const alive = server.pools.reduce((sum, pool) => sum + pool.size, 0) + (server.dedicated ?? 0);
  const ready = server.pools.reduce((sum, pool) => sum + pool.ready, 0) + (server.dedicated ?? 0);
  const queued = server.pools.reduce((sum, pool) => sum + pool.waiting, 0);
  const open = (server.breakers ?? []).filter((breaker) => breaker.state !== 'closed');
  const health = open.length > 0 ? 'degraded' : alive === 0 ? 'idle' : ready === 0 ? 'starting' : 'healthy';
  return html`<tr>
    <th scope="row">${name}</th>
    <td>${server.mode}</td>
    <td><span class="badge ${health}">${health}</span></td>
    <td>${ready} / ${alive}${server.spares ? ` (+${server.spares} spare)` : ''}</td>
    <td>${queued}</td>
    <td>${breakers(server.breakers)}</td>
  </tr>`;
}

function breakers(list: Breaker[] | undefined): Html | string {
  if (list === undefined) return html`<span class="muted">not reported by this gateway</span>`;
  if (list.length === 0) return 'all closed';
  return html`<ul class="plain">
    ${list.map(
      (breaker) =>
        html`<li>
          <span class="badge ${breaker.state}">${breaker.state}</span>
          ${breaker.tenant}${breaker.retryAt ? html` (retry at ${breaker.retryAt})` : ''}
        </li>`,
    )}
  </ul>`;
}

function sessionsByTenant(counts: Record<string, number>): Html {
  const entries = Object.entries(counts);
  if (entries.length === 0) return html`<p>No open sessions.</p>`;
  return html`<table>
    <caption>
      Sessions by tenant
    </caption>
    <thead>
      <tr>
        <th scope="col">Tenant</th>
        <th scope="col">Sessions</th>
      </tr>
    </thead>
    <tbody>
      ${entries.map(
        ([tenant, count]) =>
          html`<tr>
            <th scope="row">${tenant}</th>
            <td>${count}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

type Pools = {
  servers: { server: string; pools: { size: number; ready: number; inflight: number; queued: number }[] }[];
};

async function tenantOverview(c: DashboardContext): Promise<Html> {
  const tenant = c.get('session').tenantId;
  const pools: AdminReply<Pools> = await c.get('api')<Pools>('GET', '/pools');
  const rows = pools.ok
    ? pools.body.servers.map(
        (server) =>
          html`<tr>
            <th scope="row">${server.server}</th>
            <td>
              ${server.pools.reduce((sum, pool) => sum + pool.ready, 0)} /
              ${server.pools.reduce((sum, pool) => sum + pool.size, 0)}
            </td>
            <td>${server.pools.reduce((sum, pool) => sum + pool.inflight, 0)}</td>
            <td>${server.pools.reduce((sum, pool) => sum + pool.queued, 0)}</td>
          </tr>`,
      )
    : [];
  return html`<h2 id="live-heading">Tenant ${tenant}</h2>
    <p class="hint">
      Gateway-wide figures (sessions, call rates, every server's breakers) need a platform admin.
    </p>
    ${
      pools.ok
        ? html`<table>
            <caption>
              Your servers' pools
            </caption>
            <thead>
              <tr>
                <th scope="col">Server</th>
                <th scope="col">Processes (ready / alive)</th>
                <th scope="col">In flight</th>
                <th scope="col">Queued</th>
              </tr>
            </thead>
            <tbody>
              ${
                rows.length > 0
                  ? rows
                  : html`<tr>
                      <td colspan="4">No pools of your own are running.</td>
                    </tr>`
              }
            </tbody>
          </table>`
        : problemBox(pools.problem)
    }`;
}
