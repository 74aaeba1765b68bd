/** Aggregation, pagination and routing by name, URI and reference; subscriptions, list changes and log levels. */
import {
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.ts';
import { connectClient, eventually, fixtureServer, startGateway, textJson } from '../support/harness.ts';

let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

describe('routing and aggregation', () => {
  it('aggregates resources over servers and paginates them with the gateway cursor, following upstream cursors', async () => {
    gateway = await startGateway({
      gateway: { pageSize: 100 },
      servers: {
        many: fixtureServer({ env: { FIXTURE_RESOURCE_COUNT: '180' } }),
        few: fixtureServer(),
      },
    });
    const { client } = await connectClient(gateway);
    const uris: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.listResources(cursor === undefined ? {} : { cursor });
      uris.push(...page.resources.map((resource) => resource.uri));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined && pages < 10);
    expect(pages).toBe(2);
    // 180 from one server and 3 from the other; the two fixtures list the same static URIs.
    expect(uris).toHaveLength(183);
    await expect(client.listResources({ cursor: 'not-a-cursor' })).rejects.toThrow(/Invalid cursor/);
  });

  it('routes resources/read by listed URI and by template, and refuses unknown URIs', async () => {
    gateway = await startGateway({ servers: { files: fixtureServer() } });
    const { client } = await connectClient(gateway);
    const listed = await client.readResource({ uri: 'fixture://static/2' });
    expect(listed.contents[0]).toMatchObject({ text: 'content of fixture://static/2' });
    const templated = await client.readResource({ uri: 'fixture://item/42' });
    expect(templated.contents[0]).toMatchObject({ text: 'content of fixture://item/42' });
    await expect(client.readResource({ uri: 'other://x' })).rejects.toThrow(/Resource not found/);
  });

  it('routes prompts and completions by their qualified names', async () => {
    gateway = await startGateway({ servers: { talk: fixtureServer() } });
    const { client } = await connectClient(gateway);
    expect((await client.listPrompts()).prompts.map((prompt) => prompt.name)).toEqual(['talk__greet']);
    const prompt = await client.getPrompt({ name: 'talk__greet', arguments: { name: 'Ada' } });
    expect(JSON.stringify(prompt.messages)).toContain('Hello, Ada!');
    const completion = await client.complete({
      ref: { type: 'ref/prompt', name: 'talk__greet' },
      argument: { name: 'name', value: 'al' },
    });
    expect(completion.completion.values).toEqual(['alice', 'albert']);
    const byTemplate = await client.complete({
      ref: { type: 'ref/resource', uri: 'fixture://item/{id}' },
      argument: { name: 'id', value: '2' },
    });
    expect(byTemplate.completion.values).toEqual(['2']);
  });

  it('counts resource subscriptions per process and delivers updates to every subscribed session', async () => {
    gateway = await startGateway({ servers: { files: fixtureServer({ pool: { min: 1, max: 1 } }) } });
    const a = await connectClient(gateway);
    const b = await connectClient(gateway);
    const updates = { a: 0, b: 0 };
    a.client.setNotificationHandler(ResourceUpdatedNotificationSchema, () => void updates.a++);
    b.client.setNotificationHandler(ResourceUpdatedNotificationSchema, () => void updates.b++);
    await a.client.subscribeResource({ uri: 'fixture://static/1' });
    await b.client.subscribeResource({ uri: 'fixture://static/1' });
    await a.client.callTool({ name: 'files__touch', arguments: { uri: 'fixture://static/1' } });
    await eventually(() => updates.a === 1 && updates.b === 1);
    await a.client.unsubscribeResource({ uri: 'fixture://static/1' });
    // b still holds the upstream subscription.
    const still = textJson<{ subscribed: boolean }>(
      await b.client.callTool({ name: 'files__touch', arguments: { uri: 'fixture://static/1' } }),
    );
    expect(still.subscribed).toBe(true);
    await eventually(() => updates.b === 2);
    expect(updates.a).toBe(1);
    await b.session.close();
    const gone = textJson<{ subscribed: boolean }>(
      await a.client.callTool({ name: 'files__touch', arguments: { uri: 'fixture://static/1' } }),
    );
    expect(gone.subscribed).toBe(false);
  });

  it('tells every session that sees a server when its tool list changes, and lists the new tool', async () => {
    gateway = await startGateway({
      // trust: auto, so the added tool is pinned at once rather than held for review.
      servers: { dyn: fixtureServer({ pool: { min: 1, max: 1 }, trust: 'auto' }), other: fixtureServer() },
      tenants: { acme: { name: 'Acme' }, globex: { name: 'Globex', servers: ['other'] } },
    });
    const acme = await connectClient(gateway);
    const acme2 = await connectClient(gateway);
    const globex = await connectClient(gateway, {
      tenantId: 'globex',
      subject: 'g',
      scopes: ['*'],
      via: 'local',
    });
    const heard = { acme: 0, acme2: 0, globex: 0 };
    acme.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void heard.acme++);
    acme2.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void heard.acme2++);
    globex.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void heard.globex++);
    await acme.client.callTool({ name: 'dyn__add_tool', arguments: { name: 'fresh' } });
    await eventually(() => heard.acme === 1 && heard.acme2 === 1);
    expect((await acme2.client.listTools()).tools.map((tool) => tool.name)).toContain('dyn__fresh');
    expect(heard.globex).toBe(0);
  });

  it('applies each session its own log level on a shared process', async () => {
    gateway = await startGateway({ servers: { talk: fixtureServer({ pool: { min: 1, max: 1 } }) } });
    const quiet = await connectClient(gateway);
    const loud = await connectClient(gateway);
    const got = { quiet: [] as string[], loud: [] as string[] };
    quiet.client.setNotificationHandler(
      LoggingMessageNotificationSchema,
      (n) => void got.quiet.push(n.params.level),
    );
    loud.client.setNotificationHandler(
      LoggingMessageNotificationSchema,
      (n) => void got.loud.push(n.params.level),
    );
    await quiet.client.setLoggingLevel('error');
    await loud.client.setLoggingLevel('debug');
    await quiet.client.callTool({ name: 'talk__log', arguments: { level: 'info', message: 'q-info' } });
    await quiet.client.callTool({ name: 'talk__log', arguments: { level: 'error', message: 'q-error' } });
    await loud.client.callTool({ name: 'talk__log', arguments: { level: 'debug', message: 'l-debug' } });
    await eventually(() => got.quiet.length === 1 && got.loud.length === 1);
    expect(got.quiet).toEqual(['error']);
    expect(got.loud).toEqual(['debug']);
  });

  it('answers initialize and ping itself, advertising what the servers offer', async () => {
    gateway = await startGateway({ servers: { echo: fixtureServer() } });
    const { client } = await connectClient(gateway);
    expect(client.getServerVersion()?.name).toBe('mcplane');
    expect(client.getServerCapabilities()).toMatchObject({
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      logging: {},
      completions: {},
    });
    expect(await client.ping()).toEqual({});
  });
});

describe('bare names', () => {
  it('lists and routes the tools and prompts of a server with namespace off by their own names', async () => {
    gateway = await startGateway({
      servers: { plain: fixtureServer({ namespace: false }), spaced: fixtureServer() },
    });
    const { client } = await connectClient(gateway);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain('echo');
    expect(names).toContain('spaced__echo');
    const bare = textJson<{ arguments: { text: string } }>(
      await client.callTool({ name: 'echo', arguments: { text: 'b' } }),
    );
    expect(bare.arguments.text).toBe('b');
    const prompt = await client.getPrompt({ name: 'greet', arguments: { name: 'Ada' } });
    expect(JSON.stringify(prompt.messages)).toContain('Hello, Ada!');
    await expect(client.callTool({ name: 'nope', arguments: {} })).rejects.toThrow(/Unknown tool/);
  });
});
