/**
 * What a new user of `mcplane serve` sees: a busy port explained in one line, and a stdio snippet
 * that works when pasted (the package is not published, so `npx mcplane` would not).
 */
import { createServer, type Server } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, FIXTURE } from '../support/harness.ts';
import { killServes, runServe, startServe, writeServeConfig } from '../support/serve-cli.ts';

afterEach(() => killServes());

const CONFIG = `gateway:
  auth: { anonymous: { tenant: local } }
servers:
  fixture:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(FIXTURE)}]
    env: { FIXTURE_STDERR_BANNER: 'fixture says hello on stderr' }
    pool: { min: 1, max: 1 }
tenants:
  local: { name: Local }
`;

async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe('mcplane serve for a first-time user', () => {
  it('on a busy port prints one line naming the port and how to change it, starts nothing, and exits 1', async () => {
    const { port, server } = await occupiedPort();
    try {
      const config = writeServeConfig(CONFIG);
      for (const run of [
        runServe(['--config', config, '--port', String(port)]),
        runServe(['--config', config], { MCPLANE_PORT: String(port) }),
      ]) {
        expect(await run.exited).toBe(1);
        const lines = run.stderr().trimEnd().split('\n');
        expect(lines).toEqual([
          `mcplane serve: port ${port} on 127.0.0.1 is already in use; choose another with --port <n> or MCPLANE_PORT (0 picks a free one)`,
        ]);
        // No stack trace, and no child was started (its stderr banner would be logged).
        expect(run.stdout()).toBe('');
      }
    } finally {
      server.close();
    }
  });

  it('prints a stdio bridge snippet that a stdio client can run as printed', async () => {
    const serve = await startServe(writeServeConfig(CONFIG));
    await eventually(() => serve.stdout().includes('for clients that speak HTTP'), 5_000);
    const line = serve
      .stdout()
      .split('\n')
      .find((text) => text.includes('"mcpServers"') && text.includes('bridge'));
    expect(line).toBeDefined();
    expect(line).not.toContain('npx');
    const snippet = JSON.parse(line as string) as {
      mcpServers: { mcplane: { command: string; args: string[] } };
    };
    const { command, args } = snippet.mcpServers.mcplane;
    expect(args).toContain(serve.url.href);

    const client = new Client({ name: 'pasted-snippet', version: '1.0.0' });
    // As a desktop client would run it: its own environment, no shell, from anywhere.
    await client.connect(new StdioClientTransport({ command, args, cwd: '/' }));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toContain('fixture__echo');
    } finally {
      await client.close();
    }
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  });
});
