import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { stripeSignatureHeader } from '../../src/billing/stripe-signature.ts';
import { adminClient, postgresBackend, sqliteBackend, type Backend } from '../admin/admin-harness.ts';
import { bearer, connectHttpClient, stopHttpGateways } from '../http/http-harness.ts';
import { eventually, fixtureServer } from '../support/harness.ts';
import { startMetered, tenantWithKeys, type Metered } from '../metering/metering-harness.ts';

const SECRET = 'whsec_test_0123456789';

function config(usageFile: string, secret: string | null = SECRET) {
  return {
    servers: { kb: fixtureServer({ mode: 'tenant' }) },
    gateway: { metering: { flushInterval: '50ms' } },
    billing: {
      plans: {
        starter: { includedCalls: 10, overagePer1000: 2, stripePrice: 'price_starter' },
        team: { includedCalls: 1000, overagePer1000: 1, stripePrice: 'price_team' },
      },
      stripe: {
        ...(secret === null ? {} : { webhookSecret: secret }),
        meteredPrice: 'price_calls',
        usageExport: { file: usageFile },
      },
    },
  };
}

let counter = 0;

function subscriptionEvent(
  type: string,
  fields: { customer: string; status?: string; tenant?: string; price?: string; id?: string },
) {
  counter++;
  return {
    id: fields.id ?? `evt_${Date.now()}_${counter}`,
    type,
    data: {
      object: {
        id: 'sub_123',
        object: 'subscription',
        customer: fields.customer,
        status: fields.status ?? 'active',
        metadata: fields.tenant === undefined ? {} : { tenant: fields.tenant },
        items: {
          data: [
            { id: 'si_plan', price: { id: fields.price ?? 'price_team' } },
            { id: 'si_calls', price: { id: 'price_calls' } },
          ],
        },
      },
    },
  };
}

function invoiceFailed(customer: string) {
  counter++;
  return {
    id: `evt_inv_${Date.now()}_${counter}`,
    type: 'invoice.payment_failed',
    data: { object: { id: 'in_1', object: 'invoice', customer, subscription: 'sub_123' } },
  };
}

async function deliver(
  metered: Metered,
  event: unknown,
  options: { body?: string; header?: string | null; at?: number; secret?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = options.body ?? JSON.stringify(event);
  const at = options.at ?? Math.floor(Date.now() / 1000);
  const header =
    options.header === undefined ? stripeSignatureHeader(options.secret ?? SECRET, at, body) : options.header;
  const response = await fetch(new URL('/billing/stripe/webhook', metered.http.origin), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(header === null ? {} : { 'stripe-signature': header }),
    },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** Whether the key can open an MCP session and list tools. */
async function keyWorks(metered: Metered, key: string): Promise<boolean> {
  try {
    const { client } = await connectHttpClient(metered.http, bearer(key));
    await client.listTools();
    await client.close();
    return true;
  } catch {
    return false;
  }
}

for (const backend of [sqliteBackend(), postgresBackend()] satisfies Backend[]) {
  describe(`the Stripe webhook on ${backend.name}`, () => {
    const usageFile = join(mkdtempSync(join(tmpdir(), 'mcplane-stripe-')), 'usage-records.jsonl');
    afterEach(async () => {
      expect(await stopHttpGateways()).toEqual([]);
    });
    afterAll(async () => {
      await backend.cleanup();
    });

    it('a signed subscription event sets the plan and maps the customer; tampered, stale, unsigned and foreign-signed ones are refused with 400', async () => {
      const metered = await startMetered(backend, config(usageFile));
      await tenantWithKeys(metered, 'blue');
      const event = subscriptionEvent('customer.subscription.created', {
        customer: 'cus_blue',
        tenant: 'blue',
      });
      const body = JSON.stringify(event);
      const now = Math.floor(Date.now() / 1000);

      const tampered = await deliver(metered, event, {
        body: body.replace('price_team', 'price_starter'),
        header: stripeSignatureHeader(SECRET, now, body),
      });
      expect(tampered).toMatchObject({
        status: 400,
        body: { code: 'INVALID_REQUEST', detail: 'No signature matches the payload' },
      });
      const stale = await deliver(metered, event, { at: now - 301 });
      expect(stale).toMatchObject({
        status: 400,
        body: { detail: expect.stringMatching(/tolerance/) as unknown },
      });
      const missing = await deliver(metered, event, { header: null });
      expect(missing).toMatchObject({
        status: 400,
        body: { detail: expect.stringMatching(/missing/) as unknown },
      });
      const foreign = await deliver(metered, event, { secret: 'whsec_someone_else' });
      expect(foreign.status).toBe(400);
      // None of them changed anything.
      expect(await metered.store.billing.get('blue')).toBeUndefined();

      const valid = await deliver(metered, event);
      expect(valid).toMatchObject({
        status: 200,
        body: { received: true, tenant: 'blue', plan: 'team', keys: 'activated' },
      });
      expect(await metered.store.billing.get('blue')).toMatchObject({
        plan: 'team',
        stripeCustomerId: 'cus_blue',
        stripeSubscriptionId: 'sub_123',
        stripeSubscriptionItemId: 'si_calls',
        subscriptionStatus: 'active',
      });
      const read = await metered.root('GET', '/tenants/blue/billing');
      expect(read.body).toMatchObject({ plan: 'team', stored: true, stripeCustomerId: 'cus_blue' });
      expect(JSON.stringify(read.body)).not.toContain(SECRET);
    });

    it('a replayed event (re-signed, or delivered twice) is applied once', async () => {
      const metered = await startMetered(backend, config(usageFile));
      await tenantWithKeys(metered, 'blue');
      const event = subscriptionEvent('customer.subscription.updated', {
        customer: 'cus_blue',
        tenant: 'blue',
        price: 'price_starter',
      });
      expect((await deliver(metered, event)).body).toMatchObject({ plan: 'starter' });
      // An admin moves the tenant to team; the replayed event must not move it back.
      expect((await metered.root('PUT', '/tenants/blue/billing', { plan: 'team' })).status).toBe(200);
      const again = await deliver(metered, event, { at: Math.floor(Date.now() / 1000) + 5 });
      expect(again).toMatchObject({ status: 200, body: { received: true, duplicate: true } });
      expect((await metered.store.billing.get('blue'))?.plan).toBe('team');
    });

    it('a failed payment suspends the keys (refused on /mcp), an active subscription resumes them, and a key an admin suspended stays suspended', async () => {
      const metered = await startMetered(backend, config(usageFile));
      const blue = await tenantWithKeys(metered, 'blue');
      const spare = await metered.root('POST', '/tenants/blue/api-keys', { name: 'spare' });
      expect(
        (await metered.root('POST', `/tenants/blue/api-keys/${spare.body.id as string}/suspend`)).status,
      ).toBe(200);
      await deliver(
        metered,
        subscriptionEvent('customer.subscription.created', { customer: 'cus_blue', tenant: 'blue' }),
      );
      expect(await keyWorks(metered, blue.memberKey)).toBe(true);

      const failed = await deliver(metered, invoiceFailed('cus_blue'));
      expect(failed).toMatchObject({ status: 200, body: { tenant: 'blue', keys: 'suspended' } });
      await eventually(async () => !(await keyWorks(metered, blue.memberKey)));
      const refused = await fetch(metered.http.url, {
        method: 'POST',
        headers: {
          ...bearer(blue.memberKey),
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
      });
      expect(refused.status).toBe(401);
      const keys = (await metered.root('GET', '/tenants/blue/api-keys')).body.apiKeys as {
        id: string;
        state: string;
      }[];
      expect(keys.every((key) => key.state === 'suspended')).toBe(true);

      const resumed = await deliver(
        metered,
        subscriptionEvent('customer.subscription.updated', { customer: 'cus_blue', status: 'active' }),
      );
      expect(resumed).toMatchObject({ status: 200, body: { keys: 'activated' } });
      await eventually(() => keyWorks(metered, blue.memberKey));
      const after = (await metered.root('GET', '/tenants/blue/api-keys')).body.apiKeys as {
        id: string;
        state: string;
      }[];
      expect(after.find((key) => key.id === spare.body.id)?.state).toBe('suspended');
      expect(after.find((key) => key.id === blue.memberKeyId)?.state).toBe('active');

      const deleted = await deliver(
        metered,
        subscriptionEvent('customer.subscription.deleted', { customer: 'cus_blue', status: 'canceled' }),
      );
      expect(deleted).toMatchObject({ status: 200, body: { keys: 'suspended' } });
      await eventually(async () => !(await keyWorks(metered, blue.memberKey)));
      expect((await metered.store.billing.get('blue'))?.subscriptionStatus).toBe('canceled');
    });

    it('an unmapped customer is 404 (Stripe retries), a mapping set by an admin works, and metadata naming another tenant is 409', async () => {
      const metered = await startMetered(backend, config(usageFile));
      await tenantWithKeys(metered, 'blue');
      await tenantWithKeys(metered, 'red');
      const unmapped = await deliver(metered, invoiceFailed('cus_nobody'));
      expect(unmapped).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
      const unknownTenant = await deliver(
        metered,
        subscriptionEvent('customer.subscription.created', { customer: 'cus_x', tenant: 'ghost' }),
      );
      expect(unknownTenant.status).toBe(404);

      expect(
        (await metered.root('PUT', '/tenants/red/billing', { stripeCustomerId: 'cus_red' })).status,
      ).toBe(200);
      const mapped = await deliver(
        metered,
        subscriptionEvent('customer.subscription.created', { customer: 'cus_red' }),
      );
      expect(mapped).toMatchObject({ status: 200, body: { tenant: 'red', plan: 'team' } });
      const hijack = await deliver(
        metered,
        subscriptionEvent('customer.subscription.updated', { customer: 'cus_red', tenant: 'blue' }),
      );
      expect(hijack.status).toBe(409);
      expect(
        (await metered.root('PUT', '/tenants/blue/billing', { stripeCustomerId: 'cus_red' })).status,
      ).toBe(409);
      // An event type the webhook does not handle is acknowledged and ignored.
      const other = await deliver(metered, {
        id: 'evt_other',
        type: 'invoice.upcoming',
        data: { object: {} },
      });
      expect(other).toMatchObject({ status: 200, body: { ignored: true } });
      const junk = await deliver(metered, undefined, { body: '{"not":"an event"}' });
      expect(junk.status).toBe(400);
    });

    it('without a webhook secret the endpoint is 404 and accepts nothing', async () => {
      const metered = await startMetered(backend, config(usageFile, null));
      await tenantWithKeys(metered, 'blue');
      const answer = await deliver(
        metered,
        subscriptionEvent('customer.subscription.created', { customer: 'cus_blue', tenant: 'blue' }),
      );
      expect(answer.status).toBe(404);
      expect(await metered.store.billing.get('blue')).toBeUndefined();
    });

    it("the usage-record export writes each subscribed tenant's billable calls in Stripe's usage record shape", async () => {
      const metered = await startMetered(backend, config(usageFile));
      const blue = await tenantWithKeys(metered, 'blue');
      await deliver(
        metered,
        subscriptionEvent('customer.subscription.created', { customer: 'cus_blue', tenant: 'blue' }),
      );
      const { client } = await connectHttpClient(metered.http, bearer(blue.memberKey));
      for (let n = 0; n < 3; n++) await client.callTool({ name: 'kb__echo', arguments: {} });
      const period = new Date().toISOString().slice(0, 7);
      const exported = await metered.root('POST', '/billing/stripe/usage-records', { period });
      expect(exported.status).toBe(200);
      expect(exported.body).toMatchObject({
        period,
        destination: `file:${usageFile}`,
        records: [
          {
            subscription_item: 'si_calls',
            quantity: 3,
            action: 'set',
            idempotency_key: `mcplane-blue-${period}`,
            metadata: { tenant: 'blue', period },
          },
        ],
      });
      expect(exported.body.skipped).toContainEqual({ tenant: 'acme', reason: expect.any(String) as unknown });
      const written = readFileSync(usageFile, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(written.at(-1)).toMatchObject({ subscription_item: 'si_calls', quantity: 3 });
      const tenantAdmin = adminClient(metered.http.origin, blue.adminKey);
      expect((await tenantAdmin('POST', '/billing/stripe/usage-records', { period })).status).toBe(403);
    });
  });
}
