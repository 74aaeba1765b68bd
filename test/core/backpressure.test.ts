/** A pool at capacity and a server that does not answer both end in a clear error, never a hang. */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.ts';
import { connectClient, eventually, fixtureServer, startGateway } from '../support/harness.ts';

let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

describe('back-pressure and deadlines', () => {
  it('refuses a request with "at capacity" when the wait queue is full, and times out a waiting one', async () => {
    gateway = await startGateway({
      servers: {
        busy: fixtureServer({
          pool: { min: 1, max: 1, maxInflight: 1, queue: { max: 1, timeout: '400ms' } },
        }),
      },
    });
    const { client } = await connectClient(gateway);
    const running = client.callTool({ name: 'busy__slow', arguments: { ms: 1_500, steps: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const waiting = client.callTool({ name: 'busy__echo', arguments: {} });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const refusedAt = Date.now();
    await expect(client.callTool({ name: 'busy__echo', arguments: {} })).rejects.toThrow(/at capacity/);
    expect(Date.now() - refusedAt).toBeLessThan(300);
    await expect(waiting).rejects.toThrow(/No process of server busy was free within 400 ms/);
    await expect(running).resolves.toMatchObject({ content: [{ text: 'done' }] });
  });

  it('cancels a call upstream when it passes its timeout and answers with a clear error', async () => {
    const cancelLog = join(mkdtempSync(join(tmpdir(), 'mcplane-timeout-')), 'cancelled.jsonl');
    gateway = await startGateway({
      servers: {
        sluggish: fixtureServer({ env: { FIXTURE_CANCEL_LOG: cancelLog }, timeouts: { call: '300ms' } }),
      },
    });
    const { client } = await connectClient(gateway);
    const started = Date.now();
    await expect(
      client.callTool({ name: 'sluggish__slow', arguments: { ms: 5_000, steps: 1 } }),
    ).rejects.toThrow(/did not answer tools\/call within 300 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
    await eventually(() => existsSync(cancelLog) && readFileSync(cancelLog, 'utf8').includes('requestId'));
  });
});
