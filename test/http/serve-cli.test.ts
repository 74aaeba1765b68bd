/**
 * `mcplane serve` end to end: the real CLI on port 0, and a graceful SIGTERM that lets calls in
 * flight finish, stops every child and exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURE, isRunning, textJson } from '../support/harness.ts';

const CLI = fileURLToPath(new URL('../../bin/mcplane.js', import.meta.url));
const SERVING = /^mcplane is serving MCP at (\S+)$/;

let cli: ChildProcess | undefined;
let scratch: string | undefined;
afterEach(() => {
  // Only if a test failed before the CLI exited on its own.
  if (cli && cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
  cli = undefined;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

/** A config with absolute paths only, so it works from any working directory. */
function writeConfig(): string {
  scratch = mkdtempSync(join(tmpdir(), 'mcplane-serve-'));
  const file = join(scratch, 'servers.config.yaml');
  writeFileSync(
    file,
    [
      'gateway:',
      // The test checks the pid the fixture reports, which is only the host's outside bubblewrap.
      '  processIsolation: none',
      '  auth:',
      '    anonymous: { tenant: local }',
      '  http: { shutdownGrace: 10s }',
      'servers:',
      '  fixture:',
      `    command: ${JSON.stringify(process.execPath)}`,
      `    args: [${JSON.stringify(FIXTURE)}]`,
      '    pool: { min: 1, max: 1, maxInflight: 16 }',
      '    timeouts: { startup: 10s, call: 10s, shutdown: 500ms }',
      'tenants:',
      '  local: { name: Local }',
      '',
    ].join('\n'),
  );
  return file;
}

/** Starts the CLI and resolves with the URL it prints on its first line. */
async function startCli(config: string): Promise<{ url: URL; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', config, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MCPLANE_STORE_URL: 'sqlite::memory:' },
  });
  cli = child;
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    exited.then((code) => {
      throw new Error(`mcplane serve exited with ${code}: ${stderr}`);
    }),
  ]);
  lines.on('line', () => undefined);
  const url = SERVING.exec(first)?.[1];
  if (url === undefined) throw new Error(`unexpected first line: ${first}`);
  return { url: new URL(url), exited };
}

describe('mcplane serve', () => {
  it('on SIGTERM lets three calls in flight complete, stops its children and exits 0', async () => {
    const { url, exited } = await startCli(writeConfig());
    expect(url.hostname).toBe('127.0.0.1');
    expect(Number(url.port)).toBeGreaterThan(0);
    expect(url.pathname).toBe('/mcp');

    const client = new Client({ name: 'serve-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(url));
    try {
      const { pid } = textJson<{ pid: number }>(
        await client.callTool({ name: 'fixture__pid', arguments: {} }),
      );
      expect(isRunning(pid)).toBe(true);

      // Each call reports progress once it runs in the child; SIGTERM goes out when all three do.
      const started: Promise<void>[] = [];
      const calls = [1, 2, 3].map((n) => {
        let running: () => void = () => undefined;
        started.push(new Promise<void>((resolve) => (running = resolve)));
        return client.callTool({ name: 'fixture__slow', arguments: { ms: 1_000, steps: 4, n } }, undefined, {
          onprogress: () => running(),
        });
      });
      await Promise.all(started);
      cli?.kill('SIGTERM');

      const results = await Promise.all(calls);
      for (const result of results) {
        expect(result.isError).toBeFalsy();
        expect(result.content).toEqual([{ type: 'text', text: 'done' }]);
      }
      expect(await exited).toBe(0);
      expect(isRunning(pid)).toBe(false);
    } finally {
      await client.close();
    }
  });
});
