/**
 * Runs `node bin/mcplane.js bridge …` as a real child process and connects the SDK `Client` to
 * its stdio, the way a desktop client does. The child is spawned here (not by the SDK's
 * StdioClientTransport) so tests can read its exit code; the client reads the child's stdout
 * with the SDK's stdio framing, and any line that is not JSON-RPC is recorded as an error.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CreateMessageRequestSchema, type ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { eventually, isRunning } from '../support/harness.ts';

const BIN = fileURLToPath(new URL('../../bin/mcplane.js', import.meta.url));

export type BridgeProcess = {
  readonly child: ChildProcessWithoutNullStreams;
  readonly pid: number;
  /** Everything the bridge wrote to stderr so far. */
  stderr(): string;
  /** Settles when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

const spawned: BridgeProcess[] = [];

export function spawnBridge(args: string[], env: Record<string, string> = {}): BridgeProcess {
  const child = spawn(process.execPath, [BIN, 'bridge', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, ...env },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const bridge: BridgeProcess = { child, pid: child.pid as number, stderr: () => stderr, exited };
  spawned.push(bridge);
  return bridge;
}

export type BridgeClient = {
  readonly client: Client;
  /** Errors the client saw on its transport: a non-JSON line on stdout would land here. */
  readonly transportErrors: Error[];
};

/** An SDK client on the bridge's stdio; with `sampling`, it answers createMessage itself. */
export async function connectToBridge(
  bridge: BridgeProcess,
  options: { capabilities?: ClientCapabilities; sampledText?: string } = {},
): Promise<BridgeClient> {
  const client = new Client(
    { name: 'desktop-client', version: '1.0.0' },
    { capabilities: options.capabilities ?? {} },
  );
  const transportErrors: Error[] = [];
  client.onerror = (error) => transportErrors.push(error);
  if (options.sampledText !== undefined) {
    const text = options.sampledText;
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({
      model: 'test-model',
      role: 'assistant',
      content: { type: 'text', text },
    }));
  }
  // The server-side stdio transport reads a stream and writes one, which is what a client of a
  // child process needs: it reads the child's stdout and writes the child's stdin.
  await client.connect(new StdioServerTransport(bridge.child.stdout, bridge.child.stdin));
  return { client, transportErrors };
}

/** Closes stdin (how desktop clients stop a server) and waits for the exit. */
export async function stopBridge(
  bridge: BridgeProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  bridge.child.stdin.end();
  return bridge.exited;
}

/**
 * Stops every bridge the tests spawned that is still running by closing its stdin, waits until
 * each process is gone, and returns the pids that did not exit by themselves within 3 s and had to
 * be killed; tests expect none.
 */
export async function reapBridges(): Promise<number[]> {
  const leftovers: number[] = [];
  for (const bridge of spawned.splice(0)) {
    if (bridge.child.exitCode === null && bridge.child.signalCode === null) {
      bridge.child.stdin.end();
      const exited = await Promise.race([bridge.exited.then(() => true), sleep(3000).then(() => false)]);
      if (!exited) {
        leftovers.push(bridge.pid);
        bridge.child.kill('SIGKILL');
      }
    }
    await eventually(() => !isRunning(bridge.pid), 5000);
  }
  return leftovers;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}
