/**
 * Pools: each server's process pools with their processes, calls in flight, queue and
 * restarts (`GET /pools`), and draining one process (`POST /pools/{server}/processes/{pid}/drain`).
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
import { notice, page, problemBox, ui, unavailable, type Html } from '../page-layout.ts';
import { notAvailable } from '../admin-calls.ts';

type Process = { pid: number | null; ready: boolean; inflight: number; served: number; draining: boolean };
type Pool = {
  tenant: string | null;
  retired: boolean;
  size: number;
  ready: number;
  inflight: number;
  queued: number;
  queueLimit: number;
  processes: Process[];
};
type ServerPools = {
  server: string;
  mode: string;
  restarts: number | null;
  crashed: number | null;
  pools: Pool[];
};

export function poolsPages(app: DashboardApp, _deps: DashboardDeps): void {
  app.get('/pools', (c) => render(c));
  app.post('/pools/:server/processes/:pid/drain', async (c) => {
    const { server, pid } = c.req.param();
    const drained = await c.get('api')(
      'POST',
      `/pools/${encodeURIComponent(server)}/processes/${encodeURIComponent(pid)}/drain`,
    );
    if (!drained.ok) return render(c, drained.problem);
    flash(
      c,
      `Process ${pid} of ${server} is draining: it takes no new calls and stops when its calls are done.`,
    );
    return c.redirect(ui('/pools'), 303);
  });
}

async function render(c: DashboardContext, problem?: Problem): Promise<Response> {
  const session = c.get('session');
  const pools = await c.get('api')<{ servers: ServerPools[] }>('GET', '/pools');
  const flashed = c.get('flash');
  const body = html`${flashed ? notice(flashed) : ''} ${problem ? problemBox(problem) : ''}
  ${
    pools.ok
      ? pools.body.servers.length === 0
        ? html`<p>No pools are running.</p>`
        : pools.body.servers.map((server) => serverSection(session.csrf, server))
      : notAvailable(pools)
        ? unavailable('Pool detail')
        : problemBox(pools.problem)
  }`;
  return c.html(
    page(session, 'Pools', ui('/pools'), body),
    statusOf(problem ?? (pools.ok ? undefined : pools.problem)),
  );
}

function serverSection(csrf: string, server: ServerPools): Html {
  return html`<section aria-labelledby="pool-${server.server}">
    <h2 id="pool-${server.server}">${server.server} <span class="muted">(${server.mode})</span></h2>
    ${server.restarts === null ? '' : html`<p>Restarts: ${server.restarts}; crashes: ${server.crashed}</p>`}
    ${server.pools.length === 0 ? html`<p>No pooled processes (session mode dedicates one per session).</p>` : ''}
    ${server.pools.map(
      (pool) =>
        html`<table>
          <caption>
            ${pool.tenant === null ? 'Shared pool' : html`Pool of tenant ${pool.tenant}`}${pool.retired ? ' (retired, finishing its calls)' : ''}:
            ${pool.ready}/${pool.size} ready, ${pool.inflight} in flight, ${pool.queued}/${pool.queueLimit}
            queued
          </caption>
          <thead>
            <tr>
              <th scope="col">Process</th>
              <th scope="col">State</th>
              <th scope="col">In flight</th>
              <th scope="col">Served</th>
              <th scope="col">Drain</th>
            </tr>
          </thead>
          <tbody>
            ${pool.processes.map(
              (process) =>
                html`<tr>
                  <th scope="row">pid ${process.pid ?? '?'}</th>
                  <td>${process.draining ? 'draining' : process.ready ? 'ready' : 'starting'}</td>
                  <td>${process.inflight}</td>
                  <td>${process.served}</td>
                  <td>
                    ${
                      process.pid !== null && !process.draining
                        ? html`<form
                            method="post"
                            action="${ui(`/pools/${encodeURIComponent(server.server)}/processes/${process.pid}/drain`)}"
                          >
                            <input type="hidden" name="_csrf" value="${csrf}" />
                            <button
                              type="submit"
                              aria-label="Drain process ${process.pid} of ${server.server}"
                            >
                              Drain
                            </button>
                          </form>`
                        : ''
                    }
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>`,
    )}
  </section>`;
}
