/**
 * Part 1: 50 hot reloads under load, through the real CLI. `mcplane serve` runs a config file
 * whose one shared fixture server alternates between two `env` values; the benchmark swaps the
 * file and reloads, alternately by `POST /admin/v1/reload` and by SIGHUP, while a paced client
 * sends ~100 `tools/call`/s over Streamable HTTP (raw keep-alive requests, a config API key).
 *
 * Phases, each with its own load so that their numbers stay apart:
 * - steady: 3 s of load and no reload, for the latency of a call when nothing changes;
 * - paced: the 50 reloads; after each, a probe session calls the fixture's `env` tool
 *   until it answers with the new value (new calls reach the new pool), then 300 ms of quiet;
 * - burst: 10 more reloads 200 ms apart, faster than a fixture starts, as when a file is saved
 *   twice quickly; beyond the target, reported on its own row.
 *
 * Every fixture appends its pid to a start log (FIXTURE_START_LOG), so afterwards each process
 * the gateway ever spawned is checked: once drained only the current pool may be alive, and
 * after the gateway stops none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateApiKey } from '../../src/identity/api-key-format.ts';
import { hashApiKey } from '../../src/identity/api-key-hash.ts';
import { isAlive } from '../http/process-tree.ts';
import { closeSession, endpoint, openSession, type Endpoint } from '../http/mcp-http-client.ts';
import { fixed, LatencySamples, since } from '../lib/stats.ts';
import { printReloadRun, type ProcessCheck, type ReloadRun } from './hot-reload-report.ts';
import { PacedLoad, type LoadResult } from './paced-load.ts';
import {
  configFor,
  GENERATIONS,
  newProbe,
  poolSize,
  postReload,
  startedPids,
  waitForGeneration,
  writeConfig,
  type Generation,
  type Probe,
  type ReloadFiles,
} from './reload-driver.ts';
import { runCli, startServe, type ServeProcess } from './serve-process.ts';
import { printTargets, type Target } from './targets.ts';

export const RELOAD_PLAN = {
  reloads: 50,
  burstReloads: 10,
  burstGapMs: 200,
  ratePerSecond: 100,
  loadSessions: 4,
  /** Short, so that a pool stuck with a call in flight is stopped within the run. */
  drainTimeoutMs: 3_000,
  /** How long one reload may take to reach new calls before it counts as not applied. */
  applyWaitMs: 15_000,
  probeEveryMs: 25,
  /** Load on the settled config between reloads. */
  settleMs: 300,
  steadyMs: 3_000,
  /** The paced reloads stop here, whatever is left. */
  maxLoopMs: 150_000,
  maxInflight: 500,
} as const;

const PLAN = RELOAD_PLAN;

type Run = {
  readonly to: Endpoint;
  readonly serve: ServeProcess;
  readonly files: ReloadFiles;
  readonly configs: Record<Generation, string>;
  readonly adminKey: string;
  readonly probeSession: string;
  readonly paced: (ms: number) => PacedLoad;
  readonly probe: Probe;
  readonly refused: string[];
  readonly triggered: { post: number; sighup: number };
};

/** Swaps the file to `generation` and triggers a reload: POST on odd counts, SIGHUP on even ones. */
async function trigger(run: Run, count: number, generation: Generation): Promise<void> {
  writeConfig(run.files, run.configs[generation]);
  if (count % 2 === 1) {
    run.triggered.post++;
    const problem = await postReload(run.serve, run.adminKey);
    if (problem !== undefined) run.refused.push(`reload ${count} (POST): ${problem}`);
  } else {
    run.triggered.sighup++;
    run.serve.hangup();
  }
}

const reached = (run: Run, generation: Generation): Promise<number | undefined> =>
  waitForGeneration(run.to, run.probeSession, generation, run.probe, {
    waitMs: PLAN.applyWaitMs,
    everyMs: PLAN.probeEveryMs,
  });

async function pacedReloads(
  run: Run,
): Promise<{ load: LoadResult; applied: number; toNewCalls: LatencySamples }> {
  const load = run.paced(PLAN.maxLoopMs + 10_000);
  const toNewCalls = new LatencySamples();
  let applied = 0;
  const started = process.hrtime.bigint();
  load.start();
  await sleep(1_000);
  const deadline = Date.now() + PLAN.maxLoopMs;
  for (let count = 1; count <= PLAN.reloads && Date.now() < deadline; count++) {
    const generation = GENERATIONS[count % 2] as Generation;
    await trigger(run, count, generation);
    const took = await reached(run, generation);
    if (took === undefined) run.refused.push(`reload ${count}: new calls never reached the new config`);
    else {
      applied++;
      toNewCalls.add(took);
    }
    if (count % 10 === 0) console.log(`  ${count} reloads, ${fixed(since(started) / 1e9, 1)} s`);
    await sleep(PLAN.settleMs);
  }
  await sleep(1_000);
  return { load: await load.stop(), applied, toNewCalls };
}

async function burstReloads(run: Run): Promise<{ load: LoadResult; settled: boolean }> {
  const load = run.paced(PLAN.burstReloads * PLAN.burstGapMs + PLAN.applyWaitMs + 5_000);
  load.start();
  await sleep(500);
  let last: Generation = 'a';
  for (let count = 1; count <= PLAN.burstReloads; count++) {
    last = GENERATIONS[count % 2] as Generation;
    // Counts go on from the paced ones, so triggers keep alternating POST and SIGHUP.
    await trigger(run, PLAN.reloads + count, last);
    await sleep(PLAN.burstGapMs);
  }
  const settled = (await reached(run, last)) !== undefined;
  await sleep(1_000);
  return { load: await load.stop(), settled };
}

async function reloadUnderLoad(run: Omit<Run, 'probeSession' | 'paced'>): Promise<ReloadRun> {
  const sessions: string[] = [];
  for (let opened = 0; opened < PLAN.loadSessions + 1; opened++) {
    const id = await openSession(run.to);
    if (id === undefined) throw new Error('mcplane answered initialize without a session id');
    sessions.push(id);
  }
  const [probeSession, ...loadSessions] = sessions as [string, ...string[]];
  const paced = (ms: number): PacedLoad =>
    new PacedLoad({
      endpoint: run.to,
      sessions: loadSessions,
      ratePerSecond: PLAN.ratePerSecond,
      maxCalls: Math.ceil((PLAN.ratePerSecond * ms) / 1_000),
      maxInflight: PLAN.maxInflight,
      tool: 'fx__echo',
      arguments: { text: 'hello' },
    });
  const full: Run = { ...run, probeSession, paced };
  const before = paced(PLAN.steadyMs);
  before.start();
  await sleep(PLAN.steadyMs);
  const steady = await before.stop();
  const { load, applied, toNewCalls } = await pacedReloads(full);
  const burst = await burstReloads(full);
  for (const session of sessions) await closeSession(run.to, session);
  return {
    triggered: run.triggered,
    applied,
    refused: run.refused,
    toNewCalls,
    steady,
    load,
    burst: burst.load,
    burstSettled: burst.settled,
    probe: run.probe,
  };
}

/** Waits (at most the drain timeout and 10 s) until only the current pool's processes are alive. */
async function checkDrained(
  serve: ServeProcess,
  files: ReloadFiles,
  adminKey: string,
): Promise<ProcessCheck> {
  const start = Date.now();
  const deadline = start + PLAN.drainTimeoutMs + 10_000;
  for (;;) {
    const currentPool = await poolSize(serve, adminKey);
    const alive = startedPids(files).filter(isAlive);
    if (alive.length <= currentPool || Date.now() > deadline) {
      const spawned = startedPids(files).length;
      return { spawned, currentPool, aliveAfterDrain: alive, waitedMs: Date.now() - start };
    }
    await sleep(100);
  }
}

export async function hotReloadUnderLoad(): Promise<readonly Target[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcplane-bench-reload-'));
  const files: ReloadFiles = {
    dir,
    live: path.join(dir, 'servers.config.yaml'),
    startLog: path.join(dir, 'fixture-starts.log'),
  };
  console.log(
    `\n== Part 1: ${PLAN.reloads} hot reloads under ~${PLAN.ratePerSecond} tools/call/s ==\n` +
      `mcplane serve (the CLI, its own process) on 127.0.0.1:0 with ${files.live}; fixture shared ` +
      `(pool min 1, max 2), drainTimeout ${PLAN.drainTimeoutMs} ms; ${PLAN.loadSessions} load sessions + 1 probe session`,
  );
  const { key, id } = generateApiKey();
  const member = { id, hash: hashApiKey(key) };
  const settings = { drainTimeoutMs: PLAN.drainTimeoutMs };
  const configs = { a: configFor(files, 'a', member, settings), b: configFor(files, 'b', member, settings) };
  writeConfig(files, configs.a);
  let serve: ServeProcess | undefined;
  let to: Endpoint | undefined;
  try {
    // As an operator gets in on a fresh store: the first platform-admin key, printed once.
    const adminKey = runCli(
      ['admin', 'create-key', '--role', 'platform-admin', '--config', files.live],
      dir,
    ).trim();
    serve = await startServe(files.live, dir);
    to = endpoint(serve.mcpUrl, 32, { authorization: `Bearer ${key}` });
    const run = await reloadUnderLoad({
      to,
      serve,
      files,
      configs,
      adminKey,
      probe: newProbe(),
      refused: [],
      triggered: { post: 0, sighup: 0 },
    });
    const drained = await checkDrained(serve, files, adminKey);
    const warnings = new Map(serve.warnings);
    const stopped = await serve.stop();
    serve = undefined;
    const left = [...new Set([...startedPids(files), ...stopped.alive])].filter(isAlive);
    printReloadRun(run, drained, warnings, { ...stopped, left });
    return printTargets('Part 1', reloadTargets(run, drained, left, stopped.graceful));
  } finally {
    to?.agent.destroy();
    await serve?.stop();
    for (const pid of startedPids(files).filter(isAlive)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function reloadTargets(run: ReloadRun, drained: ProcessCheck, left: number[], graceful: boolean): Target[] {
  const failed = run.steady.failed + run.load.failed + run.probe.failed;
  const sent = run.steady.sent + run.load.sent + run.probe.sent;
  const orphans = Math.max(0, drained.aliveAfterDrain.length - drained.currentPool);
  return [
    {
      part: 1,
      target: `failed tools/call, ${PLAN.reloads} reloads (+ probes)`,
      goal: '0',
      measured: `${failed} of ${sent}`,
      pass: failed === 0 && run.load.sent > 0,
    },
    {
      part: 1,
      target: 'reloads that reached new calls',
      goal: `${PLAN.reloads}`,
      measured: `${run.applied}`,
      pass: run.applied === PLAN.reloads && run.refused.length === 0,
    },
    {
      part: 1,
      target: `failed tools/call, burst of ${PLAN.burstReloads} (${PLAN.burstGapMs} ms apart)`,
      goal: '0 (beyond the issue)',
      measured: `${run.burst.failed} of ${run.burst.sent}`,
      pass: run.burst.failed === 0 && run.burstSettled,
    },
    {
      part: 1,
      target: 'orphan processes once drained',
      goal: '0',
      measured: `${orphans}`,
      pass: orphans === 0,
    },
    {
      part: 1,
      target: 'processes left after the gateway stops',
      goal: '0',
      measured: `${left.length}`,
      pass: left.length === 0 && graceful,
    },
  ];
}
