import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.ts';
import { sqliteBackend } from '../admin/admin-harness.ts';
import { bearer, connectHttpClient, startHttpGateway, stopHttpGateways } from '../http/http-harness.ts';
import { capturedLog, WARN } from '../support/captured-log.ts';
import { callsUntilRefused, limitedConfig } from './limits-harness.ts';

const backend = sqliteBackend();

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});
afterAll(async () => {
  await backend.cleanup();
});

/** A clock the test moves. */
function clockAt(iso: string): { now: () => Date; set(iso: string): void } {
  let at = Date.parse(iso);
  return { now: () => new Date(at), set: (next) => (at = Date.parse(next)) };
}

describe('monthly quotas', () => {
  it("a tenant's quota refuses the call past it, saying when it resets; the next month starts from zero", async () => {
    const clock = clockAt('2026-11-30T23:59:00.000Z');
    const { config, keys } = limitedConfig({ quota: { monthlyCalls: 3 } });
    const http = await startHttpGateway(config, { now: clock.now });
    const { client } = await connectHttpClient(http, bearer(keys.a1));
    const november = await callsUntilRefused(client, 'fx__echo', 5);
    expect(november.passed).toBe(3);
    expect(november.refusal?.code).toBe(-32047);
    expect(november.refusal?.message).toBe('monthly quota of 3 tool calls exceeded; resets on 2026-12-01');
    expect(november.refusal?.data).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      limit: 3,
      scope: 'tenant',
      retryAfterMs: 60_000,
      retryAfterSeconds: 60,
      resetAt: '2026-12-01T00:00:00.000Z',
    });
    // The other key of the tenant shares the tenant's quota; lists are not tool calls.
    const { client: other } = await connectHttpClient(http, bearer(keys.a2));
    expect((await callsUntilRefused(other, 'fx__echo', 1)).passed).toBe(0);
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);

    clock.set('2026-12-01T00:00:00.000Z');
    const december = await callsUntilRefused(client, 'fx__echo', 5);
    expect(december.passed).toBe(3);
    expect(december.refusal?.message).toBe('monthly quota of 3 tool calls exceeded; resets on 2027-01-01');
  });

  it("a key's quota refuses that key only", async () => {
    const { config, keys } = limitedConfig({ quota: { monthlyCallsPerKey: 2 } });
    const http = await startHttpGateway(config);
    const { client } = await connectHttpClient(http, bearer(keys.a1));
    const first = await callsUntilRefused(client, 'fx__echo', 4);
    expect(first.passed).toBe(2);
    expect(first.refusal?.data).toMatchObject({ scope: 'key', limit: 2, quota: 'monthly-calls-per-key' });
    const { client: other } = await connectHttpClient(http, bearer(keys.a2));
    expect((await callsUntilRefused(other, 'fx__echo', 2)).passed).toBe(2);
  });

  it('the count is durable: a gateway closed and started again on the same store goes on from it', async () => {
    const store: Store = await backend.open();
    const clock = clockAt('2026-11-10T12:00:00.000Z');
    const { config, keys } = limitedConfig({ quota: { monthlyCalls: 5 } });
    const first = await startHttpGateway(config, { store, now: clock.now });
    const { client } = await connectHttpClient(first, bearer(keys.a1));
    expect((await callsUntilRefused(client, 'fx__echo', 3)).passed).toBe(3);
    await stopHttpGateways();
    const stored = await store.limits.usageOf('acme');
    expect(stored).toEqual(
      expect.arrayContaining([
        { tenantId: 'acme', subject: '*', callsUsedMonth: 3, resetAt: '2026-12-01T00:00:00.000Z' },
        { tenantId: 'acme', subject: keys.a1Id, callsUsedMonth: 3, resetAt: '2026-12-01T00:00:00.000Z' },
      ]),
    );

    const second = await startHttpGateway(config, { store, now: clock.now });
    const { client: again } = await connectHttpClient(second, bearer(keys.a2));
    const rest = await callsUntilRefused(again, 'fx__echo', 5);
    expect(rest.passed).toBe(2);
    expect(rest.refusal?.code).toBe(-32047);
  });

  it('crossing 80% and reaching 100% each log a quota.threshold event and count in the alert metric', async () => {
    const captured = capturedLog();
    const { config, keys } = limitedConfig({ quota: { monthlyCalls: 5 } });
    const http = await startHttpGateway(config, { log: captured.log });
    const { client } = await connectHttpClient(http, bearer(keys.a1));
    expect((await callsUntilRefused(client, 'fx__echo', 3)).passed).toBe(3);
    expect(captured.lines().filter((line) => line.event === 'quota.threshold')).toEqual([]);
    expect((await callsUntilRefused(client, 'fx__echo', 3)).passed).toBe(2);
    const alerts = captured.lines().filter((line) => line.event === 'quota.threshold');
    expect(alerts.map((line) => [line.level, line.threshold, line.used, line.limit, line.tenant])).toEqual([
      [WARN, 0.8, 4, 5, 'acme'],
      [WARN, 1, 5, 5, 'acme'],
    ]);
    const text = (await http.gateway.metrics?.text()) ?? '';
    expect(text).toMatch(
      /mcplane_quota_alerts_total\{tenant="acme",quota="monthly-calls",threshold="0.8"\} 1/,
    );
    expect(text).toMatch(/mcplane_quota_alerts_total\{tenant="acme",quota="monthly-calls",threshold="1"\} 1/);
    expect(text).toMatch(/mcplane_quota_usage_ratio\{tenant="acme",quota="monthly-calls"\} 1/);
    expect(text).toMatch(/mcplane_quota_rejections_total\{tenant="acme",quota="monthly-calls"\} 1/);
  });
});
