/**
 * The HTTP servers under test, each started as its own process (in its own process group) in
 * front of the same stdio fixture, and stopped by a ladder: SIGTERM, then SIGKILL of the group
 * and of every descendant ever seen, so that nothing outlives the run.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive, TreeSampler } from './process-tree.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURE = path.join(ROOT, 'test/fixtures/fixture-server.ts');
const NODE = process.execPath;
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 6_000;

export type PoolMode = 'shared' | 'tenant' | 'session';

export type Subject = {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** The fixture's echo tool as this subject names it. */
  readonly tool: string;
  readonly sampler: TreeSampler;
  /** Stops the subject; resolves to the pids (its own or descendants) still alive afterwards. */
  stop(): Promise<number[]>;
};

const running = new Set<{ pid: number; sampler: TreeSampler }>();

/** Last resort when the benchmark itself dies: kill every group and descendant it started. */
process.once('exit', () => {
  for (const { pid, sampler } of running) {
    for (const target of [-pid, pid, ...sampler.seen]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

export const scratch = mkdtempSync(path.join(os.tmpdir(), 'mcplane-bench-http-'));
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));

/**
 * `nodeArgs` go to the node running mcplane (e.g. `--cpu-prof`); `extra.gateway` is merged into
 * the config's `gateway:` and `extra.env` into its environment (bench/telemetry.ts).
 */
export function startMcplane(
  mode: PoolMode,
  pool: { min: number; max: number },
  nodeArgs: readonly string[] = [],
  extra: {
    readonly name?: string;
    readonly gateway?: Record<string, unknown>;
    readonly env?: Record<string, string>;
    /** Another checkout of mcplane to run instead of this one (a baseline to compare with). */
    readonly root?: string;
    /** A policy file's text: written to a folder of its own, which `gateway.policies.dir` names. */
    readonly policies?: string;
  } = {},
): Promise<Subject> {
  const name = extra.name ?? `mcplane (${mode})`;
  const slug = name.replace(/[^a-z0-9-]+/gi, '-');
  const policyDir = path.join(scratch, `${slug}-policies`);
  if (extra.policies !== undefined) {
    mkdirSync(policyDir, { recursive: true });
    writeFileSync(path.join(policyDir, 'bench.yaml'), extra.policies);
  }
  const config = {
    // `admin` lets the benchmark read the spare counts off /ready (never do this on a network).
    // Every benchmark session comes from the one anonymous principal, far past the default limits.
    gateway: {
      auth: { anonymous: { tenant: 't', scopes: ['*', 'admin'] } },
      sessionLimits: { perTenant: 1_000_000, perPrincipal: 1_000_000 },
      // A store of its own in the run's scratch folder (removed at exit), not the default
      // .mcplane/ of the directory the benchmark runs in: subjects do not share one file (nor a
      // schema version: a baseline checkout may be older), and a run leaves nothing behind.
      store: { url: `sqlite:${path.join(scratch, `${slug}-store`, 'mcplane.db')}` },
      ...(extra.policies === undefined ? {} : { policies: { dir: policyDir } }),
      ...extra.gateway,
    },
    servers: {
      fx: { command: NODE, args: [FIXTURE], mode, pool: { ...pool, maxInflight: 1000 } },
    },
    tenants: { t: { name: 'Benchmark tenant' } },
  };
  // JSON is YAML, so the config needs no YAML writer.
  const file = path.join(scratch, `${slug}.yaml`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  const child = launch(
    [...nodeArgs, path.join(extra.root ?? ROOT, 'bin/mcplane.js'), 'serve', '--config', file, '--port', '0'],
    extra.env,
  );
  return started(name, child, 'fx__echo', /mcplane is serving MCP at (\S+)/);
}

export async function startSupergateway(): Promise<Subject> {
  const port = await freePort();
  const child = launch([
    path.join(ROOT, 'node_modules/supergateway/dist/index.js'),
    '--stdio',
    `'${NODE}' '${FIXTURE}'`,
    '--outputTransport',
    'streamableHttp',
    '--stateful',
    '--port',
    String(port),
    // Its default level logs every message; the benchmark measures the proxy, not its logging.
    '--logLevel',
    'none',
  ]);
  return started('supergateway', child, 'echo', port);
}

export async function startMcpProxy(): Promise<Subject> {
  const port = await freePort();
  const child = launch([
    path.join(ROOT, 'node_modules/mcp-proxy/dist/bin/mcp-proxy.mjs'),
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--server',
    'stream',
    '--',
    NODE,
    FIXTURE,
  ]);
  return started('mcp-proxy', child, 'echo', port);
}

export function startBare(): Promise<Subject> {
  const child = launch([path.join(ROOT, 'bench/http/bare-server.ts'), FIXTURE]);
  return started('bare node:http', child, 'echo', /listening at (\S+)/);
}

/** The lean multiplexer (bench/http/lean-multiplexer.ts) over one fixture child. */
export function startLean(): Promise<Subject> {
  const child = launch([path.join(ROOT, 'bench/http/lean-multiplexer.ts'), NODE, FIXTURE]);
  return started('lean multiplexer', child, 'echo', /listening at (\S+)/);
}

function launch(args: string[], env?: Record<string, string>): ChildProcessWithoutNullStreams {
  // stdin stays open: supergateway stops when its stdin ends.
  return spawn(NODE, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(env === undefined ? {} : { env: { ...process.env, ...env } }),
  });
}

/** Waits until the subject serves (a URL printed on stdout, or a port accepting connections). */
async function started(
  name: string,
  child: ChildProcessWithoutNullStreams,
  tool: string,
  ready: RegExp | number,
): Promise<Subject> {
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} did not start`);
  const sampler = new TreeSampler(pid);
  const entry = { pid, sampler };
  running.add(entry);
  let output = '';
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (output = (output + chunk).slice(-8_000)));
  child.stderr.on('data', (chunk: string) => (output = (output + chunk).slice(-8_000)));
  child.stdin.on('error', () => {});

  const stop = async (): Promise<number[]> => {
    sampler.sample(true);
    sampler.stop();
    if (!exited) process.kill(pid, 'SIGTERM');
    await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS))]);
    for (const target of [-pid, ...sampler.seen]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    child.stdin.end();
    await new Promise((resolve) => setTimeout(resolve, 300));
    running.delete(entry);
    return [pid, ...sampler.seen].filter(isAlive);
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  let url: string | undefined;
  while (url === undefined && !exited && Date.now() < deadline) {
    if (typeof ready === 'number') {
      if (await accepts(ready)) url = `http://127.0.0.1:${ready}/mcp`;
    } else {
      url = ready.exec(output)?.[1];
    }
    if (url === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (url === undefined) {
    await stop();
    throw new Error(`${name} did not start:\n${output}`);
  }
  sampler.start();
  return { name, url, pid, tool, sampler, stop };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
