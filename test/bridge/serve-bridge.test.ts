/**
 * The whole desktop path: an SDK client on the stdio of `mcplane bridge`, relaying over HTTP to
 * `mcplane serve`, which fronts the published `@modelcontextprotocol/server-everything`. Both
 * are the real CLI in child processes; the API key travels only in the bridge's environment.
 */
import { execFileSync, spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/identity/api-key-format.ts';
import { hashApiKey } from '../../src/identity/api-key-hash.ts';
import { eventually, isRunning, logsFlushed, writeEverythingConfig } from '../support/harness.ts';
import {
  connectToBridge,
  reapBridges,
  spawnBridge,
  stopBridge,
  type BridgeClient,
} from './bridge-process.ts';

const BIN = fileURLToPath(new URL('../../bin/mcplane.js', import.meta.url));

type Serve = {
  pid: number;
  url: string;
  children: number[];
  exited: Promise<number | null>;
  stderr: () => string;
};

let serve: Serve;
let connected: BridgeClient;
let bridge: ReturnType<typeof spawnBridge>;
const { key, id: keyId } = generateApiKey();

beforeAll(async () => {
  const config = writeEverythingConfig(
    `    apiKeys: [{ id: ${JSON.stringify(keyId)}, hash: ${JSON.stringify(hashApiKey(key))} }]\n`,
  );
  serve = await startServe(config);
  bridge = spawnBridge(['--url', serve.url], { MCPLANE_API_KEY: key });
  connected = await connectToBridge(bridge, {
    capabilities: { sampling: {} },
    sampledText: 'a sampled answer',
  });
});

afterAll(async () => {
  await connected.client.close();
  expect(await stopBridge(bridge)).toEqual({ code: 0, signal: null });
  expect(await reapBridges()).toEqual([]);
  process.kill(serve.pid, 'SIGTERM');
  expect(await serve.exited).toBe(0);
  await eventually(() => serve.children.every((pid) => !isRunning(pid)), 10_000);
});

const text = (result: unknown): string => JSON.stringify((result as { content: unknown }).content);

describe('mcplane bridge to mcplane serve fronting server-everything', () => {
  it('lists and calls tools through both hops', async () => {
    const names = (await connected.client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['shared__echo', 'own__trigger-sampling-request']));
    const echoed = await connected.client.callTool({
      name: 'shared__echo',
      arguments: { message: 'hi there' },
    });
    expect(text(echoed)).toContain('hi there');
  });

  it('relays progress from the stdio child to the desktop client', async () => {
    const progress: number[] = [];
    const result = await connected.client.callTool(
      { name: 'shared__trigger-long-running-operation', arguments: { duration: 1, steps: 4 } },
      undefined,
      { onprogress: (update) => progress.push(update.progress) },
    );
    expect(text(result)).toMatch(/completed/i);
    expect(progress.length).toBeGreaterThanOrEqual(3);
  });

  it('relays a sampling request from the child to the desktop client and back', async () => {
    const result = await connected.client.callTool({
      name: 'own__trigger-sampling-request',
      arguments: { prompt: 'say something', maxTokens: 20 },
    });
    expect(text(result)).toContain('a sampled answer');
  });

  it('keeps the key out of both logs', async () => {
    await logsFlushed();
    expect(bridge.stderr()).not.toContain(key);
    expect(serve.stderr()).not.toContain(key);
    // The SDK Client handles a response before a notification read in the same chunk, so it can
    // report the last progress of a call as unknown (typescript-sdk issue 2580, MCP-NOTES.md);
    // the bridge wrote them in order. Anything else on the client's transport is a defect.
    const unexplained = connected.transportErrors.filter(
      (error) => !error.message.startsWith('Received a progress notification for an unknown token'),
    );
    expect(unexplained).toEqual([]);
  });
});

async function startServe(config: string): Promise<Serve> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--config', config, '--port', '0', '--log-level', 'warn'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
        MCPLANE_STORE_URL: 'sqlite::memory:',
      },
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await eventually(() => /serving MCP at (\S+)/.test(stdout), 20_000);
  const url = (/serving MCP at (\S+)/.exec(stdout) as RegExpExecArray)[1] as string;
  const pid = child.pid as number;
  // The pool's warm children, to check after SIGTERM that none is left.
  await eventually(() => childPids(pid).length >= 2, 20_000);
  return { pid, url, children: childPids(pid), exited, stderr: () => stderr };
}

function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((child) => child > 0);
  } catch {
    return [];
  }
}
