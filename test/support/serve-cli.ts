/**
 * `mcplane serve` as a real child process, for the tests that need the CLI's own paths (signals,
 * exit codes, what it prints): start it on a config, read the URL it prints, and stop it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../bin/mcplane.js', import.meta.url));
const SERVING = /^mcplane is serving MCP at (\S+)$/;

export type ServeProcess = {
  readonly child: ChildProcess;
  /** The Streamable HTTP URL from the first line. */
  readonly url: URL;
  /** Resolves with the exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
};

const started: ChildProcess[] = [];

/** Writes `yaml` to a fresh directory and returns the file's path. */
export function writeServeConfig(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mcplane-cli-')), 'servers.config.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** Runs `mcplane serve` with `args`, collecting its output; resolves when it exits. */
export function runServe(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): { child: ChildProcess; exited: Promise<number | null>; stdout(): string; stderr(): string } {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Each gateway gets a store of its own unless the test names one.
    env: { ...process.env, MCPLANE_STORE_URL: 'sqlite::memory:', ...env },
  });
  started.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Starts `mcplane serve --config <file> --port 0` and resolves once it prints where it serves. */
export async function startServe(
  config: string,
  args: readonly string[] = [],
  env: Record<string, string | undefined> = {},
): Promise<ServeProcess> {
  const run = runServe(['--config', config, '--port', '0', ...args], env);
  const lines = createInterface({ input: run.child.stdout as NodeJS.ReadableStream });
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    run.exited.then((code) => {
      throw new Error(`mcplane serve exited with ${code}: ${run.stderr()}`);
    }),
  ]);
  const url = SERVING.exec(first)?.[1];
  if (url === undefined) throw new Error(`unexpected first line: ${first}`);
  return { ...run, url: new URL(url) };
}

/** Kills (SIGKILL) every CLI still running; for afterEach, after a test that failed early. */
export function killServes(): void {
  for (const child of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
