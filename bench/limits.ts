/**
 * The limits benchmark (`npm run bench:limits`): what rate limits and quotas cost, in one run,
 * by the pipeline bench's method (the gateway in-process, closed-loop `tools/call` of the echo
 * fixture through bench/lib's session driver). It prints numbers and the issue's targets and
 * never asserts; the exit code is 0 unless something crashed or a gateway did not limit as
 * configured.
 *
 * - off: the tenant's tier is not in `tiers:`, so no limit applies;
 * - memory: per-key, per-tenant and per-tool rates (per second and per minute each) and both
 *   monthly quotas, all far above what the run reaches, counted in this process;
 * - redis: the same, counted in Redis (`REDIS_URL`, default redis://127.0.0.1:6379), under a
 *   key prefix of the run's own that is deleted afterwards, with the default lease
 *   (`gateway.limits.leaseFraction` 0.01: each replica takes a share of a budget from Redis at
 *   once, docs/limits.md "Leases"; these budgets are large, so the blocks are the largest, 1000);
 * - redis-exact: the same with `leaseFraction: 0`, one Redis round trip per call (what every
 *   budget under 200 a window costs whatever the fraction: its blocks are single calls);
 * - store-off, store+all, store+all-redis: issue 9's "limits and metering on against off" in one
 *   run. Each gateway has a SQLite store in a file of its own (WAL); off has neither limits nor
 *   metering, the others the memory or Redis limits above and metering (a usage event per call,
 *   written in batches, child CPU sampled every second).
 *
 * Noisy neighbour: one key is driven at ten times its per-second limit while another key of the
 * same tenant makes closed-loop calls; its p50 is compared with the same key's when the first
 * is quiet. Subjects are measured in alternating rounds; each figure is the median over rounds.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createGateway, type Gateway } from '../src/gateway.ts';
import { generateApiKey } from '../src/identity/api-key-format.ts';
import { hashApiKey } from '../src/identity/api-key-hash.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';
import type { Principal } from '../src/identity/principal.ts';
import { silentLogger } from '../src/log.ts';
import { fixtureServer, testConfig } from '../test/support/harness.ts';
import { runClosedLoop, type Call } from './lib/closed-loop.ts';
import { loadAverage, machineFacts } from './lib/report.ts';
import { SessionDriver } from './lib/session-driver.ts';
import { fixed, median, micros, table } from './lib/stats.ts';

const ROUNDS = 5;
const WARMUP_MS = 300;
const MEASURE_MS = 1_500;
const SESSIONS = 10;
const MAX_CALLS_PER_SESSION = 100_000;
const WATCHDOG_MS = 120_000;
const TARGETS = { throughputLoss: 0.1, neighbourP50: 0.1 } as const;
const NOISY_LIMIT = 50;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const ECHO = { name: 'echo__echo', arguments: { text: 'hello' } };
const HIGH = { perSecond: 1_000_000, perMinute: 60_000_000 };
const BENCH_TIER = {
  rateLimits: { perKey: HIGH, perTenant: HIGH, perTool: HIGH },
  quota: { monthlyCalls: 1_000_000_000, monthlyCallsPerKey: 1_000_000_000 },
};

const keyPrincipal = (id: string): Principal => ({
  tenantId: 'acme',
  subject: `key:${id}`,
  scopes: ['*'],
  via: 'api-key',
});

type Subject = {
  readonly name: string;
  readonly gateway: Gateway;
  readonly store?: Store;
  /** The noisy neighbour's key ids: the victim's, and the one limited to NOISY_LIMIT a second. */
  readonly keys?: { readonly victim: string; readonly noisy: string };
};

function configWith(tier: string, gateway: Record<string, unknown>) {
  return testConfig({
    gateway: { sessionLimits: { perTenant: 1_000_000, perPrincipal: 1_000_000 }, ...gateway },
    servers: {
      echo: fixtureServer({
        mode: 'shared',
        pool: { min: 1, max: 1, maxInflight: 1000 },
        timeouts: { startup: '10s', call: '10s', shutdown: '1s' },
      }),
    },
    tenants: { acme: { name: 'Acme', tier } },
    tiers: { bench: BENCH_TIER },
  });
}

async function gatewayWith(
  name: string,
  tier: string,
  gateway: Record<string, unknown> = {},
): Promise<Subject> {
  return { name, gateway: await createGateway(configWith(tier, gateway), { log: silentLogger() }) };
}

/** A gateway on a SQLite store in a file of its own, with metering on or off. */
async function storedGateway(
  name: string,
  tier: string,
  dir: string,
  metering: boolean,
  gateway: Record<string, unknown> = {},
): Promise<Subject> {
  const store = await openStore(`sqlite:${join(dir, `${name}.db`)}`);
  const config = configWith(tier, { ...gateway, metering: { enabled: metering, costSampleInterval: '1s' } });
  return { name, gateway: await createGateway(config, { log: silentLogger(), store }), store };
}

/**
 * For the noisy neighbour: tenant acme in a store, in the bench tier, with two API keys; an
 * override (what the admin API writes) limits one of them to NOISY_LIMIT calls a second.
 */
async function neighbourGateway(name: string, gateway: Record<string, unknown> = {}): Promise<Subject> {
  const store = await openStore('sqlite::memory:');
  const actor = { actor: 'bench' };
  await store.tenants.create({ id: 'acme', name: 'Acme', tier: 'bench' }, actor);
  const [victim, noisy] = [generateApiKey(), generateApiKey()];
  for (const [label, key] of [
    ['victim', victim],
    ['noisy', noisy],
  ] as const) {
    await store.apiKeys.create(
      'acme',
      { id: key.id, hash: hashApiKey(key.key), name: label, role: 'member' },
      actor,
    );
  }
  await store.limits.setOverride(
    'acme',
    noisy.id,
    { rateLimits: { perKey: { perSecond: NOISY_LIMIT } } },
    actor,
  );
  const config = { ...configWith('bench', gateway), tenants: {} };
  return {
    name,
    gateway: await createGateway(config, { log: silentLogger(), store }),
    store,
    keys: { victim: victim.id, noisy: noisy.id },
  };
}

const succeeded = (reply: { result?: Record<string, unknown>; error?: unknown }): boolean =>
  reply.error === undefined && reply.result?.isError !== true;

async function drivers(
  subject: Subject,
  count: number,
  prefix: string,
  exact = false,
): Promise<SessionDriver[]> {
  const made = Array.from(
    { length: count },
    (_, index) =>
      new SessionDriver(subject.gateway.connect(keyPrincipal(exact ? prefix : `${prefix}${index}`))),
  );
  await Promise.all(made.map((driver) => driver.initialize()));
  return made;
}

/** `cpu`: the gateway process's own CPU per call, in µs (steadier than wall time on a shared machine). */
type Round = { readonly rate: number; readonly p50: number; readonly errors: number; readonly cpu: number };

async function measure(subject: Subject): Promise<Round> {
  const sessions = await drivers(subject, SESSIONS, 'k');
  const calls: Call[] = sessions.map(
    (driver) => async () => succeeded(await driver.request('tools/call', ECHO)),
  );
  const result = await runClosedLoop(calls, {
    warmupMs: WARMUP_MS,
    measureMs: MEASURE_MS,
    childPids: subject.gateway.pids(),
    maxCallsPerSession: MAX_CALLS_PER_SESSION,
  });
  await Promise.all(sessions.map((driver) => driver.session.close()));
  const [p50 = NaN] = result.latencies.percentiles(50);
  const cpu = (result.ownCores * result.seconds * 1e6) / Math.max(result.calls, 1);
  return { rate: result.calls / result.seconds, p50, errors: result.errors, cpu };
}

/** The victim's p50 (one closed-loop session), with the noisy key at 10x its limit or quiet. */
async function neighbour(
  subject: Subject,
  noisy: boolean,
): Promise<{ p50: number; refused: number; sent: number }> {
  const keys = subject.keys as { victim: string; noisy: string };
  const [victim] = (await drivers(subject, 1, keys.victim, true)) as [SessionDriver];
  const [abuser] = (await drivers(subject, 1, keys.noisy, true)) as [SessionDriver];
  let sent = 0;
  let refused = 0;
  let inflight = 0;
  // 10x the limit: NOISY_LIMIT * 10 calls a second, in bursts every 10 ms, at most 200 waiting.
  const timer = noisy
    ? setInterval(() => {
        for (let i = 0; i < (NOISY_LIMIT * 10) / 100 && inflight < 200; i++) {
          inflight++;
          sent++;
          void abuser.request('tools/call', ECHO).then(
            (reply) => {
              inflight--;
              if (reply.error?.code === -32046) refused++;
            },
            () => inflight--,
          );
        }
      }, 10)
    : undefined;
  const result = await runClosedLoop([async () => succeeded(await victim.request('tools/call', ECHO))], {
    warmupMs: WARMUP_MS,
    measureMs: MEASURE_MS,
    childPids: subject.gateway.pids(),
    maxCallsPerSession: MAX_CALLS_PER_SESSION,
  });
  clearInterval(timer);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await Promise.all([victim.session.close(), abuser.session.close()]);
  const [p50 = NaN] = result.latencies.percentiles(50);
  if (result.errors > 0) throw new Error(`bench: the victim key was refused ${result.errors} times`);
  return { p50, refused, sent };
}

/** Fails the run unless the limited gateways limit: a tier with a tiny rate refuses. */
async function checkBehaviour(subject: Subject): Promise<void> {
  const [driver] = (await drivers(subject, 1, (subject.keys as { noisy: string }).noisy, true)) as [
    SessionDriver,
  ];
  let refusedAt = -1;
  for (let i = 0; i < NOISY_LIMIT * 2 && refusedAt < 0; i++) {
    const reply = await driver.request('tools/call', ECHO);
    if (reply.error?.code === -32046) refusedAt = i;
  }
  await driver.session.close();
  // The initialize was the key's first request of the second.
  if (refusedAt < 0 || refusedAt > NOISY_LIMIT)
    throw new Error(`bench: ${subject.name} did not limit (refused at ${refusedAt})`);
}

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error('bench: watchdog fired');
    process.exit(2);
  }, WATCHDOG_MS);
  watchdog.unref();
  const keyPrefix = `mcplane-bench-${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const storeDir = mkdtempSync(join(tmpdir(), 'mcplane-bench-limits-'));
  const subjects = [
    await gatewayWith('off', 'standard'),
    await gatewayWith('memory', 'bench'),
    await gatewayWith('redis', 'bench', { redis: { url: REDIS_URL, keyPrefix } }),
    await gatewayWith('redis-exact', 'bench', {
      redis: { url: REDIS_URL, keyPrefix: `${keyPrefix}x:` },
      limits: { leaseFraction: 0 },
    }),
    await storedGateway('store-off', 'standard', storeDir, false),
    await storedGateway('store+all', 'bench', storeDir, true),
    await storedGateway('store+all-redis', 'bench', storeDir, true, {
      redis: { url: REDIS_URL, keyPrefix: `${keyPrefix}s:` },
    }),
  ];
  const noisy = [
    await neighbourGateway('memory'),
    await neighbourGateway('redis', { redis: { url: REDIS_URL, keyPrefix: `${keyPrefix}n:` } }),
  ];
  try {
    for (const subject of noisy) await checkBehaviour(subject);
    const rounds = new Map<string, Round[]>(subjects.map((subject) => [subject.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order, so drift in the machine's load hits every subject alike.
      const order = round % 2 === 0 ? subjects : [...subjects].reverse();
      for (const subject of order) rounds.get(subject.name)?.push(await measure(subject));
    }
    const neighbours = new Map<string, { quiet: number[]; noisy: number[]; refused: number; sent: number }>();
    for (const subject of noisy) {
      const entry = { quiet: [] as number[], noisy: [] as number[], refused: 0, sent: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        entry.quiet.push((await neighbour(subject, false)).p50);
        const loud = await neighbour(subject, true);
        entry.noisy.push(loud.p50);
        entry.refused += loud.refused;
        entry.sent += loud.sent;
      }
      neighbours.set(subject.name, entry);
    }
    report(rounds, neighbours);
  } finally {
    await Promise.allSettled([...subjects, ...noisy].map((subject) => subject.gateway.close()));
    await Promise.allSettled(
      [...subjects, ...noisy].flatMap((subject) => (subject.store ? [subject.store.close()] : [])),
    );
    rmSync(storeDir, { recursive: true, force: true });
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  }
}

function report(
  rounds: Map<string, Round[]>,
  neighbours: Map<string, { quiet: number[]; noisy: number[]; refused: number; sent: number }>,
): void {
  const summary = (name: string) => {
    const all = rounds.get(name) ?? [];
    return {
      rate: median(all.map((round) => round.rate)),
      p50: median(all.map((round) => round.p50)),
      cpu: median(all.map((round) => round.cpu)),
      errors: all.reduce((sum, round) => sum + round.errors, 0),
    };
  };
  const off = summary('off');
  console.log('mcplane bench:limits (on a machine shared with other work the numbers are indicative only)');
  console.log(
    machineFacts([
      `load average: ${loadAverage()}`,
      `${SESSIONS} sessions, ${ROUNDS} rounds of ${MEASURE_MS} ms`,
    ]),
  );
  console.log('');
  console.log(
    table([
      ['limits', 'calls/s', 'p50', 'CPU µs/call', 'errors', 'vs off (store arms: vs store-off)'],
      ...[...rounds.keys()].map((name) => {
        const s = summary(name);
        const base = name.startsWith('store') ? summary('store-off') : off;
        return [
          name,
          fixed(s.rate, 0),
          micros(s.p50),
          fixed(s.cpu, 1),
          String(s.errors),
          name === 'off' || name === 'store-off' ? '' : `${fixed((s.rate / base.rate - 1) * 100, 1)}%`,
        ];
      }),
    ]),
  );
  console.log('');
  console.log(
    table([
      ['noisy neighbour', 'victim p50 quiet', 'victim p50 noisy', 'change', 'noisy calls refused'],
      ...[...neighbours].map(([name, entry]) => [
        name,
        micros(median(entry.quiet)),
        micros(median(entry.noisy)),
        `${fixed((median(entry.noisy) / median(entry.quiet) - 1) * 100, 1)}%`,
        `${entry.refused} of ${entry.sent}`,
      ]),
    ]),
  );
  console.log('');
  const verdict = (pass: boolean): string => (pass ? 'PASS' : 'MISS');
  const rows = [['target', 'limit', 'measured', '']];
  for (const name of ['memory', 'redis', 'redis-exact', 'store+all', 'store+all-redis']) {
    const base = name.startsWith('store') ? summary('store-off') : off;
    const loss = 1 - summary(name).rate / base.rate;
    rows.push([
      `calls/s lost, ${name}`,
      `<= ${TARGETS.throughputLoss * 100}%`,
      `${fixed(loss * 100, 1)}%`,
      verdict(loss <= TARGETS.throughputLoss),
    ]);
  }
  for (const [name, entry] of neighbours) {
    const change = median(entry.noisy) / median(entry.quiet) - 1;
    rows.push([
      `neighbour p50 slower, ${name}`,
      `<= ${TARGETS.neighbourP50 * 100}%`,
      `${fixed(change * 100, 1)}%`,
      verdict(change <= TARGETS.neighbourP50),
    ]);
  }
  console.log(table(rows));
}

await main();
