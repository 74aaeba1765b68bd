/** What part 1 (hot reloads under load) prints about its run. */
import { fixed, millis, type LatencySamples } from '../lib/stats.ts';
import type { LoadResult } from './paced-load.ts';
import type { Probe } from './reload-driver.ts';

export type ReloadRun = {
  readonly triggered: { readonly post: number; readonly sighup: number };
  /** Paced reloads whose new config answered a call within the wait. */
  readonly applied: number;
  readonly refused: readonly string[];
  /** Trigger to the first probe call answered by the new config. */
  readonly toNewCalls: LatencySamples;
  readonly steady: LoadResult;
  readonly load: LoadResult;
  readonly burst: LoadResult;
  /** Whether new calls reached the burst's last config. */
  readonly burstSettled: boolean;
  readonly probe: Probe;
};

export type ProcessCheck = {
  readonly spawned: number;
  readonly currentPool: number;
  readonly aliveAfterDrain: readonly number[];
  readonly waitedMs: number;
};

function loadLine(label: string, load: LoadResult): string {
  const [p50 = NaN, p99 = NaN, max = NaN] = load.latencies.percentiles(50, 99, 100);
  const lines = [
    `${label}: ${load.sent} tools/call over ${fixed(load.seconds, 1)} s (${fixed(load.sent / load.seconds, 1)}/s), ` +
      `${load.failed} failed, ${load.skipped} skipped (too many in flight); ` +
      `latency p50 ${millis(p50)} ms, p99 ${millis(p99)} ms, max ${millis(max)} ms`,
  ];
  for (const [why, count] of [...load.failures].slice(0, 10)) lines.push(`    ! ${count} x ${why}`);
  return lines.join('\n');
}

export function printReloadRun(
  run: ReloadRun,
  drained: ProcessCheck,
  warnings: ReadonlyMap<string, number>,
  stopped: { readonly graceful: boolean; readonly exitCode: number | null; readonly left: readonly number[] },
): void {
  const [r50 = NaN, r99 = NaN, rmax = NaN] = run.toNewCalls.percentiles(50, 99, 100);
  const { post, sighup } = run.triggered;
  console.log(
    `\nreloads: ${post + sighup} triggered (${post} POST /admin/v1/reload, ${sighup} SIGHUP); of the paced ones, ` +
      `${run.applied} reached new calls; trigger -> first call answered by the new config: ` +
      `p50 ${millis(r50)} ms, p99 ${millis(r99)} ms, max ${millis(rmax)} ms`,
  );
  for (const line of run.refused.slice(0, 10)) console.log(`    ! ${line}`);
  console.log(loadLine('  steady, no reload', run.steady));
  console.log(loadLine('  paced reloads', run.load));
  console.log(
    loadLine(
      `  burst reloads${run.burstSettled ? '' : ' (new calls never reached the last config!)'}`,
      run.burst,
    ),
  );
  console.log(
    `  probe calls (fx__env after each reload): ${run.probe.sent} sent, ${run.probe.failed} failed`,
  );
  for (const [why, count] of [...run.probe.failures].slice(0, 10)) console.log(`    ! ${count} x ${why}`);
  console.log(
    `processes: ${drained.spawned} fixtures spawned over the run; ${drained.waitedMs} ms after the load stopped, ` +
      `${drained.aliveAfterDrain.length} alive, the current pool holds ${drained.currentPool}`,
  );
  const said = [...warnings].map(([message, count]) => `${count} x ${message}`);
  console.log(`gateway log, warnings and errors: ${said.length === 0 ? 'none' : said.join('; ')}`);
  const left = stopped.left;
  console.log(
    `gateway stop: ${stopped.graceful ? `exited ${stopped.exitCode} on SIGTERM` : 'did not exit in time: killed'}; ` +
      `processes left after it: ${left.length}${left.length > 0 ? ` (${left.join(', ')})` : ''}`,
  );
}
