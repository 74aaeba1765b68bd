/**
 * Sampling, elicitation and roots requests from a server reach the right client when the
 * gateway can attribute them, and fail clearly (never reach a wrong client) when it cannot.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.ts';
import { localPrincipal } from '../../src/identity/principal.ts';
import { connectClient, fixtureServer, startGateway, textJson } from '../support/harness.ts';

let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

const ALL = { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } };

/** Answers every server-to-client request with something that names this client. */
function answerAs(client: Client, who: string): void {
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({
    model: 'test-model',
    role: 'assistant',
    content: { type: 'text', text: `sampled by ${who}` },
  }));
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { answer: who } }));
  client.setRequestHandler(ListRootsRequestSchema, async () => ({
    roots: [{ uri: `file:///${who}`, name: who }],
  }));
}

async function connectAs(who: string, tenant = 'acme'): Promise<Client> {
  const { client } = await connectClient(gateway as Gateway, localPrincipal(tenant), ALL);
  answerAs(client, who);
  return client;
}

describe('server-to-client requests', () => {
  it('round-trip sampling, elicitation and roots for a session-mode process set to roots: session', async () => {
    gateway = await startGateway({
      servers: { own: fixtureServer({ mode: 'session', injectContext: false, roots: 'session' }) },
    });
    const client = await connectAs('alice');
    const sample = textJson<{ content: { text: string } }>(
      await client.callTool({ name: 'own__sample', arguments: { prompt: 'hi' } }),
    );
    expect(sample.content.text).toBe('sampled by alice');
    const elicit = textJson<{ content: { answer: string } }>(
      await client.callTool({ name: 'own__elicit', arguments: { message: 'q' } }),
    );
    expect(elicit.content.answer).toBe('alice');
    const roots = textJson<{ roots: { name: string }[] }>(
      await client.callTool({ name: 'own__roots', arguments: {} }),
    );
    expect(roots.roots[0]?.name).toBe('alice');
  });

  it('route by the echoed session key on a shared process with several sessions in flight', async () => {
    gateway = await startGateway({ servers: { shared: fixtureServer({ pool: { min: 1, max: 1 } }) } });
    const alice = await connectAs('alice');
    const bob = await connectAs('bob', 'globex');
    const busy = bob.callTool({ name: 'shared__slow', arguments: { ms: 400, steps: 1 } });
    const [a, b] = await Promise.all([
      alice.callTool({ name: 'shared__sample', arguments: { prompt: 'x' } }),
      bob.callTool({ name: 'shared__sample', arguments: { prompt: 'y' } }),
    ]);
    await busy;
    expect(textJson<{ content: { text: string } }>(a).content.text).toBe('sampled by alice');
    expect(textJson<{ content: { text: string } }>(b).content.text).toBe('sampled by bob');
  });

  it('route by the only session in flight when maxInflight is 1', async () => {
    gateway = await startGateway({
      servers: { single: fixtureServer({ injectContext: false, pool: { min: 1, max: 1, maxInflight: 1 } }) },
    });
    const alice = await connectAs('alice');
    const bob = await connectAs('bob');
    const [a, b] = await Promise.all([
      alice.callTool({ name: 'single__sample', arguments: { prompt: 'x' } }),
      bob.callTool({ name: 'single__sample', arguments: { prompt: 'y' } }),
    ]);
    expect(textJson<{ content: { text: string } }>(a).content.text).toBe('sampled by alice');
    expect(textJson<{ content: { text: string } }>(b).content.text).toBe('sampled by bob');
  });

  it('are refused with a clear error, and counted, when two sessions share the process and no key comes back', async () => {
    gateway = await startGateway({
      servers: { anon: fixtureServer({ injectContext: false, pool: { min: 1, max: 1, maxInflight: 8 } }) },
    });
    const alice = await connectAs('alice');
    const bob = await connectAs('bob');
    let bobAsked = false;
    bob.setRequestHandler(CreateMessageRequestSchema, async () => {
      bobAsked = true;
      return { model: 'm', role: 'assistant', content: { type: 'text', text: 'wrong client' } };
    });
    const busy = bob.callTool({ name: 'anon__slow', arguments: { ms: 500, steps: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const result = await alice.callTool({ name: 'anon__sample', arguments: { prompt: 'x' } });
    await busy;
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(/cannot tell which client session/);
    expect(bobAsked).toBe(false);
    expect(gateway.unattributable()).toBeGreaterThan(0);
  });

  it('are refused with a clear error when the client lacks the capability', async () => {
    gateway = await startGateway({ servers: { own: fixtureServer({ mode: 'session' }) } });
    const { client } = await connectClient(gateway, localPrincipal('acme'), {});
    const result = await client.callTool({ name: 'own__sample', arguments: { prompt: 'x' } });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(/did not declare the sampling capability/);
  });
});
