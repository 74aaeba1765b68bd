/**
 * The usage, quota, audit and breaker views against the shared API contracts (common.md), which
 * other branches build: until they are merged, a stand-in admin API answers exactly those
 * shapes, and the real dashboard renders them in Chromium. The same views are tested against
 * the real gateway in dashboard-browser.test.ts once the endpoints exist.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard } from '../../src/dashboard/dashboard-app.ts';
import { silentLogger } from '../../src/log.ts';
import { HAS_CHROMIUM, NO_CHROMIUM, launchChromium, loggedIn } from './browser-harness.ts';

const KEY = 'mcpl_standin_platform_key';
const usageRows = (groups: string[]) =>
  groups.map((group, index) => ({
    group,
    calls: 10 * (index + 1),
    errors: index,
    bytesIn: 100,
    bytesOut: 200,
    cpuSeconds: 0.5,
    wallSeconds: 1,
    cost: 0.01 * (index + 1),
  }));

/** The admin API as the contracts say, for one platform admin and one tenant. */
function standInAdmin(): { app: Hono; audits: string[] } {
  const audits: string[] = [];
  const app = new Hono();
  app.use('*', async (c, next) => {
    if (c.req.header('authorization') !== `Bearer ${KEY}`)
      return c.json({ detail: 'No valid credential' }, 401);
    await next();
  });
  // Two pages of one tenant each: the first says more follow.
  app.get('/tenants', (c) =>
    c.req.query('cursor') === 'acme'
      ? c.json({
          tenants: [
            {
              id: 'globex',
              name: 'Globex',
              tier: 'team',
              status: 'active',
              managedBy: 'store',
              createdAt: null,
            },
          ],
        })
      : c.json({
          tenants: [
            { id: 'acme', name: 'Acme', tier: 'pro', status: 'active', managedBy: 'store', createdAt: null },
          ],
          nextCursor: 'acme',
        }),
  );
  app.get('/status', (c) =>
    c.json({
      sessions: 3,
      ready: true,
      sessionsByTenant: { acme: 3 },
      calls: { requests: 40, errors: 2 },
      servers: {
        kb: {
          mode: 'tenant',
          pools: [{ name: 'kb', size: 1, ready: 1, waiting: 0 }],
          breakers: [
            { tenant: 'acme', state: 'open', retryAt: '2026-12-01T10:00:30.000Z' },
            { tenant: 'globex', state: 'closed' },
          ],
        },
      },
    }),
  );
  app.get('/tenants/acme/usage', (c) => {
    const by = c.req.query('groupBy') ?? 'day';
    if (!c.req.query('since') || !c.req.query('until')) return c.json({ detail: 'since and until' }, 400);
    const groups =
      { day: ['2026-11-30', '2026-12-01'], tool: ['kb__search', 'kb__fetch'], key: ['key:k1'] }[by] ?? [];
    return c.json({
      tenant: 'acme',
      since: c.req.query('since'),
      until: c.req.query('until'),
      groupBy: by,
      rows: usageRows(groups),
    });
  });
  app.get('/tenants/acme/limits', (c) =>
    c.json({
      tenant: 'acme',
      tier: 'pro',
      rateLimits: {},
      quota: { monthlyCalls: 1000, used: 930, resetAt: '2027-01-01T00:00:00.000Z' },
      overrides: {},
    }),
  );
  app.get('/usage/export', (c) =>
    c.body(`tenant,calls\nacme,${c.req.query('period')}\n`, 200, { 'content-type': 'text/csv' }),
  );
  app.get('/audit', (c) => {
    audits.push(new URL(c.req.url).search);
    const second = c.req.query('cursor') === 'page-2';
    const record = (seq: number) => ({
      seq,
      time: '2026-12-01T10:00:00.000Z',
      kind: 'tool-call',
      tenant: 'acme',
      principal: 'key:k1',
      method: 'tools/call',
      tool: `tool-${seq}`,
      server: 'kb',
      outcome: 'ok',
      latencyMs: 4,
    });
    return c.json(
      second ? { records: [record(3)] } : { records: [record(1), record(2)], nextCursor: 'page-2' },
    );
  });
  app.get('/audit/verify', (c) =>
    c.json({ ok: false, checked: 3, problems: [{ seq: 2, kind: 'hash', detail: 'hash does not match' }] }),
  );
  app.notFound((c) => c.json({ detail: 'No such admin endpoint' }, 404));
  return { app, audits };
}

describe.skipIf(!HAS_CHROMIUM)(
  `dashboard views of the shared contracts${HAS_CHROMIUM ? '' : ` (${NO_CHROMIUM})`}`,
  { timeout: 60_000 },
  () => {
    let browser: Browser;
    let server: Server;
    let origin: string;
    const admin = standInAdmin();

    beforeAll(async () => {
      browser = await launchChromium();
      const dashboard = createDashboard({
        admin: (request) => admin.app.fetch(request),
        log: silentLogger(),
        secureCookies: false,
      });
      let listening: (info: AddressInfo) => void = () => undefined;
      const address = new Promise<AddressInfo>((resolve) => (listening = resolve));
      server = serve({ fetch: dashboard.fetch, hostname: '127.0.0.1', port: 0 }, (info) =>
        listening(info),
      ) as Server;
      origin = `http://127.0.0.1:${(await address).port}`;
    });
    afterAll(async () => {
      await browser?.close();
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    });

    it('the usage page draws each grouping from its rows, shows the quota gauge and exports CSV, with no CSP violation', async () => {
      const { page } = await loggedIn(browser, origin, KEY);
      const violations: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
      });
      await page.goto('/ui/tenants/acme/usage');
      expect(await page.locator('table[data-usage="tool"]').textContent()).toContain('kb__search');
      expect(await page.locator('table[data-usage="day"]').textContent()).toContain('2026-12-01');
      expect(await page.locator('table[data-usage="key"]').textContent()).toContain('key:k1');
      await expect.poll(() => page.locator('canvas[data-drawn="true"]').count(), { timeout: 10_000 }).toBe(3);
      expect(await page.getByRole('meter').getAttribute('value')).toBe('930');
      expect(await page.getByText('Monthly calls: 930 of 1000').count()).toBe(1);
      const download = await page.request.get('/ui/usage/export.csv?period=2026-12');
      expect(download.headers()['content-disposition']).toContain('mcplane-usage-2026-12.csv');
      expect(await download.text()).toBe('tenant,calls\nacme,2026-12\n');
      expect((await page.request.get('/ui/usage/export.csv?period=12-2026')).status()).toBe(400);
      expect(violations).toEqual([]);
    });

    it('the audit page passes the filters, pages with the cursor and shows a broken chain', async () => {
      const { page } = await loggedIn(browser, origin, KEY);
      await page.goto('/ui/audit');
      expect(await page.locator('[data-chain]').getAttribute('data-chain')).toBe('broken');
      expect(await page.getByRole('status').first().textContent()).toContain('does not verify');
      await page.getByLabel('Tenant').fill('acme');
      await page.getByLabel('Tool').fill('kb__search');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL(/tool=kb__search/);
      expect(admin.audits.at(-1)).toContain('tenant=acme');
      expect(admin.audits.at(-1)).toContain('tool=kb__search');
      expect(await page.getByRole('table', { name: 'Records' }).textContent()).toContain('tool-2');
      await page.getByRole('link', { name: 'Next page' }).click();
      await page.waitForURL(/cursor=page-2/);
      expect(admin.audits.at(-1)).toContain('cursor=page-2');
      expect(admin.audits.at(-1)).toContain('tenant=acme');
      expect(await page.getByRole('table', { name: 'Records' }).textContent()).toContain('tool-3');
      expect(await page.getByRole('link', { name: 'Next page' }).count()).toBe(0);
    });

    it('the tenants page follows the API’s pages with Next and First page links', async () => {
      const { page } = await loggedIn(browser, origin, KEY);
      await page.goto('/ui/tenants');
      const tenants = page.getByRole('table', { name: 'Tenants' });
      expect(await tenants.textContent()).toContain('Acme');
      expect(await page.getByRole('link', { name: 'First page' }).count()).toBe(0);
      await page.getByRole('link', { name: 'Next page' }).click();
      await page.waitForURL(/cursor=acme/);
      expect(await tenants.textContent()).toContain('Globex');
      expect(await tenants.textContent()).not.toContain('Acme');
      expect(await page.getByRole('link', { name: 'Next page' }).count()).toBe(0);
      await page.getByRole('link', { name: 'First page' }).click();
      await page.waitForURL((url) => !url.search.includes('cursor'));
      expect(await tenants.textContent()).toContain('Acme');
    });

    it('the overview shows each server’s breakers and marks a server with an open one degraded', async () => {
      const { page } = await loggedIn(browser, origin, KEY);
      const servers = page.getByRole('table', { name: 'Servers' });
      expect((await servers.innerText()).replace(/\s+/g, ' ')).toContain(
        'open acme (retry at 2026-12-01T10:00:30.000Z)',
      );
      expect(await servers.getByText('degraded').count()).toBe(1);
    });
  },
);
