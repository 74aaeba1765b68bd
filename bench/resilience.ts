/**
 * The resilience benchmark (`npm run bench:resilience`): the gateway in-process over real
 * fixture processes, driven like a transport drives it (bench/lib/session-driver.ts). It prints
 * numbers and the issue's targets, and never asserts; the exit code is 0 unless something
 * crashed or a gateway did not behave as configured. Every part is bounded in time.
 *
 * 1. Open breaker: how fast calls to a crash-looping server fail once its breaker is open (µs
 *    per call, calls/s, one session back to back), and what a healthy server's calls cost
 *    beside it meanwhile.
 * 2. Retries: an idempotent tool of a trusted server that hangs on 30% of calls (each failure is
 *    an UPSTREAM_TIMEOUT after the 100 ms call timeout), without and with `retry:`; success
 *    rate, latency, and how many retries the 10% budget allowed.
 * 3. Fair scheduling: one shared pool saturated (1 process, 8 slots, 20 ms per call); a quiet
 *    tenant at a fixed open-loop rate and a noisy tenant at 10× that rate. The quiet tenant's
 *    p99 alone, then beside the noisy one under fifo and under fair; the target is fair within
 *    2× of alone (medians over alternating rounds). Both tenants' tier caps them at half the pool's queue (`queueCap`), in every arm.
 */
import { createGateway, type Gateway } from '../src/gateway.ts';
import { localPrincipal } from '../src/identity/principal.ts';
import { silentLogger } from '../src/log.ts';
import { fixtureServer, testConfig } from '../test/support/harness.ts';
import { liveChildren } from './lib/processes.ts';
import { loadAverage, machineFacts } from './lib/report.ts';
import { SessionDriver, type SessionReply } from './lib/session-driver.ts';
import { LatencySamples, fixed, millis, since, table } from './lib/stats.ts';

const BREAKER_CALLS = 20_000;
const BREAKER_MS = 3_000;
const RETRY_MS = 4_000;
const RETRY_SESSIONS = 8;
const FAIR_MS = 2_000;
const FAIR_ROUNDS = 3;
const QUIET_PER_SECOND = 40;
const NOISY_FACTOR = 10;
const SERVICE_MS = 20;
const SLOTS = 8;

async function gateway(input: Record<string, unknown>): Promise<Gateway> {
  return createGateway(testConfig(input), { log: silentLogger(), env: process.env });
}

async function driver(gw: Gateway, tenant: string): Promise<SessionDriver> {
  const session = new SessionDriver(gw.connect(localPrincipal(tenant)));
  await session.initialize();
  return session;
}

const call = (
  session: SessionDriver,
  name: string,
  args: Record<string, unknown> = {},
): Promise<SessionReply> => session.request('tools/call', { name, arguments: args }, 30_000);

async function openBreaker(): Promise<string[][]> {
  const gw = await gateway({
    tenants: { acme: { name: 'Acme' } },
    servers: {
      looping: fixtureServer({
        env: { FIXTURE_CRASH_AFTER: '1' },
        breaker: { volumeThreshold: 3, resetTimeout: '10m' },
      }),
      healthy: fixtureServer(),
    },
  });
  try {
    const session = await driver(gw, 'acme');
    const healthyBefore = await healthyLatency(session, 300);
    let opened = false;
    for (let attempt = 0; attempt < 20 && !opened; attempt++) {
      const reply = await call(session, 'looping__echo');
      opened = reply.error?.code === -32054;
    }
    if (!opened) throw new Error('the breaker did not open');
    const samples = new LatencySamples();
    const began = process.hrtime.bigint();
    let calls = 0;
    while (calls < BREAKER_CALLS && since(began) < BREAKER_MS * 1e6) {
      const start = process.hrtime.bigint();
      const reply = await call(session, 'looping__echo');
      samples.add(since(start));
      if (reply.error?.code !== -32054)
        throw new Error(`expected BREAKER_OPEN, got ${JSON.stringify(reply)}`);
      calls++;
    }
    const elapsed = since(began);
    const healthyDuring = await healthyLatency(session, 300);
    const [p50, p99] = samples.percentiles(50, 99);
    return [
      ['what', 'calls', 'mean µs', 'p50 µs', 'p99 µs', 'calls/s'],
      [
        'open breaker, fail at once',
        String(calls),
        fixed(samples.mean / 1e3, 1),
        fixed((p50 ?? NaN) / 1e3, 1),
        fixed((p99 ?? NaN) / 1e3, 1),
        fixed(calls / (elapsed / 1e9), 0),
      ],
      ['healthy server, before', '300', fixed(healthyBefore.mean / 1e3, 1), ...pcts(healthyBefore), ''],
      [
        'healthy server, breaker open beside it',
        '300',
        fixed(healthyDuring.mean / 1e3, 1),
        ...pcts(healthyDuring),
        '',
      ],
    ];
  } finally {
    await gw.close();
  }
}

function pcts(samples: LatencySamples): string[] {
  return samples.percentiles(50, 99).map((value) => fixed(value / 1e3, 1));
}

async function healthyLatency(session: SessionDriver, count: number): Promise<LatencySamples> {
  const samples = new LatencySamples();
  for (let n = 0; n < count; n++) {
    const start = process.hrtime.bigint();
    const reply = await call(session, 'healthy__echo', { n });
    if (reply.error) throw new Error(`healthy call failed: ${reply.error.message}`);
    samples.add(since(start));
  }
  return samples;
}

async function retries(): Promise<string[][]> {
  const rows: string[][] = [
    [
      'retry',
      'calls',
      'success %',
      'p50 ms',
      'p99 ms',
      'ok p50 ms',
      'ok p99 ms',
      'retries',
      'refused by budget',
    ],
  ];
  for (const withRetry of [false, true]) {
    const gw = await gateway({
      tenants: { acme: { name: 'Acme' } },
      servers: {
        flaky: fixtureServer({
          trust: 'auto',
          pool: { min: 1, max: 1, maxInflight: 64 },
          timeouts: { startup: '10s', call: '100ms', shutdown: '500ms' },
          env: { FIXTURE_FLAKY_RATE: '0.3', FIXTURE_FLAKY_MODE: 'hang', FIXTURE_IDEMPOTENT_TOOLS: 'flaky' },
          // The breaker would open at 30% failures and hide the retries; this part measures retries.
          breaker: { enabled: false },
          ...(withRetry
            ? { retry: { attempts: 3, baseDelay: '10ms', maxDelay: '100ms', deadline: '1s' } }
            : {}),
        }),
      },
    });
    try {
      const sessions = await Promise.all(Array.from({ length: RETRY_SESSIONS }, () => driver(gw, 'acme')));
      const all = new LatencySamples();
      const ok = new LatencySamples();
      let calls = 0;
      let successes = 0;
      const began = process.hrtime.bigint();
      await Promise.all(
        sessions.map(async (session) => {
          while (since(began) < RETRY_MS * 1e6) {
            const start = process.hrtime.bigint();
            const reply = await call(session, 'flaky__flaky', { n: calls });
            const took = since(start);
            calls++;
            all.add(took);
            if (reply.result) {
              successes++;
              ok.add(took);
            } else if (reply.error?.code !== -32012) {
              throw new Error(`unexpected failure: ${JSON.stringify(reply.error)}`);
            }
          }
        }),
      );
      const totals = await totalsOf(gw);
      rows.push([
        withRetry ? 'attempts 3, budget 10%' : 'off',
        String(calls),
        fixed((successes / calls) * 100, 1),
        ...all.percentiles(50, 99).map(millis),
        ...ok.percentiles(50, 99).map(millis),
        String(totals.retries),
        String(totals.refused),
      ]);
    } finally {
      await gw.close();
    }
  }
  return rows;
}

/** The retry totals, from the gateway's metrics text (the one public reading of them). */
async function totalsOf(gw: Gateway): Promise<{ retries: number; refused: number }> {
  const text = (await gw.metrics?.text()) ?? '';
  const value = (name: string): number => {
    const match = new RegExp(`^${name}\\{server="flaky"\\} (\\S+)$`, 'm').exec(text);
    return match ? Number(match[1]) : 0;
  };
  return { retries: value('mcplane_retries_total'), refused: value('mcplane_retries_refused_total') };
}

type Arm = 'alone' | 'fifo' | 'fair';

async function fairness(): Promise<{ rows: string[][]; quietP99: Record<Arm, number> }> {
  const rows: string[][] = [
    [
      'round',
      'arm',
      'quiet ok',
      'quiet refused',
      'quiet p50 ms',
      'quiet p99 ms',
      'noisy calls',
      'noisy ok',
      'noisy p99 ms',
    ],
  ];
  const p99s: Record<Arm, number[]> = { alone: [], fifo: [], fair: [] };
  // Rounds alternate the arms, so that a burst of load from elsewhere hits them alike.
  for (let round = 1; round <= FAIR_ROUNDS; round++)
    for (const arm of ['alone', 'fifo', 'fair'] as const) {
      const gw = await gateway({
        tenants: { quiet: { name: 'Quiet', tier: 'basic' }, noisy: { name: 'Noisy', tier: 'basic' } },
        // A tenant may fill half the queue: the noisy one cannot crowd the quiet one out of it.
        tiers: { basic: { weight: 1, queueCap: 64 } },
        servers: {
          one: fixtureServer({
            pool: {
              min: 1,
              max: 1,
              maxInflight: SLOTS,
              scheduling: arm === 'fifo' ? 'fifo' : 'fair',
              queue: { max: 128, timeout: '10s' },
            },
            breaker: { enabled: false },
          }),
        },
      });
      try {
        const quiet = await driver(gw, 'quiet');
        const noisy = await driver(gw, 'noisy');
        await call(quiet, 'one__slow', { ms: SERVICE_MS, steps: 1 });
        const quietSamples = new LatencySamples();
        const noisySamples = new LatencySamples();
        let noisyOk = 0;
        let quietRefused = 0;
        const work: Promise<void>[] = [];
        const fire = (session: SessionDriver, samples: LatencySamples, isNoisy: boolean): void => {
          const start = process.hrtime.bigint();
          work.push(
            call(session, 'one__slow', { ms: SERVICE_MS, steps: 1 }).then((reply) => {
              if (reply.result) {
                samples.add(since(start));
                if (isNoisy) noisyOk++;
              } else if (reply.error?.code === -32014 || reply.error?.code === -32055) {
                if (!isNoisy) quietRefused++;
              } else throw new Error(`unexpected failure: ${JSON.stringify(reply.error)}`);
            }),
          );
        };
        // Open loop: each tick fires what each tenant's rate says is due, whatever is in flight.
        const began = Date.now();
        let quietDue = 0;
        let noisyDue = 0;
        while (Date.now() - began < FAIR_MS) {
          const elapsed = (Date.now() - began) / 1000;
          for (; quietDue < elapsed * QUIET_PER_SECOND; quietDue++) fire(quiet, quietSamples, false);
          if (arm !== 'alone') {
            for (; noisyDue < elapsed * QUIET_PER_SECOND * NOISY_FACTOR; noisyDue++)
              fire(noisy, noisySamples, true);
          }
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        await Promise.all(work);
        const [q50, q99] = quietSamples.percentiles(50, 99);
        p99s[arm].push(q99 ?? NaN);
        rows.push([
          String(round),
          arm,
          String(quietSamples.count),
          String(quietRefused),
          millis(q50 ?? NaN),
          millis(q99 ?? NaN),
          arm === 'alone' ? '' : String(noisyDue),
          arm === 'alone' ? '' : String(noisyOk),
          arm === 'alone' ? '' : millis(noisySamples.percentiles(99)[0] ?? NaN),
        ]);
      } finally {
        await gw.close();
      }
    }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1] ?? NaN;
  return { rows, quietP99: { alone: median(p99s.alone), fifo: median(p99s.fifo), fair: median(p99s.fair) } };
}

async function main(): Promise<void> {
  console.log(
    `mcplane resilience benchmark\n${machineFacts([
      'busy machine: shared with other work, so read the numbers as rough; the ratios matter more',
    ])}\n`,
  );
  console.log('1. Calls to a crash-looping server while its breaker is open (one session, back to back)');
  console.log(table(await openBreaker()));
  console.log('   target: fail at once, without touching a process; other servers unaffected\n');

  console.log(
    `2. Retries, idempotent tool, 30% of calls hang until the 100 ms call timeout (${RETRY_SESSIONS} sessions, ${RETRY_MS / 1000} s each)`,
  );
  console.log(table(await retries()));
  console.log('   the budget allows at most one retry per ten calls, so retries cannot amplify an outage\n');

  console.log(
    `3. Fair scheduling: one shared pool (1 process × ${SLOTS} slots, ${SERVICE_MS} ms per call), quiet tenant ${QUIET_PER_SECOND}/s, noisy ${NOISY_FACTOR}× that, ${FAIR_MS / 1000} s per arm, ${FAIR_ROUNDS} rounds`,
  );
  const { rows, quietP99 } = await fairness();
  console.log(table(rows));
  const ratio = (arm: Arm): string => fixed(quietP99[arm] / quietP99.alone, 2);
  console.log(
    `   median quiet p99 over ${FAIR_ROUNDS} rounds: alone ${millis(quietP99.alone)} ms, fifo ${millis(quietP99.fifo)} ms, fair ${millis(quietP99.fair)} ms`,
  );
  console.log(
    `   quiet p99 vs alone: fifo ${ratio('fifo')}x, fair ${ratio('fair')}x (target: fair within 2x) → ${
      quietP99.fair <= 2 * quietP99.alone ? 'met' : 'NOT met'
    }`,
  );
  console.log(`\nload average at end: ${loadAverage()}`);
  const left = liveChildren();
  if (left.length > 0) {
    console.error(`children left running: ${left.join(', ')}`);
    process.exitCode = 1;
  }
}

await main();
