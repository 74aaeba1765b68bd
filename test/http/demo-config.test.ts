/**
 * The bundled servers.config.yaml, as `npm start` serves it: its `files` server gives read-only
 * access to this repository's docs, and a client's roots cannot widen that. Loads the real file
 * and talks to it over HTTP as an anonymous client would.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { connectHttpClient, startHttpGateway, stopHttpGateways } from './http-harness.ts';

const scratch: string[] = [];

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * The bundled config, with its audit log in a temporary folder: as `npm start` serves it, it
 * writes to `.mcplane/audit` under the working directory, which in a test is the checkout.
 */
async function demoConfig(): Promise<Record<string, unknown>> {
  const config = await loadConfig(resolve('servers.config.yaml'));
  const dir = mkdtempSync(join(tmpdir(), 'mcplane-demo-config-'));
  scratch.push(dir);
  return {
    ...config,
    gateway: { ...config.gateway, audit: { ...config.gateway.audit, dir: join(dir, 'audit') } },
  };
}

const text = (result: unknown): string => JSON.stringify((result as { content?: unknown }).content);

describe('the demo config', () => {
  it('an anonymous client that declares file:///etc as a root cannot read /etc/hostname, nor write in docs', async () => {
    const http = await startHttpGateway(await demoConfig());
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
