/**
 * `mcplane stdio` as a desktop client sees it: the real CLI over stdio, fronting the published
 * `@modelcontextprotocol/server-everything`, shared for tools and dedicated per session for
 * sampling, elicitation and roots.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, writeEverythingConfig } from '../support/harness.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

let client: Client;
let transport: StdioClientTransport;

beforeAll(async () => {
  const config = writeEverythingConfig();
  transport = new StdioClientTransport({
    command: process.execPath,
    args: [
      join(root, 'bin/mcplane.js'),
      'stdio',
      '--config',
      config,
      '--tenant',
      'acme',
      '--log-level',
      'error',
    ],
    env: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
    stderr: 'pipe',
  });
  client = new Client(
    { name: 'e2e', version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } } },
  );
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({
    model: 'test-model',
    role: 'assistant',
    content: { type: 'text', text: 'a sampled answer' },
  }));
  client.setRequestHandler(ElicitRequestSchema, async () => ({
    action: 'accept',
    content: { name: 'Ada Lovelace', email: 'ada@example.com', age: 36, check: true, color: 'red' },
  }));
  client.setRequestHandler(ListRootsRequestSchema, async () => ({
    roots: [{ uri: 'file:///work/ada', name: 'ada' }],
  }));
  await client.connect(transport);
});

afterAll(async () => {
  await client.close();
});

const text = (result: unknown): string => JSON.stringify((result as { content: unknown }).content);

describe('mcplane stdio fronting server-everything', () => {
  it('lists and calls tools of the shared and the session-mode server', async () => {
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(
      expect.arrayContaining(['shared__echo', 'shared__get-sum', 'own__trigger-sampling-request']),
    );
    expect(text(await client.callTool({ name: 'shared__echo', arguments: { message: 'hello' } }))).toContain(
      'hello',
    );
    expect(text(await client.callTool({ name: 'shared__get-sum', arguments: { a: 2, b: 3 } }))).toContain(
      '5',
    );
  });

  it('relays progress under the client token', async () => {
    const progress: number[] = [];
    const result = await client.callTool(
      { name: 'shared__trigger-long-running-operation', arguments: { duration: 1, steps: 4 } },
      undefined,
      { onprogress: (update) => progress.push(update.progress) },
    );
    expect(text(result)).toMatch(/completed/i);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
  });

  it('lists and reads resources, templates and prompts', async () => {
    const resources = (await client.listResources()).resources;
    expect(resources.length).toBeGreaterThan(0);
    const first = resources[0]!;
    const read = await client.readResource({ uri: first.uri });
    expect(read.contents[0]?.uri).toBe(first.uri);
    const templates = (await client.listResourceTemplates()).resourceTemplates.map(
      (template) => template.uriTemplate,
    );
    expect(templates).toContain('demo://resource/dynamic/text/{resourceId}');
    const dynamic = await client.readResource({ uri: 'demo://resource/dynamic/text/7' });
    expect(dynamic.contents[0]?.uri).toBe('demo://resource/dynamic/text/7');
    const prompt = await client.getPrompt({ name: 'shared__args-prompt', arguments: { city: 'Paris' } });
    expect(JSON.stringify(prompt.messages)).toContain('Paris');
  });

  it('delivers resource updates to a subscribed client', async () => {
    let updated = '';
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => {
      updated = notification.params.uri;
    });
    const uri = 'demo://resource/dynamic/text/1';
    await client.subscribeResource({ uri });
    // Both servers declare this template; the first in config order (shared) owns the URI.
    await client.callTool({ name: 'shared__toggle-subscriber-updates', arguments: {} });
    await eventually(() => updated === uri, 10_000);
    await client.callTool({ name: 'shared__toggle-subscriber-updates', arguments: {} });
  });

  it('round-trips sampling, elicitation and roots in session mode', async () => {
    const sampled = await client.callTool({
      name: 'own__trigger-sampling-request',
      arguments: { prompt: 'hi', maxTokens: 10 },
    });
    expect(text(sampled)).toContain('a sampled answer');
    const elicited = await client.callTool({ name: 'own__trigger-elicitation-request', arguments: {} });
    expect(text(elicited)).toContain('Ada Lovelace');
    const roots = await client.callTool({ name: 'own__get-roots-list', arguments: {} });
    expect(text(roots)).toContain('file:///work/ada');
  });
});
