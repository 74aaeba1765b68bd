import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { postgresBackend, sqliteBackend, type Backend } from '../admin/admin-harness.ts';
import { stopHttpGateways } from '../http/http-harness.ts';
import { eventually } from '../support/harness.ts';
import { samplingClient, startMetered, tenantWithKeys } from './metering-harness.ts';

const DAY = 86_400_000;

function today(): { since: string; until: string } {
  const start = Math.floor(Date.now() / DAY) * DAY;
  return { since: new Date(start).toISOString(), until: new Date(start + DAY).toISOString() };
}

for (const backend of [sqliteBackend(), postgresBackend()] satisfies Backend[]) {
  describe(`usage events on ${backend.name}`, () => {
    afterEach(async () => {
      expect(await stopHttpGateways()).toEqual([]);
    });
    afterAll(async () => {
      await backend.cleanup();
    });

    it('a tool call, a prompt get, a resource read and a sampling request each leave one usage event', async () => {
      const metered = await startMetered(backend);
      const blue = await tenantWithKeys(metered, 'blue');
      const client = await samplingClient(metered.http, blue.memberKey);
      await client.callTool({ name: 'kb__echo', arguments: { text: 'hello' } });
      await client.getPrompt({ name: 'kb__greet', arguments: { name: 'Ada' } });
      const { resources } = await client.listResources();
      const uri = resources[0]?.uri as string;
      await client.readResource({ uri });
      const sampled = await client.callTool({ name: 'kb__sample', arguments: { prompt: 'hi' } });
      expect(JSON.stringify(sampled)).toContain('sampled');
      // A list is not metered.
      await client.listTools();

      const { since, until } = today();
      let events: Awaited<ReturnType<typeof metered.store.usage.events>> = [];
      await eventually(async () => {
        events = await metered.store.usage.events('blue', since, until);
        return events.length >= 5;
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      events = await metered.store.usage.events('blue', since, until);
      expect(events.map((event) => [event.kind, event.tool]).sort()).toEqual(
        [
          ['tool-call', 'echo'],
          ['prompt-get', 'greet'],
          ['resource-read', expect.any(String)],
          ['tool-call', 'sample'],
          ['sampling', 'sampling/createMessage'],
        ].sort(),
      );
      for (const event of events) {
        expect(event).toMatchObject({
          tenantId: 'blue',
          apiKeyId: blue.memberKeyId,
          projectId: blue.projectId,
          principal: `key:${blue.memberKeyId}`,
          server: 'kb',
          status: 'ok',
          statusCode: 200,
        });
        expect(event.bytesIn).toBeGreaterThan(0);
        expect(event.bytesOut).toBeGreaterThan(0);
        expect(event.latencyMs).toBeGreaterThan(0);
      }
      const echo = events.find((event) => event.tool === 'echo');
      // The params as the client sent them, the reply as it got it.
      expect(echo?.bytesIn).toBeGreaterThanOrEqual(JSON.stringify({ text: 'hello' }).length);
    });

    it('a refused call is metered with its error status, and is not charged per call', async () => {
      const metered = await startMetered(backend);
      const blue = await tenantWithKeys(metered, 'blue');
      const client = await samplingClient(metered.http, blue.memberKey);
      await expect(client.callTool({ name: 'kb__nope', arguments: {} })).rejects.toThrow();
      await client.callTool({ name: 'kb__echo', arguments: {} });
      const { since, until } = today();
      await eventually(async () => (await metered.store.usage.events('blue', since, until)).length >= 2);
      const events = await metered.store.usage.events('blue', since, until);
      const refused = events.find((event) => event.tool === 'kb__nope');
      expect(refused).toMatchObject({ status: 'UNKNOWN_TOOL', statusCode: 404 });
      const [row] = await metered.store.usage.summarize('blue', { since, until, groupBy: 'day' });
      // echo: 0.5 per call (kb's cost.perCall); the refusal costs nothing; CPU may add a little.
      expect(row).toMatchObject({ calls: 2, errors: 1 });
      expect(row?.cost).toBeGreaterThanOrEqual(0.5);
    });
  });
}
