/**
 * `mcplane bridge` as a desktop client sees it: the real CLI as a child process, the SDK client on
 * its stdio, and a real SDK MCP server over HTTP on 127.0.0.1 at the other end.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, isRunning, logsFlushed } from '../support/harness.ts';
import { connectToBridge, reapBridges, spawnBridge, stopBridge } from './bridge-process.ts';
import { startLegacyRemote, startStreamableRemote, type RemoteServer } from './remote-server.ts';

const API_KEY = 'mcpl_bridgeTestKey_s3cr3tV4lue';
const remotes: RemoteServer[] = [];

async function remote(start: () => Promise<RemoteServer>): Promise<RemoteServer> {
  const server = await start();
  remotes.push(server);
  return server;
}

afterEach(async () => {
  expect(await reapBridges()).toEqual([]);
  await Promise.all(remotes.splice(0).map((server) => server.close()));
});

const text = (result: unknown): string =>
  (result as { content: { type: string; text?: string }[] }).content.map((part) => part.text ?? '').join('');

describe('mcplane bridge over Streamable HTTP', () => {
  it('relays tool calls both ways and exits 0 with no process left when stdin closes', async () => {
    const server = await remote(() => startStreamableRemote());
    const bridge = spawnBridge(['--url', server.url]);
    const { client, transportErrors } = await connectToBridge(bridge);

    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['echo', 'count', 'ask-model']),
    );
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'hello' } }))).toBe(
      'echo: hello',
    );

    await client.close();
    expect(await stopBridge(bridge)).toEqual({ code: 0, signal: null });
    expect(isRunning(bridge.pid)).toBe(false);
    expect(transportErrors).toEqual([]);
    // The bridge ended the remote session on its way out.
    expect(server.seen.some((request) => request.method === 'DELETE')).toBe(true);
  });

  it('relays progress notifications under the client progress token', async () => {
    const server = await remote(() => startStreamableRemote());
    const bridge = spawnBridge(['--url', server.url]);
    const { client } = await connectToBridge(bridge);
    const progress: number[] = [];
    const result = await client.callTool({ name: 'count', arguments: { steps: 5 } }, undefined, {
      onprogress: (update) => progress.push(update.progress),
    });
    expect(text(result)).toBe('counted to 5');
    expect(progress).toEqual([1, 2, 3, 4, 5]);
  });

  it('relays a sampling request from the remote to the client and its answer back', async () => {
    const server = await remote(() => startStreamableRemote());
    const bridge = spawnBridge(['--url', server.url]);
    const { client } = await connectToBridge(bridge, {
      capabilities: { sampling: {} },
      sampledText: 'forty-two',
    });
    const result = await client.callTool({ name: 'ask-model', arguments: { question: 'the answer?' } });
    expect(text(result)).toBe('the model said: forty-two');
  });

  it('sends the API key as a bearer header on every request and never writes it to stderr', async () => {
    const server = await remote(() => startStreamableRemote({ requiredToken: API_KEY }));
    const bridge = spawnBridge(['--url', server.url, '--header', 'X-Desk: ada', '--log-level', 'debug'], {
      MCPLANE_API_KEY: API_KEY,
    });
    const { client } = await connectToBridge(bridge);
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'ok' } }))).toBe('echo: ok');
    await client.close();
    expect((await stopBridge(bridge)).code).toBe(0);

    expect(server.seen.length).toBeGreaterThanOrEqual(4);
    for (const request of server.seen) {
      expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(request.headers['x-desk']).toBe('ada');
    }
    expect(bridge.stderr()).toContain('connected to the remote');
    expect(bridge.stderr()).not.toContain(API_KEY);
    expect(bridge.stderr()).not.toContain('s3cr3t');
  });

  it('answers initialize with a clear error when the remote refuses the key, without echoing it', async () => {
    const server = await remote(() => startStreamableRemote({ requiredToken: 'another-key' }));
    const bridge = spawnBridge(['--url', server.url, '--api-key', API_KEY]);
    const failure = await connectToBridge(bridge).then(
      () => new Error('connected'),
      (error: unknown) => error as Error,
    );
    expect(failure.message).toMatch(/refused the credentials \(HTTP 401\)/);
    expect(failure.message).not.toContain(API_KEY);
    await logsFlushed();
    expect(bridge.stderr()).not.toContain(API_KEY);
  });

  it('re-initializes transparently when the remote forgets the session (404) and the call still succeeds', async () => {
    const server = await remote(() => startStreamableRemote());
    const bridge = spawnBridge(['--url', server.url]);
    const { client, transportErrors } = await connectToBridge(bridge);
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'one' } }))).toBe('echo: one');
    const sessionBefore = server.seen.at(-1)?.headers['mcp-session-id'];

    await server.dropSessions();
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'two' } }))).toBe('echo: two');

    const initializes = server.seen.filter((request) => request.rpcMethod === 'initialize');
    expect(initializes).toHaveLength(2);
    expect(server.seen.filter((request) => request.rpcMethod === 'notifications/initialized')).toHaveLength(
      2,
    );
    const sessionAfter = server.seen.at(-1)?.headers['mcp-session-id'];
    expect(sessionAfter).toBeDefined();
    expect(sessionAfter).not.toBe(sessionBefore);
    // The replayed InitializeResult was swallowed: the client got nothing it did not ask for.
    expect(transportErrors).toEqual([]);
    await eventually(() => bridge.stderr().includes('re-initialized the remote session'));
  });

  it('resumes a response stream the remote closed mid-call with Last-Event-ID', async () => {
    const server = await remote(() => startStreamableRemote());
    const bridge = spawnBridge(['--url', server.url]);
    const { client } = await connectToBridge(bridge);
    const result = await client.callTool({ name: 'interrupted', arguments: {} });
    expect(text(result)).toBe('answered after the stream broke');
    const resumed = server.seen.filter(
      (request) => request.method === 'GET' && request.headers['last-event-id'],
    );
    expect(resumed.length).toBeGreaterThanOrEqual(1);
  });

  it('works with a server that answers in JSON, where a slow call does not hold back a quick one', async () => {
    const server = await remote(() => startStreamableRemote({ jsonResponse: true }));
    const bridge = spawnBridge(['--url', server.url]);
    const { client } = await connectToBridge(bridge);
    const finished: string[] = [];
    const slow = client
      .callTool({ name: 'slow', arguments: { ms: 3000 } })
      .then((result) => finished.push(text(result)));
    const quick = client
      .callTool({ name: 'echo', arguments: { message: 'quick' } })
      .then((result) => finished.push(text(result)));
    await Promise.all([slow, quick]);
    expect(finished).toEqual(['echo: quick', 'slept 3000 ms']);
  });

  it('keeps retrying with backoff while the remote is down, then connects once it is up', async () => {
    const port = await freePort();
    const bridge = spawnBridge(['--url', `http://127.0.0.1:${port}/mcp`]);
    const connecting = connectToBridge(bridge);
    const retries = (): number =>
      (bridge.stderr().match(/the remote is unreachable; retrying/g) ?? []).length;
    await eventually(() => retries() >= 3);
    const server = await remote(() => startStreamableRemote({ port }));
    const { client } = await connecting;
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'late' } }))).toBe('echo: late');
    // The delays grow: 250 ms doubling (with jitter), so three retries take well over 250 ms.
    const delays = [...bridge.stderr().matchAll(/"delayMs":(\d+)/g)].map((match) => Number(match[1]));
    expect(delays[2]).toBeGreaterThan(delays[0] as number);
    expect(server.seen.filter((request) => request.rpcMethod === 'initialize')).toHaveLength(1);
  });

  it('rides out a remote restart: waits while it is down, then re-initializes and delivers the call', async () => {
    const first = await startStreamableRemote();
    const bridge = spawnBridge(['--url', first.url]);
    const { client, transportErrors } = await connectToBridge(bridge);
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'before' } }))).toBe(
      'echo: before',
    );

    await first.close();
    const call = client.callTool({ name: 'echo', arguments: { message: 'across the restart' } });
    const retries = (): number =>
      (bridge.stderr().match(/the remote is unreachable; retrying/g) ?? []).length;
    await eventually(() => retries() >= 1);
    const second = await remote(() => startStreamableRemote({ port: first.port }));

    expect(text(await call)).toBe('echo: across the restart');
    expect(second.seen.map((request) => request.rpcMethod).filter(Boolean)).toEqual([
      'tools/call', // the old session id: 404
      'initialize', // replayed
      'notifications/initialized',
      'tools/call',
    ]);
    expect(transportErrors).toEqual([]);
  });
});

describe('mcplane bridge against a legacy HTTP+SSE server', () => {
  it('falls back to HTTP+SSE when the POST is refused, and relays tools, progress and sampling', async () => {
    const server = await remote(() => startLegacyRemote());
    const bridge = spawnBridge(['--url', server.url, '--api-key', API_KEY]);
    const { client, transportErrors } = await connectToBridge(bridge, {
      capabilities: { sampling: {} },
      sampledText: 'legacy answer',
    });
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'old' } }))).toBe('echo: old');
    const progress: number[] = [];
    await client.callTool({ name: 'count', arguments: { steps: 3 } }, undefined, {
      onprogress: (update) => progress.push(update.progress),
    });
    expect(progress).toEqual([1, 2, 3]);
    expect(text(await client.callTool({ name: 'ask-model', arguments: { question: 'q' } }))).toBe(
      'the model said: legacy answer',
    );

    // First the Streamable HTTP POST (refused with 405), then the legacy GET and its POSTs.
    expect(server.seen[0]).toMatchObject({ method: 'POST', path: '/mcp', rpcMethod: 'initialize' });
    expect(server.seen[1]).toMatchObject({ method: 'GET', path: '/mcp' });
    expect(server.seen.slice(2).every((request) => request.path === '/messages')).toBe(true);
    expect(server.seen.every((request) => request.headers.authorization === `Bearer ${API_KEY}`)).toBe(true);
    // The bridge's log is buffered (up to LOG_FLUSH_MS): on a fast machine the calls above end first.
    await eventually(() => bridge.stderr().includes('legacy HTTP+SSE'));
    await client.close();
    expect(await stopBridge(bridge)).toEqual({ code: 0, signal: null });
    expect(transportErrors).toEqual([]);
  });

  it('opens a new event stream and re-initializes when the legacy stream breaks', async () => {
    const server = await remote(() => startLegacyRemote());
    const bridge = spawnBridge(['--url', server.url]);
    const { client, transportErrors } = await connectToBridge(bridge);
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'one' } }))).toBe('echo: one');

    await server.dropSessions();
    await eventually(() => bridge.stderr().includes('re-initialized the remote session'));
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'two' } }))).toBe('echo: two');
    expect(server.seen.filter((request) => request.method === 'GET')).toHaveLength(2);
    expect(server.seen.filter((request) => request.rpcMethod === 'initialize')).toHaveLength(3);
    expect(transportErrors).toEqual([]);
  });
});

describe('mcplane bridge command line', () => {
  it('refuses a missing --url with usage and exit code 2', async () => {
    const bridge = spawnBridge([]);
    expect((await bridge.exited).code).toBe(2);
    expect(bridge.stderr()).toContain('--url is required');
  });

  it('refuses a malformed --header without echoing its value', async () => {
    const bridge = spawnBridge(['--url', 'http://127.0.0.1:1/mcp', '--header', 'Mcp-Session-Id: hunter2']);
    expect((await bridge.exited).code).toBe(2);
    expect(bridge.stderr()).toContain('is set by the transport itself');
    expect(bridge.stderr()).not.toContain('hunter2');
  });
});

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
