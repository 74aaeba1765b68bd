/**
 * The pipeline benchmark (`npm run bench:pipeline`): what the guarded call pipeline costs, in
 * one run, by the core bench's method (the gateway in-process, closed-loop `tools/call` of the
 * echo fixture, bench/lib). It prints numbers and the issue's targets, and never asserts; the
 * exit code is 0 unless something crashed or a gateway did not behave as configured.
 *
 * - off: no policies, `gateway.guards.enabled: false`, no audit log, `gateway.anomaly.enabled:
 *   false`;
 * - on: 100 policy rules that all match the call (globs on the tool) and each evaluate a CEL
 *   condition, the last one allowing (the policy bench's worst case: every condition runs, a
 *   tenant default of deny); every guard detector at its default; the audit log to a JSONL file
 *   in a temp dir, with the default fdatasync; anomaly detection on, at its defaults;
 * - on-spread: the same, but the 100 rules spread over ten servers, ten of them the call's (the
 *   policy bench's spread case);
 * - on-distinct (1 session): the "on" gateway with a different text in every call, so the
 *   guards' per-text outcome cache never answers: the cost of scanning every text anew.
 *
 * The two gateways are measured in alternating rounds, so a burst of load from elsewhere on the
 * machine hits both alike; each figure is the median over the rounds. At one session, four more
 * gateways each turn on one part alone (policies, guards, audit, anomaly), to show where the
 * added latency goes.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditSchema } from '../src/audit/audit-schema.ts';
import type { AuditLog } from '../src/audit/audit-log.ts';
import { openAuditLog } from '../src/audit/open-audit-log.ts';
import { createGateway, type Gateway } from '../src/gateway.ts';
import { GuardProfiles } from '../src/guard/guard-profiles.ts';
import { compilePolicies } from '../src/guard/policy/load-policies.ts';
import { localPrincipal } from '../src/identity/principal.ts';
import { silentLogger } from '../src/log.ts';
import { FIXTURE, fixtureServer, testConfig } from '../test/support/harness.ts';
import { runClosedLoop, type Call, type LoopResult } from './lib/closed-loop.ts';
import { liveChildren } from './lib/processes.ts';
import { loadAverage, machineFacts } from './lib/report.ts';
import { SessionDriver } from './lib/session-driver.ts';
import { fixed, median, micros, table } from './lib/stats.ts';

const ROUNDS = 3;
const WARMUP_MS = 500;
const MEASURE_MS = 2_000;
const CONCURRENCY = [1, 10, 100] as const;
/** Most calls one virtual session makes in one measurement, whatever the clock says. */
const MAX_CALLS_PER_SESSION = 200_000;
const WATCHDOG_MS = 170_000;
const RULES = 100;
const TARGETS = { throughputLoss: 0.15, addedP50Us: 30 } as const;

const ECHO = { name: 'echo__echo', arguments: { text: 'hello' } };
const principal = localPrincipal('acme');
const GATEWAY = { sessionLimits: { perTenant: 1_000_000, perPrincipal: 1_000_000 } };

// The policy bench's conditions (bench/policy.ts), over the echo call's `text` instead of a
// path, and with bounds no real call reaches, so that no deny holds and no allow holds before
// the last rule, at any hour.
const DENY_CONDITIONS = [
  "!(args.text + tenant.id).startsWith('hello')",
  'request.time.getHours() < 0 || request.time.getHours() > 23',
  'usage.callsLastMinute >= 100000000',
  'anomaly.score >= 0.99',
];
const ALLOW_CONDITIONS = [
  "args.text.startsWith('never-' + tenant.id)",
  'request.time.getHours() >= 24 && usage.callsLastHour > 1000',
  'usage.callsLastMinute < 100000000 && anomaly.score > 0.99',
  "anomaly.score < 0.8 && principal.role == 'nobody'",
];
const LAST_ALLOW =
  "(args.text + tenant.id).startsWith('hello') && request.time.getHours() >= 0 && " +
  'request.time.getHours() < 24 && usage.callsLastMinute < 100000000 && anomaly.score < 0.8';
const TOOL_GLOBS = ['echo', 'ec*', '*ho', 'e?ho'];

/**
 * 100 rules. Worst case: every one names the echo server and a glob matching its tool, so all
 * 100 conditions are evaluated before rule-99 allows. Spread: the rules are spread over ten
 * servers, and the echo call meets the ten of its own (allows, rule-99 last), as in the policy
 * bench.
 */
function policyText(shape: 'worst' | 'spread'): string {
  const rules = Array.from({ length: RULES }, (_, index) => {
    const deny = index % 2 === 0;
    const condition = deny
      ? DENY_CONDITIONS[(index / 2) % 4]
      : index === RULES - 1
        ? LAST_ALLOW
        : ALLOW_CONDITIONS[((index - 1) / 2) % 4];
    const server = shape === 'worst' || index % 10 === 9 ? 'echo' : `s${index % 10}`;
    return [
      `  - name: rule-${index}`,
      `    effect: ${deny ? 'deny' : 'allow'}`,
      `    server: ${server}`,
      `    tool: '${TOOL_GLOBS[index % 4]}'`,
      `    when: ${JSON.stringify(condition)}`,
    ].join('\n');
  });
  return `defaults:\n  '*': deny\nrules:\n${rules.join('\n')}\n`;
}

type Parts = {
  readonly policies: false | 'worst' | 'spread';
  readonly guards: boolean;
  readonly audit: boolean;
  readonly anomaly: boolean;
};
type Subject = { readonly name: string; readonly gateway: Gateway; readonly audit?: AuditLog };

const ALL: Parts = { policies: 'worst', guards: true, audit: true, anomaly: true };
const NONE: Parts = { policies: false, guards: false, audit: false, anomaly: false };
/** One part on at a time, measured at one session: where the added p50 goes. */
const BREAKDOWN: readonly (keyof Parts)[] = ['policies', 'guards', 'audit', 'anomaly'];

const echoServer = () =>
  fixtureServer({
    mode: 'shared',
    pool: { min: 1, max: 1, maxInflight: 1000 },
    timeouts: { startup: '10s', call: '10s', shutdown: '1s' },
  });

async function gatewayWith(name: string, parts: Parts, auditDir: string): Promise<Subject> {
  const config = testConfig({
    gateway: { ...GATEWAY, guards: { enabled: parts.guards }, anomaly: { enabled: parts.anomaly } },
    servers: { echo: echoServer() },
  });
  const audit = parts.audit
    ? await openAuditLog(AuditSchema.parse({ enabled: true, dir: join(auditDir, name) }), {
        env: {},
        log: silentLogger(),
      })
    : undefined;
  const policies = parts.policies ? [{ file: 'bench.yaml', text: policyText(parts.policies) }] : [];
  const gateway = await createGateway(config, {
    log: silentLogger(),
    ...(audit === undefined ? {} : { audit }),
    guarding: { policies: compilePolicies(policies), profiles: new GuardProfiles(config.gateway.guards) },
  });
  return { name, gateway, ...(audit === undefined ? {} : { audit }) };
}

const succeeded = (reply: { result?: Record<string, unknown>; error?: unknown }): boolean =>
  reply.error === undefined && reply.result?.isError !== true;

/** Fails the run unless each gateway does what it is configured to. */
async function checkBehaviour(off: Subject, on: Subject): Promise<void> {
  const probe = (subject: Subject) => new SessionDriver(subject.gateway.connect(principal));
  const [a, b] = [probe(off), probe(on)];
  await Promise.all([a.initialize(), b.initialize()]);
  const secret = { name: 'echo__echo', arguments: { text: 'key AKIA2E3A7F3B2Z4CQ6RT' } };
  const forbidden = { name: 'echo__echo', arguments: { text: 'forbidden-acme' } };
  const offSecret = JSON.stringify(await a.request('tools/call', secret));
  const onSecret = JSON.stringify(await b.request('tools/call', secret));
  const onForbidden = await b.request('tools/call', forbidden);
  const offForbidden = await a.request('tools/call', forbidden);
  const problems = [
    !offSecret.includes('AKIA2E3A7F3B2Z4CQ6RT') && 'off: the output guard ran',
    onSecret.includes('AKIA2E3A7F3B2Z4CQ6RT') && 'on: the output guard did not redact',
    onForbidden.error === undefined && 'on: the policy did not deny',
    !succeeded(offForbidden) && 'off: a policy denied',
    !succeeded(await b.request('tools/call', ECHO)) && 'on: rule-99 did not allow the echo call',
  ].filter((problem) => problem !== false);
  await Promise.all([a.session.close(), b.session.close()]);
  if (problems.length > 0) throw new Error(`bench: misconfigured gateways: ${problems.join('; ')}`);
}

/**
 * `cpu`: the gateway process's own CPU per call, in µs (the fixture child's is not counted). On
 * a machine shared with other work, wall-clock figures swing with the neighbours' load; CPU per
 * call swings much less, so it is the steadier measure of what the pipeline itself costs.
 */
type Round = {
  readonly result: LoopResult;
  readonly rate: number;
  readonly p50: number;
  readonly cpu: number;
};

/**
 * `distinct`: every call's text is its own (`hello <n>`), so nothing a stage keeps per text (the
 * guards' outcome per text) is reused: the cost of scanning each argument and result anew.
 */
async function measure(subject: Subject, sessions: number, distinct = false): Promise<Round> {
  const drivers = Array.from(
    { length: sessions },
    () => new SessionDriver(subject.gateway.connect(principal)),
  );
  await Promise.all(drivers.map((driver) => driver.initialize()));
  let sent = 0;
  const params = () => (distinct ? { name: ECHO.name, arguments: { text: `hello ${(sent += 1)}` } } : ECHO);
  const calls: Call[] = drivers.map(
    (driver) => async () => succeeded(await driver.request('tools/call', params())),
  );
  const result = await runClosedLoop(calls, {
    warmupMs: WARMUP_MS,
    measureMs: MEASURE_MS,
    childPids: subject.gateway.pids(),
    maxCallsPerSession: MAX_CALLS_PER_SESSION,
  });
  await Promise.all(drivers.map((driver) => driver.session.close()));
  const [p50 = NaN] = result.latencies.percentiles(50);
  const cpu = (result.ownCores * result.seconds * 1e6) / Math.max(result.calls, 1);
  return { result, rate: result.calls / result.seconds, p50, cpu };
}

type Summary = { rate: number; p50: number; cpu: number; errors: number; rounds: Round[] };

function summarize(rounds: Round[]): Summary {
  return {
    rate: median(rounds.map((round) => round.rate)),
    p50: median(rounds.map((round) => round.p50)),
    cpu: median(rounds.map((round) => round.cpu)),
    errors: rounds.reduce((sum, round) => sum + round.result.errors, 0),
    rounds,
  };
}

/** The anomaly stage is live: after the warm-up, arguments far larger than usual are flagged. */
async function probeAnomaly(on: Subject): Promise<number> {
  const driver = new SessionDriver(on.gateway.connect(principal));
  await driver.initialize();
  await driver.request('tools/call', { name: 'echo__echo', arguments: { text: 'x'.repeat(10_000) } });
  await driver.session.close();
  return on.gateway.anomalyFlags().calls;
}

function auditRecords(dir: string): number {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.jsonl'))
    .reduce((sum, file) => sum + readFileSync(join(dir, file), 'utf8').split('\n').length - 1, 0);
}

const verdict = (pass: boolean): string => (pass ? 'PASS' : 'FAIL');

function targetRows(lines: string[][], variant: string, sessions: number, off: Summary, on: Summary): void {
  const loss = 1 - on.rate / off.rate;
  const added = (on.p50 - off.p50) / 1_000;
  const which = `${variant}, ${sessions} session${sessions === 1 ? '' : 's'}`;
  lines.push([
    `calls/s lost, ${which}`,
    `<= ${TARGETS.throughputLoss * 100}%`,
    `${fixed(loss * 100, 1)}%`,
    verdict(loss <= TARGETS.throughputLoss),
  ]);
  lines.push([
    `p50 added, ${which}`,
    `<= ${TARGETS.addedP50Us} µs`,
    `${fixed(added, 1)} µs`,
    verdict(added <= TARGETS.addedP50Us),
  ]);
  lines.push([`gateway CPU per call added, ${which}`, '(steadier)', `${fixed(on.cpu - off.cpu, 1)} µs`, '']);
}

function report(results: Map<string, Summary>): void {
  const header = [
    'pipeline',
    'sessions',
    'calls/s',
    'p50 µs',
    'p99 µs',
    'CPU µs/call',
    'errors',
    'rounds calls/s',
    'rounds p50 µs',
  ];
  const rows = [...results.entries()].map(([key, summary]) => {
    const [name, sessions] = key.split(' ');
    const p99s = summary.rounds.map((round) => round.result.latencies.percentiles(99)[0] ?? NaN);
    return [
      name ?? '',
      sessions ?? '',
      fixed(summary.rate, 0),
      micros(summary.p50),
      micros(median(p99s)),
      fixed(summary.cpu, 1),
      String(summary.errors),
      summary.rounds.map((round) => fixed(round.rate, 0)).join(' / '),
      summary.rounds.map((round) => micros(round.p50)).join(' / '),
    ];
  });
  console.log(`\nClosed loop, tools/call echo; median of ${ROUNDS} alternating rounds of ${MEASURE_MS} ms`);
  console.log(table([header, ...rows]));

  const get = (key: string): Summary | undefined => results.get(key);
  const lines: string[][] = [['target', 'goal', 'measured', 'verdict']];
  for (const variant of ['on', 'on-spread', 'on-distinct'] as const) {
    for (const sessions of CONCURRENCY) {
      const off = get(`off ${sessions}`);
      const on = get(`${variant} ${sessions}`);
      if (!off || !on) continue;
      targetRows(lines, variant, sessions, off, on);
    }
  }
  console.log(`\nTargets (issue 8: at most 15% fewer calls/s, at most 30 µs added to p50)`);
  console.log(table(lines));
  const off1 = get('off 1');
  const parts = BREAKDOWN.map((part) => [part, get(`+${part} 1`)] as const);
  if (off1 && parts.every(([, summary]) => summary !== undefined)) {
    const breakdown = parts.map(([part, summary]) => [
      `off + ${part}`,
      micros((summary as Summary).p50),
      micros((summary as Summary).p50 - off1.p50),
      fixed((1 - (summary as Summary).rate / off1.rate) * 100, 1),
      fixed((summary as Summary).cpu - off1.cpu, 1),
    ]);
    console.log('\nWhere it goes: one part on at a time, 1 session (medians; noise is several µs)');
    console.log(
      table([['pipeline', 'p50 µs', 'p50 added µs', 'calls/s lost %', 'CPU µs/call added'], ...breakdown]),
    );
  }
}

/**
 * `BENCH_PIPELINE_PROFILE=<arm>:<sessions>` (for example `on:10` or `+audit:1`): measure that one
 * gateway for a few rounds and nothing else, to run under `node --cpu-prof`.
 */
async function profileOne(spec: string): Promise<void> {
  const [name = 'on', count = '1'] = spec.split(':');
  const parts: Parts | undefined =
    name === 'on'
      ? ALL
      : name === 'off'
        ? NONE
        : name === 'on-spread'
          ? { ...ALL, policies: 'spread' }
          : BREAKDOWN.includes(name.slice(1) as keyof Parts)
            ? name === '+policies'
              ? { ...NONE, policies: 'worst' }
              : { ...NONE, [name.slice(1)]: true }
            : undefined;
  if (!parts) throw new Error(`bench: unknown arm ${name}; use on, off, on-spread or +<part>`);
  const auditDir = mkdtempSync(join(tmpdir(), 'mcplane-bench-audit-'));
  const subject = await gatewayWith(name, parts, auditDir);
  try {
    for (let round = 1; round <= 3; round++) {
      const result = await measure(subject, Number(count));
      console.log(
        `${spec} round ${round}: ${fixed(result.rate, 0)} calls/s, p50 ${micros(result.p50)} µs, CPU ${fixed(result.cpu, 1)} µs/call`,
      );
    }
  } finally {
    await subject.gateway.close();
    rmSync(auditDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const profile = process.env['BENCH_PIPELINE_PROFILE'];
  if (profile) return profileOne(profile);
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${WATCHDOG_MS} ms; giving up`);
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  console.log(
    `mcplane pipeline benchmark\n${machineFacts([
      `fixture: ${FIXTURE}`,
      `on: ${RULES} policy rules (all match, all conditions evaluated), every guard detector, audit to a file (fdatasync), anomaly detection`,
      `on-spread: the same with the ${RULES} rules over ten servers (the call meets ten)`,
      `on-distinct: "on" with a new text in every call (1 session), so no scan outcome is reused`,
      `off: no policies, guards disabled, no audit, anomaly detection disabled`,
    ])}\n`,
  );
  const auditDir = mkdtempSync(join(tmpdir(), 'mcplane-bench-audit-'));
  const subjects: Subject[] = [];
  try {
    const off = await gatewayWith('off', NONE, auditDir);
    subjects.push(off);
    const on = await gatewayWith('on', ALL, auditDir);
    subjects.push(on);
    const spread = await gatewayWith('on-spread', { ...ALL, policies: 'spread' }, auditDir);
    subjects.push(spread);
    const parts: Subject[] = [];
    for (const part of BREAKDOWN) {
      const only: Parts = part === 'policies' ? { ...NONE, policies: 'worst' } : { ...NONE, [part]: true };
      parts.push(await gatewayWith(`+${part}`, only, auditDir));
    }
    subjects.push(...parts);
    await checkBehaviour(off, on);
    const rounds = new Map<string, Round[]>();
    const record = async (subject: Subject, sessions: number, round: number, distinct = false) => {
      const result = await measure(subject, sessions, distinct);
      const key = `${subject.name}${distinct ? '-distinct' : ''} ${sessions}`;
      rounds.set(key, [...(rounds.get(key) ?? []), result]);
      console.log(
        `  round ${round}, ${key.padEnd(12)}: ${fixed(result.rate, 0)} calls/s, p50 ${micros(result.p50)} µs`,
      );
    };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const sessions of CONCURRENCY) {
        const order = round % 2 === 1 ? [off, on, spread] : [spread, on, off];
        for (const subject of order) await record(subject, sessions, round);
      }
      for (const subject of parts) await record(subject, 1, round);
      await record(on, 1, round, true);
    }
    const results = new Map([...rounds.entries()].map(([key, list]) => [key, summarize(list)]));
    report(results);
    const flags = await probeAnomaly(on);
    const backlog = on.audit?.backlog();
    await Promise.allSettled(subjects.map((subject) => subject.gateway.close()));
    console.log(
      `\non: anomaly flags after one oversized call: ${flags}; audit records written: ${auditRecords(join(auditDir, 'on'))} ` +
        `(dropped ${backlog?.dropped ?? 'n/a'}, write failures ${backlog?.writeFailures ?? 'n/a'})`,
    );
  } finally {
    await Promise.allSettled(subjects.map((subject) => subject.gateway.close()));
    rmSync(auditDir, { recursive: true, force: true });
  }
  console.log(`load average at end: ${loadAverage()}`);
  const left = liveChildren();
  console.log(`child processes still running after close: ${left.length}`);
}

await main();
