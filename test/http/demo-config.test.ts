/**
 * The bundled servers.config.yaml, as `npm start` serves it: its `files` server gives read-only
 * access to this repository's docs, and a client's roots cannot widen that. Loads the real file
 * and talks to it over HTTP as an anonymous client would.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { connectHttpClient, startHttpGateway, stopHttpGateways } from './http-harness.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

const text = (result: unknown): string => JSON.stringify((result as { content?: unknown }).content);

describe('the demo config', () => {
  it('an anonymous client that declares file:///etc as a root cannot read /etc/hostname, nor write in docs', async () => {
    const http = await startHttpGateway(await loadConfig(resolve('servers.config.yaml')));
    const { client } = await connectHttpClient(http, {}, { roots: { listChanged: true } });
    let asked = 0;
    client.setRequestHandler(ListRootsRequestSchema, async () => {
      asked++;
      return { roots: [{ uri: 'file:///etc', name: 'etc' }] };
    });
    await client.sendRootsListChanged();

    const allowed = await client.callTool({ name: 'files__list_allowed_directories', arguments: {} });
    expect(text(allowed)).toContain(resolve('docs'));
    expect(text(allowed)).not.toContain('/etc');

    const hostname = await client.callTool({
      name: 'files__read_text_file',
      arguments: { path: '/etc/hostname' },
    });
    expect(hostname.isError).toBe(true);
    expect(text(hostname)).toMatch(/outside allowed directories/);

    const target = resolve('docs', 'written-by-an-anonymous-client.txt');
    const written = await client.callTool({
      name: 'files__write_file',
      arguments: { path: target, content: 'nope' },
    });
    expect(written.isError).toBe(true);
    expect(existsSync(target)).toBe(false);

    // What it is for still works.
    const readme = await client.callTool({
      name: 'files__read_text_file',
      arguments: { path: resolve('docs', 'README.md'), head: 1 },
    });
    expect(readme.isError).not.toBe(true);
    expect(asked).toBe(0);
  });
});
