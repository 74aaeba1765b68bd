/**
 * `mcplane serve` as an operator runs it: the real CLI (bin/mcplane.js) with a config file, on
 * 127.0.0.1 port 0, in its own process group. Its JSON log lines (stderr) at warn level or above
 * are counted by message, so a run can say what the gateway complained about. Stopped by SIGTERM
 * (the CLI's graceful shutdown), then, if it lingers, SIGKILL of its group and of every
 * descendant ever seen, so nothing outlives the benchmark.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive, TreeSampler } from '../http/process-tree.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin/mcplane.js');
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
/** pino's level number for `warn`. */
const WARN = 40;

export type ServeProcess = {
  readonly pid: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** The Streamable HTTP endpoint. */
  readonly mcpUrl: string;
  /** Every descendant seen while it ran (sampled every 100 ms). */
  readonly sampler: TreeSampler;
  /** Log messages at warn or above, by message, with how often each came. */
  readonly warnings: ReadonlyMap<string, number>;
  hangup(): void;
  /** Stops it; resolves with how it ended and the pids (its own or descendants) still alive. */
  stop(): Promise<{ exitCode: number | null; graceful: boolean; alive: number[] }>;
};

/** The environment a child CLI gets: this one's, without mcplane's own settings. */
export function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('MCPLANE_')) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs one mcplane command to its end and returns its stdout; throws with its stderr if it failed. */
export function runCli(args: readonly string[], cwd: string): string {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    env: cliEnv(),
    encoding: 'utf8',
    timeout: START_TIMEOUT_MS,
  });
  if (result.status !== 0) {
    throw new Error(`mcplane ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  }
  return result.stdout;
}

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

export async function startServe(configPath: string, cwd: string): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--config', configPath, '--host', '127.0.0.1', '--port', '0'],
    { cwd, env: cliEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('mcplane serve did not start');
  const sampler = new TreeSampler(pid);
  const entry = { pid, sampler };
  running.add(entry);
  const warnings = new Map<string, number>();
  let stdout = '';
  let tail: string[] = [];
  let partial = '';
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve();
    }),
  );
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (stdout = (stdout + chunk).slice(-8_000)));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      tail = [...tail.slice(-19), line];
      countWarning(line, warnings);
    }
  });

  const stop = async (): Promise<{ exitCode: number | null; graceful: boolean; alive: number[] }> => {
    sampler.sample(true);
    sampler.stop();
    if (exitCode === undefined) process.kill(pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const graceful = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), STOP_GRACE_MS))),
    ]);
    clearTimeout(timer);
    for (const target of [-pid, ...sampler.seen]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await exited;
    // Children stopped by the ladder may take a moment to be reaped by init.
    await new Promise((resolve) => setTimeout(resolve, 300));
    running.delete(entry);
    return { exitCode: exitCode ?? null, graceful, alive: [pid, ...sampler.seen].filter(isAlive) };
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  let mcpUrl: string | undefined;
  while (mcpUrl === undefined && exitCode === undefined && Date.now() < deadline) {
    mcpUrl = /mcplane is serving MCP at (\S+)/.exec(stdout)?.[1];
    if (mcpUrl === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (mcpUrl === undefined) {
    await stop();
    throw new Error(`mcplane serve did not start:\n${stdout}\n${tail.join('\n')}`);
  }
  sampler.start();
  return {
    pid,
    origin: new URL(mcpUrl).origin,
    mcpUrl,
    sampler,
    warnings,
    hangup: () => process.kill(pid, 'SIGHUP'),
    stop,
  };
}

function countWarning(line: string, warnings: Map<string, number>): void {
  let entry: { level?: unknown; msg?: unknown };
  try {
    entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
  } catch {
    return;
  }
  if (typeof entry.level !== 'number' || entry.level < WARN) return;
  const message = typeof entry.msg === 'string' ? entry.msg : '(no message)';
  warnings.set(message, (warnings.get(message) ?? 0) + 1);
}
