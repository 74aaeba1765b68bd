import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { startHttpGateway, stopHttpGateways } from '../http/http-harness.ts';
import { fixtureServer } from '../support/harness.ts';
import { adminClient, platformKey } from './admin-harness.ts';

describe('the API key cache', () => {
  const stores: Store[] = [];
  afterEach(async () => {
    expect(await stopHttpGateways()).toEqual([]);
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  it('a key another process just wrote to the store works on its first request, and unknown ids stay refused', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mcplane-keys-')), 'mcplane.db');
    // A poll interval far longer than the test: only the catch-up on a miss can find the key.
    const gatewayStore = await openStore(`sqlite:${file}`, { pollIntervalMs: 600_000 });
    const cli = await openStore(`sqlite:${file}`);
    stores.push(gatewayStore, cli);
    const http = await startHttpGateway({ servers: { fx: fixtureServer() } }, { store: gatewayStore });
    const key = await platformKey(cli);
    expect((await adminClient(http.origin, key)('GET', '/tenants')).status).toBe(200);
    const unknown = await platformKey(
      await openStore('sqlite::memory:').then((other) => (stores.push(other), other)),
    );
    expect((await adminClient(http.origin, unknown)('GET', '/tenants')).status).toBe(401);
  });
});
