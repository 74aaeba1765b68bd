/**
 * `npm run conformance`: the official MCP conformance suite's active server scenarios, run
 * against `mcplane serve` fronting test/fixtures/conformance-server.ts (see CONFORMANCE.md).
 *
 * Prints one line per scenario and, last, exactly `conformance: N passed, M failed` (scenarios;
 * a scenario fails when any of its checks is FAILURE). .ci/run adds those counts to its totals.
 * Exits 0 only when every scenario passed and mcplane stopped cleanly (exit 0 after SIGTERM).
 * The whole run is bounded; on timeout everything this script started is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONFIG = 'test/fixtures/conformance.config.yaml';
const RUN_TIMEOUT_MS = 180_000;
const START_TIMEOUT_MS = 30_000;
/** How long mcplane may take to stop after SIGTERM before it is killed. */
const STOP_GRACE_MS = 15_000;

type CheckStatus = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO';
type Check = { id?: string; status: CheckStatus; errorMessage?: string };
type ScenarioResult = { scenario: string; checks: Check[] };

/** Every child this script started, so a timeout or an early failure can kill them all. */
const started = new Set<ChildProcess>();
/** The suite's process while it runs: the one the deadline kills first. */
let suite: ChildProcess | undefined;

function start(command: string, args: string[], stdout: 'pipe' | 'inherit'): ChildProcess {
  // `detached` puts the child in its own process group, so a kill reaches its helpers too.
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', stdout, 'inherit'], detached: true });
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}

function exited(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(1);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** Starts mcplane and resolves with the URL from the first line it prints. */
async function startMcplane(): Promise<{ mcplane: ChildProcess; url: string }> {
  const mcplane = start(
    process.execPath,
    ['bin/mcplane.js', 'serve', '--config', CONFIG, '--port', '0', '--log-level', 'warn'],
    'pipe',
  );
  const lines = createInterface({ input: mcplane.stdout! });
  const firstLine = new Promise<string | undefined>((resolve) => {
    lines.once('line', resolve);
    lines.once('close', () => resolve(undefined));
  });
  const timer = setTimeout(() => killGroup(mcplane, 'SIGKILL'), START_TIMEOUT_MS);
  const line = await firstLine;
  clearTimeout(timer);
  // The rest of stdout (connection help) is read and dropped so the pipe never fills.
  lines.on('line', () => undefined);
  const url = /^mcplane is serving MCP at (\S+)$/.exec(line ?? '')?.[1];
  if (url === undefined) throw new Error(`mcplane did not start (first line: ${JSON.stringify(line)})`);
  return { mcplane, url };
}

/** SIGTERM, then SIGKILL after the grace; resolves with mcplane's exit code. */
async function stopMcplane(mcplane: ChildProcess): Promise<number> {
  mcplane.kill('SIGTERM');
  const timer = setTimeout(() => {
    console.error(`conformance: mcplane did not stop within ${STOP_GRACE_MS / 1000} s; killing it`);
    killGroup(mcplane, 'SIGKILL');
  }, STOP_GRACE_MS);
  const code = await exited(mcplane);
  clearTimeout(timer);
  return code;
}

/** Reads `<dir>/server-<scenario>-<timestamp>/checks.json`, as written by `conformance server -o`. */
async function readResults(dir: string): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const entry of (await readdir(dir)).sort()) {
    const scenario = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry)?.[1];
    if (scenario === undefined) continue;
    let checks: Check[];
    try {
      checks = JSON.parse(await readFile(join(dir, entry, 'checks.json'), 'utf8')) as Check[];
    } catch {
      checks = [{ status: 'FAILURE', errorMessage: 'no readable checks.json' }];
    }
    results.push({ scenario, checks });
  }
  return results;
}

function count(checks: Check[], status: CheckStatus): number {
  return checks.filter((check) => check.status === status).length;
}

function report(result: ScenarioResult): string {
  const failed = count(result.checks, 'FAILURE');
  const warnings = count(result.checks, 'WARNING');
  const parts = [`${count(result.checks, 'SUCCESS')} passed`, `${failed} failed`];
  if (warnings > 0) parts.push(`${warnings} warnings`);
  const firstFailure = result.checks.find((check) => check.status === 'FAILURE');
  const reason = firstFailure ? ` (${firstFailure.id ?? 'check'}: ${firstFailure.errorMessage ?? ''})` : '';
  return `${failed === 0 ? 'ok  ' : 'FAIL'} ${result.scenario}: ${parts.join(', ')}${reason}`;
}

async function run(outDir: string, timedOut: () => boolean): Promise<{ failures: number; passed: number }> {
  const { mcplane, url } = await startMcplane();
  console.log(`conformance: mcplane is serving ${url}`);
  // The suite's own output repeats what is summarised below; only its stderr is shown.
  suite = start(
    join(ROOT, 'node_modules/.bin/conformance'),
    ['server', '--url', url, '--suite', 'active', '-o', outDir],
    'pipe',
  );
  suite.stdout!.resume();
  const suiteCode = await exited(suite);
  const mcplaneCode = await stopMcplane(mcplane);

  const results = await readResults(outDir);
  for (const result of results) console.log(report(result));
  let failures = results.filter((result) => count(result.checks, 'FAILURE') > 0).length;
  const passed = results.length - failures;
  // Failures that are not a scenario's own still make the run fail, counted as one more.
  const extra: string[] = [];
  if (timedOut()) extra.push(`the run timed out after ${RUN_TIMEOUT_MS / 1000} s`);
  if (results.length === 0) extra.push('the suite wrote no results');
  if (suiteCode !== 0 && failures === 0) extra.push(`the suite exited with code ${suiteCode}`);
  if (mcplaneCode !== 0) extra.push(`mcplane exited with code ${mcplaneCode}`);
  for (const problem of extra) console.log(`FAIL ${problem}`);
  if (extra.length > 0) failures += 1;
  return { failures, passed };
}

function finish(outcome: { failures: number; passed: number }, began: number): void {
  console.log(`conformance: finished in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  console.log(`conformance: ${outcome.passed} passed, ${outcome.failures} failed`);
}

const outDir = await mkdtemp(join(tmpdir(), 'mcplane-conformance-'));
const began = Date.now();
let timedOut = false;
// At the deadline the suite is killed, so mcplane is then stopped the normal way (SIGTERM, its
// stop ladder ending its children); if even that hangs, everything is killed and the run ends.
const deadline = setTimeout(() => {
  timedOut = true;
  console.error(`conformance: timed out after ${RUN_TIMEOUT_MS / 1000} s; stopping the suite and mcplane`);
  if (suite) killGroup(suite, 'SIGKILL');
}, RUN_TIMEOUT_MS);
const backstop = setTimeout(
  () => {
    for (const child of started) killGroup(child, 'SIGKILL');
    console.log(`conformance: results kept in ${outDir}`);
    finish({ passed: 0, failures: 1 }, began);
    process.exit(1);
  },
  RUN_TIMEOUT_MS + STOP_GRACE_MS + 5_000,
);

let outcome: { failures: number; passed: number };
try {
  outcome = await run(outDir, () => timedOut);
} catch (error) {
  console.log(`FAIL ${(error as Error).message}`);
  for (const child of started) killGroup(child, 'SIGKILL');
  outcome = { failures: 1, passed: 0 };
}
clearTimeout(deadline);
clearTimeout(backstop);

// Results are kept for reading only when something failed and the suite wrote any.
if (outcome.failures === 0 || (await readdir(outDir)).length === 0) await rm(outDir, { recursive: true });
else console.log(`conformance: results kept in ${outDir}`);
finish(outcome, began);
process.exitCode = outcome.failures === 0 ? 0 : 1;
