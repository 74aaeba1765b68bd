/**
 * A client's credential ends at the gateway (MCP authorization spec, "Token Handling": never
 * pass a client's token through). It must not reach a child's environment or `_meta`, nor any
 * line of the gateway's own log, even at debug level.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIENCE, ISSUER, publicPem, signingKey, token } from '../identity/jwt-fixture.ts';
import { fixtureServer, textJson } from '../support/harness.ts';
import {
  bearer,
  connectHttpClient,
  initialize,
  newApiKey,
  startHttpGateway,
  stopHttpGateways,
  type HttpGateway,
} from './http-harness.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

/** A debug-level logger whose lines stay in memory. */
function capturedLog(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

/** Everything a child saw for this client: all of its environment and the `_meta` of a call. */
async function whatTheChildSaw(http: HttpGateway, headers: Record<string, string>): Promise<string> {
  const { client } = await connectHttpClient(http, headers);
  const names = textJson<{ keys: string[] }>(
    await client.callTool({ name: 'fixture__env', arguments: { names: [] } }),
  ).keys;
  const env = await client.callTool({ name: 'fixture__env', arguments: { names } });
  const echo = await client.callTool({ name: 'fixture__echo', arguments: {} });
  expect(textJson<{ values: Record<string, string | null> }>(env).values).toHaveProperty('PATH');
  expect(textJson<{ meta: Record<string, unknown> }>(echo).meta).toHaveProperty('dev.mcplane/principal');
  return JSON.stringify([env, echo]);
}

describe('credential secrecy', () => {
  it('neither an API key nor a JWT reaches a child or the gateway log', async () => {
    const signer = await signingKey('ES256');
    const acme = newApiKey();
    const jwt = await token(signer);
    const { log, lines } = capturedLog();
    const http = await startHttpGateway(
      {
        gateway: {
          auth: { jwt: { issuer: ISSUER, audience: AUDIENCE, publicKeys: [await publicPem(signer)] } },
        },
        servers: { fixture: fixtureServer() },
        tenants: { acme: { name: 'Acme', apiKeys: [acme.entry] } },
      },
      { log },
    );
    const secrets = [acme.key, acme.key.split('_')[2] as string, jwt, jwt.split('.')[2] as string];

    const seenWithKey = await whatTheChildSaw(http, bearer(acme.key));
    const seenWithJwt = await whatTheChildSaw(http, bearer(jwt));
    // Refused credentials must stay out of the log as well.
    await initialize(http, bearer(`${acme.key.slice(0, -1)}x`));
    await initialize(http, { 'x-api-key': acme.key, authorization: `Bearer ${jwt}` });

    for (const secret of secrets) {
      expect(seenWithKey).not.toContain(secret);
      expect(seenWithJwt).not.toContain(secret);
    }
    // Shutting down logs too; read the log only after it.
    expect(await stopHttpGateways()).toEqual([]);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) for (const secret of secrets) expect(line).not.toContain(secret);
  });
});
