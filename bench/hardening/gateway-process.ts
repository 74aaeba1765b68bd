/**
 * The gateway under attack: `mcplane serve` as its own process (in its own process group) in
 * front of the stdio fixture, with the config's defaults for every bound. Its RSS is read from
 * /proc for its pid alone (not its children), sampled often enough to catch the peak. Garbage
 * collection is asked for over the inspector protocol (HeapProfiler.collectGarbage), so the
 * gateway needs no test-only hook; the inspector listens on loopback only.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { descendants, isAlive, rssBytes } from '../http/process-tree.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = path.join(ROOT, 'test/fixtures/fixture-server.ts');
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 8_000;
const SAMPLE_MS = 20;

export type GatewayProcess = {
  /** The Streamable HTTP endpoint, e.g. http://127.0.0.1:PORT/mcp */
  readonly url: URL;
  readonly pid: number;
  /** The gateway's RSS now, in bytes. */
  rss(): number;
  /** Starts keeping the peak RSS from now on. */
  resetPeak(): void;
  readonly peak: number;
  /** Full garbage collections in the gateway, with pauses for the allocator to give pages back. */
  collectGarbage(): Promise<void>;
  /** The gateway's own view of its memory (process.memoryUsage()), read over the inspector. */
  memoryUsage(): Promise<NodeJS.MemoryUsage>;
  /** Stops the gateway; resolves to the pids (its own or descendants) still alive afterwards. */
  stop(): Promise<number[]>;
};

/**
 * `nodeArgs` go to the node running mcplane (the heap limit `npm start` sets); `http` is merged
 * into the config's `gateway.http` (the bench passes nothing, to measure the defaults).
 */
export async function startGateway(
  nodeArgs: readonly string[],
  http: Record<string, unknown> = {},
): Promise<GatewayProcess> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'mcplane-bench-hardening-'));
  const config = {
    gateway: {
      auth: { anonymous: { tenant: 't' } },
      http,
      // The data plane's own bounds are measured: the output guard would truncate each 1 MB
      // result to 256 KiB (gateway.guards.oversizedOutput), and the 2,000 idle sessions all come
      // from one principal, far past the default session limits.
      guards: { enabled: false },
      sessionLimits: { perTenant: 1_000_000, perPrincipal: 1_000_000 },
      store: { url: 'sqlite::memory:' },
    },
    servers: {
      // Shared mode: every session uses the same two processes, so the bench measures the
      // gateway's own memory, not a process per session.
      fx: {
        command: process.execPath,
        args: [FIXTURE],
        mode: 'shared',
        pool: { min: 1, max: 2, maxInflight: 256 },
      },
    },
    tenants: { t: { name: 'Bench tenant' } },
  };
  const file = path.join(scratch, 'servers.config.yaml');
  // JSON is YAML, so the config needs no YAML writer.
  writeFileSync(file, JSON.stringify(config, null, 2));
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      '--inspect=127.0.0.1:0',
      path.join(ROOT, 'bin/mcplane.js'),
      'serve',
      '--config',
      file,
      '--port',
      '0',
      '--log-level',
      'warn',
    ],
    { cwd: ROOT, detached: true, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('mcplane did not start');
  const seen = new Set<number>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output = collectOutput(child);
  const emergency = (): void => killAll(pid, seen);
  process.once('exit', emergency);

  const stop = async (): Promise<number[]> => {
    for (const descendant of descendants(pid)) seen.add(descendant);
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS))]);
    killAll(pid, seen);
    child.stdin.end();
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.off('exit', emergency);
    rmSync(scratch, { recursive: true, force: true });
    return [pid, ...seen].filter(isAlive);
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  let url: string | undefined;
  let inspector: string | undefined;
  while ((url === undefined || inspector === undefined) && Date.now() < deadline && child.exitCode === null) {
    url = /mcplane is serving MCP at (\S+)/.exec(output.text)?.[1];
    inspector = /Debugger listening on (ws:\/\/\S+)/.exec(output.text)?.[1];
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (url === undefined || inspector === undefined) {
    await stop();
    throw new Error(`mcplane did not start:\n${output.text}`);
  }
  const debuggerSocket = await connectInspector(inspector);

  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, SAMPLE_MS);
  sampler.unref();

  return {
    url: new URL(url),
    pid,
    rss: () => rssBytes(pid),
    resetPeak: () => {
      peak = rssBytes(pid);
    },
    get peak() {
      return Math.max(peak, rssBytes(pid));
    },
    collectGarbage: async () => {
      for (const pauseMs of [2_000, 1_000]) {
        await debuggerSocket.call('HeapProfiler.collectGarbage');
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    },
    memoryUsage: async () => {
      const reply = (await debuggerSocket.call('Runtime.evaluate', {
        expression: 'JSON.stringify(process.memoryUsage())',
        returnByValue: true,
      })) as { result: { value: string } };
      return JSON.parse(reply.result.value) as NodeJS.MemoryUsage;
    },
    stop: async () => {
      clearInterval(sampler);
      debuggerSocket.close();
      return stop();
    },
  };
}

function collectOutput(child: ChildProcessWithoutNullStreams): { text: string } {
  const output = { text: '' };
  const keep = (chunk: string): void => {
    output.text = (output.text + chunk).slice(-16_000);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  child.stdin.on('error', () => undefined);
  return output;
}

function killAll(pid: number, seen: Set<number>): void {
  for (const target of [-pid, pid, ...seen]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

type Inspector = {
  call(method: string, params?: Record<string, unknown>): Promise<unknown>;
  close(): void;
};

/** A minimal Chrome DevTools Protocol client: one call at a time, answered by id. */
async function connectInspector(url: string): Promise<Inspector> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error('inspector connection failed')), { once: true });
  });
  let nextId = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  socket.addEventListener('message', (event) => {
    const reply = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (reply.id !== undefined) waiting.get(reply.id)?.(reply.result);
  });
  return {
    call: (method, params) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => reject(new Error(`${method} got no answer`)), 30_000);
        waiting.set(id, (result) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(result);
        });
        socket.send(JSON.stringify({ id, method, ...(params ? { params } : {}) }));
      }),
    close: () => socket.close(),
  };
}
