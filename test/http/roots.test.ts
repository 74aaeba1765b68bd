/**
 * Roots never cross sessions. On a shared process the gateway answers `roots/list` itself, from
 * config (`roots: none` by default, or a fixed list), so a client's roots never become state of
 * a process that other sessions use. Driven against the published server-everything, which keeps
 * the roots it is first given.
 */
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { everythingServer } from '../support/harness.ts';
import { bearer, connectHttpClient, newApiKey, startHttpGateway, stopHttpGateways } from './http-harness.ts';
import type { HttpGateway } from './http-harness.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

const acme = newApiKey();
const globex = newApiKey();
const TENANTS = {
  acme: { name: 'Acme', apiKeys: [acme.entry] },
  globex: { name: 'Globex', apiKeys: [globex.entry] },
};

/** A client that declares roots naming only itself, and counts how often it is asked for them. */
async function clientWithRoots(http: HttpGateway, key: string, who: string) {
  const { client } = await connectHttpClient(http, bearer(key), { roots: { listChanged: true } });
  const asked = { count: 0 };
  client.setRequestHandler(ListRootsRequestSchema, async () => {
    asked.count++;
    return { roots: [{ uri: `file:///home/${who}/secret`, name: `${who}-secret` }] };
  });
  return { client, asked };
}

async function rootsSeenBy(
  client: Awaited<ReturnType<typeof clientWithRoots>>['client'],
  server = 'shared',
): Promise<string> {
  const result = await client.callTool({ name: `${server}__get-roots-list`, arguments: {} });
  return JSON.stringify(result.content);
}

describe('roots on a shared process', () => {
  it("by default the server sees no roots, so the second session never sees the first's, even after it left", async () => {
    const http = await startHttpGateway({
      servers: { shared: everythingServer({ pool: { min: 1, max: 1 } }) },
      tenants: TENANTS,
    });
    const alice = await clientWithRoots(http, acme.key, 'alice');
    const aliceSees = await rootsSeenBy(alice.client);
    await alice.client.sendRootsListChanged();
    expect(aliceSees).toMatch(/no roots are currently configured/);
    await alice.client.close();

    const bob = await clientWithRoots(http, globex.key, 'bob');
    const bobSees = await rootsSeenBy(bob.client);
    expect(bobSees).not.toContain('alice');
    expect(bobSees).not.toContain('bob');
    expect(bobSees).toMatch(/no roots are currently configured/);
    // The gateway answered; no client was asked.
    expect(alice.asked.count).toBe(0);
    expect(bob.asked.count).toBe(0);
  });

  it('a fixed list from config is what every session sees, paths resolved to file:// URIs', async () => {
    const http = await startHttpGateway({
      servers: {
        shared: everythingServer({
          pool: { min: 1, max: 1 },
          roots: ['file:///srv/data', { uri: 'docs', name: 'docs' }],
        }),
      },
      tenants: TENANTS,
    });
    const docs = pathToFileURL(resolve('docs')).href;
    for (const [key, who] of [
      [acme.key, 'alice'],
      [globex.key, 'bob'],
    ] as const) {
      const session = await clientWithRoots(http, key, who);
      const seen = await rootsSeenBy(session.client);
      expect(seen).toContain('URI: file:///srv/data');
      expect(seen).toContain(`docs\\n   URI: ${docs}`);
      expect(seen).not.toContain('secret');
      expect(session.asked.count).toBe(0);
    }
  });
});

describe('roots: session on a session-mode process', () => {
  it("each session's own process sees that session's roots from its first call, and never another's", async () => {
    const http = await startHttpGateway({
      servers: { own: everythingServer({ mode: 'session', roots: 'session', pool: { min: 2, max: 4 } }) },
      tenants: TENANTS,
    });
    const alice = await clientWithRoots(http, acme.key, 'alice');
    const aliceSees = await rootsSeenBy(alice.client, 'own');
    expect(aliceSees).toContain('file:///home/alice/secret');
    const bob = await clientWithRoots(http, globex.key, 'bob');
    const bobSees = await rootsSeenBy(bob.client, 'own');
    expect(bobSees).toContain('file:///home/bob/secret');
    expect(bobSees).not.toContain('alice');
  });
});
