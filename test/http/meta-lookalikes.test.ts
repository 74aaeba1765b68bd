/**
 * A client cannot slip a key past the gateway that a lenient server would read as the gateway's
 * context: look-alikes of `dev.mcplane/…` (case, whitespace, zero-width characters) never reach
 * the child; the gateway's own keys and the client's other keys do.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureServer, textJson } from '../support/harness.ts';
import { bearer, connectHttpClient, newApiKey, startHttpGateway, stopHttpGateways } from './http-harness.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

describe('client _meta under the gateway prefix', () => {
  it('look-alike keys are removed before a call reaches the server', async () => {
    const acme = newApiKey();
    const http = await startHttpGateway({
      servers: { fixture: fixtureServer() },
      tenants: { acme: { name: 'Acme', apiKeys: [acme.entry] } },
    });
    const { client } = await connectHttpClient(http, bearer(acme.key));
    const forged = {
      'DEV.MCPLANE/tenant': 'globex',
      ' dev.mcplane/principal': 'admin',
      'dev.mcplane\u200b/session': 'stolen',
      '\ufeffdev.mcplane/tenant': 'globex',
      'dev.mc\u200dplane/tenant': 'globex',
      'Dev.McPlane/role': 'admin',
      'com.example/trace': 'kept',
    };
    const echoed = textJson<{ meta: Record<string, unknown> }>(
      await client.callTool({ name: 'fixture__echo', arguments: {}, _meta: forged }),
    );
    const meta = echoed.meta;
    expect(meta['com.example/trace']).toBe('kept');
    expect(meta['dev.mcplane/tenant']).toBe('acme');
    expect(meta['dev.mcplane/principal']).toBe(`key:${acme.id}`);
    const gatewayLike = Object.keys(meta).filter((key) =>
      /mc.?plane/i.test(key.replace(/[^\x20-\x7e]/g, '')),
    );
    expect(gatewayLike.sort()).toEqual([
      'dev.mcplane/principal',
      'dev.mcplane/session',
      'dev.mcplane/tenant',
    ]);
    expect(Object.values(meta)).not.toContain('globex');
    expect(Object.values(meta)).not.toContain('stolen');
  });
});
