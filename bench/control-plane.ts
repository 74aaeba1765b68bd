/**
 * The control-plane benchmark (`npm run bench:control-plane`, about three minutes): the issue's
 * three measurements of live change, each printing its numbers and PASS/FAIL per target.
 *
 *   1. 50 hot reloads of `servers.config.yaml` under ~100 tools/call/s, through `mcplane serve`:
 *      failed calls and orphan processes.
 *   2. 200 store tenants with a tenant-mode pool each, in-process: a call on a warm tenant pool
 *      against the shared pool, a new tenant's cold first call, and the gateway's memory once the
 *      200 pools have been idle-evicted.
 *   3. 10,000 API keys in a SQLite store: what `gateway.authenticate` costs per request against
 *      1 stored key and a config key, and how soon a revoked key is refused.
 *
 *   node bench/control-plane.ts [--part 1] [--part 3]   # only these parts (default: all)
 *
 * Everything binds to 127.0.0.1; every process it starts is stopped, and the run ends by
 * checking that none is left. A missed target prints FAIL but does not change the exit code,
 * which is 1 only when the benchmark itself broke.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { liveChildren } from './lib/processes.ts';
import { loadAverage, machineFacts } from './lib/report.ts';
import { hotReloadUnderLoad } from './control-plane/hot-reload.ts';
import { authWithManyKeys } from './control-plane/key-auth.ts';
import { targetsTable, type Target } from './control-plane/targets.ts';
import { tenantPools } from './control-plane/tenant-pools.ts';

/** Past this the run is a hang, not a result. */
const WATCHDOG_MS = 600_000;

const PARTS: Record<string, () => Promise<readonly Target[]>> = {
  '1': hotReloadUnderLoad,
  '2': tenantPools,
  '3': authWithManyKeys,
};

function reexecWithGc(): never {
  const script = fileURLToPath(import.meta.url);
  const args = ['--expose-gc', ...process.execArgv, script, ...process.argv.slice(2)];
  const child = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (child.error) throw child.error;
  process.exit(child.status ?? 1);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { part: { type: 'string', multiple: true } } });
  const chosen = values.part ?? Object.keys(PARTS);
  const unknown = chosen.filter((part) => PARTS[part] === undefined);
  if (unknown.length > 0) {
    console.error(`bench:control-plane: no part ${unknown.join(', ')}; parts are 1, 2 and 3`);
    process.exit(2);
  }
  const watchdog = setTimeout(() => {
    console.error(`bench:control-plane: still running after ${WATCHDOG_MS} ms; giving up`);
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  console.log(`mcplane control-plane benchmark\n${machineFacts([`parts: ${chosen.join(', ')}`])}`);
  const targets: Target[] = [];
  for (const part of chosen) targets.push(...(await (PARTS[part] as () => Promise<readonly Target[]>)()));
  console.log(`\nAll targets\n${targetsTable(targets)}`);
  console.log(`\nload average at end: ${loadAverage()}`);
  const left = liveChildren();
  console.log(
    `child processes of the benchmark still running: ${left.length}${left.length > 0 ? ` (${left.join(', ')})` : ''}`,
  );
}

if (typeof globalThis.gc !== 'function') reexecWithGc();
await main();
