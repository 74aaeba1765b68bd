/**
 * Part 3: authentication with 10,000 API keys in the store. Two in-process gateways on two
 * SQLite stores: one holding 1 key, one seeded with 10,000 (through `store.apiKeys.create`,
 * with keys from `generateApiKey` hashed with the config's pepper, as the admin API does). Both
 * also have a config tenant with one config key.
 *
 * `gateway.authenticate(headers)` is what the HTTP front awaits for every request, so that is
 * what is timed, on prebuilt Fetch `Headers`, one request at a time, the subjects interleaved
 * so each sees the same machine. With 10,000 keys the requests cycle through all of them.
 *
 * Then a key is revoked, and the time until `authenticate` refuses it is measured three ways:
 * through the store and `gateway.applyStore()` (what the admin API awaits before it answers),
 * through the store's watch alone, and from a second store handle on the same file (another
 * replica or the CLI), which this gateway only sees by polling the store's version.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import { generateApiKey } from '../../src/identity/api-key-format.ts';
import { hashApiKey } from '../../src/identity/api-key-hash.ts';
import { silentLogger } from '../../src/log.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { fixtureServer, testConfig } from '../../test/support/harness.ts';
import { LatencySamples, micros, millis, since } from '../lib/stats.ts';
import { printTargets, type Target } from './targets.ts';

const PLAN = {
  keys: 10_000,
  tenants: 100,
  warmupRequests: 5_000,
  requests: 20_000,
  /** How long a revoked key may keep working before the benchmark stops waiting. */
  refuseWaitMs: 10_000,
  /** Keys revoked per invalidation path. */
  revocations: 5,
  /** The store's default watch poll. */
  pollIntervalMs: 1_000,
} as const;

const PEPPER = 'control-plane-bench-pepper-0123456789';
const ACTOR = { actor: 'bench' };

type Key = { readonly key: string; readonly id: string; readonly tenantId: string };

const headersFor = (key: string): Headers => new Headers({ authorization: `Bearer ${key}` });

function authGateway(store: Store, configKey: { id: string; hash: string }): Promise<Gateway> {
  const config = testConfig({
    gateway: { auth: { apiKeys: { pepper: PEPPER } } },
    // A server the gateway never starts: authentication needs none.
    servers: { fx: fixtureServer({ pool: { min: 0, max: 1 } }) },
    tenants: { configured: { name: 'Config tenant', apiKeys: [configKey] } },
  });
  return createGateway(config, { log: silentLogger(), store, warm: false });
}

async function seed(store: Store, count: number): Promise<Key[]> {
  for (let t = 0; t < PLAN.tenants; t++)
    await store.tenants.create({ id: `t${t}`, name: `Tenant ${t}` }, ACTOR);
  const keys: Key[] = [];
  for (let k = 0; k < count; k++) {
    const { key, id } = generateApiKey();
    const tenantId = `t${k % PLAN.tenants}`;
    await store.apiKeys.create(
      tenantId,
      { id, hash: hashApiKey(key, PEPPER), name: `k${k}`, role: 'member' },
      ACTOR,
    );
    keys.push({ key, id, tenantId });
  }
  return keys;
}

type Subject = {
  readonly name: string;
  readonly gateway: Gateway;
  readonly headers: readonly Headers[];
  /** The unknown-key subject expects a refusal. */
  readonly refused: boolean;
  readonly samples: LatencySamples;
  errors: number;
};

async function measureAll(subjects: readonly Subject[]): Promise<void> {
  for (let request = 0; request < PLAN.warmupRequests + PLAN.requests; request++) {
    for (const subject of subjects) {
      const headers = subject.headers[request % subject.headers.length] as Headers;
      const start = process.hrtime.bigint();
      const accepted = await subject.gateway.authenticate(headers).then(
        () => true,
        () => false,
      );
      const took = since(start);
      if (request < PLAN.warmupRequests) continue;
      subject.samples.add(took);
      if (accepted === subject.refused) subject.errors++;
    }
  }
}

async function accepts(gateway: Gateway, key: string): Promise<boolean> {
  return gateway.authenticate(headersFor(key)).then(
    () => true,
    () => false,
  );
}

/** Polls `authenticate` (yielding to the event loop between tries) until it refuses the key. */
async function refusedWithin(gateway: Gateway, key: string, start: bigint): Promise<number | undefined> {
  const deadline = Date.now() + PLAN.refuseWaitMs;
  while (Date.now() < deadline) {
    if (!(await accepts(gateway, key))) return since(start);
    await yieldToLoop();
  }
  return undefined;
}

type Trial = {
  readonly acceptedBefore: boolean;
  /** Whether the key still worked right after the store call returned. */
  readonly acceptedRightAfter: boolean;
  /** Nanoseconds from the revoke call to the first refusal; undefined when it never came. */
  readonly refusedAfter: number | undefined;
};

type Invalidation = { readonly path: string; readonly trials: readonly Trial[] };

/**
 * Revokes each key with `revoke`, then `settle` (which resolves once the key should be
 * refused, or with its own measurement), and times it.
 */
async function timeRevocations(
  gateway: Gateway,
  keys: readonly Key[],
  revoke: (key: Key) => Promise<unknown>,
  settle: (key: Key, start: bigint) => Promise<number | undefined>,
): Promise<Trial[]> {
  const trials: Trial[] = [];
  for (const key of keys) {
    const acceptedBefore = await accepts(gateway, key.key);
    const start = process.hrtime.bigint();
    await revoke(key);
    const acceptedRightAfter = await accepts(gateway, key.key);
    trials.push({ acceptedBefore, acceptedRightAfter, refusedAfter: await settle(key, start) });
  }
  return trials;
}

async function invalidation(
  gateway: Gateway,
  store: Store,
  storePath: string,
  keys: readonly Key[],
): Promise<Invalidation[]> {
  const n = PLAN.revocations;
  const revokeIn = (via: Store) => (key: Key) =>
    via.apiKeys.setStatus(key.tenantId, key.id, 'revoked', ACTOR);
  const polled = (key: Key, start: bigint) => refusedWithin(gateway, key.key, start);
  const applied = async (key: Key, start: bigint): Promise<number | undefined> => {
    await gateway.applyStore();
    return (await accepts(gateway, key.key)) ? undefined : since(start);
  };
  const results: Invalidation[] = [
    {
      path: 'store revoke + await gateway.applyStore() (the admin API path)',
      trials: await timeRevocations(gateway, keys.slice(0, n), revokeIn(store), applied),
    },
    {
      path: "store revoke, the store's watch alone (same Store)",
      trials: await timeRevocations(gateway, keys.slice(n, 2 * n), revokeIn(store), polled),
    },
  ];
  const replica = await openStore(`sqlite:${storePath}`);
  try {
    results.push({
      path: `revoke from a second Store on the same file (watch polls every ${PLAN.pollIntervalMs} ms)`,
      trials: await timeRevocations(gateway, keys.slice(2 * n, 3 * n), revokeIn(replica), polled),
    });
  } finally {
    await replica.close();
  }
  return results;
}

export async function authWithManyKeys(): Promise<readonly Target[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcplane-bench-keys-'));
  console.log(
    `\n== Part 3: authentication with ${PLAN.keys.toLocaleString('en')} keys in the store ==\n` +
      `two in-process gateways on SQLite stores in ${dir}; gateway.authenticate(Headers), ` +
      `${PLAN.warmupRequests} warm-up + ${PLAN.requests} measured requests per subject, interleaved`,
  );
  const generated = generateApiKey();
  const configKey = { id: generated.id, hash: hashApiKey(generated.key, PEPPER) };
  const smallPath = path.join(dir, 'one-key.db');
  const largePath = path.join(dir, 'many-keys.db');
  const small = await openStore(`sqlite:${smallPath}`, { pollIntervalMs: PLAN.pollIntervalMs });
  const large = await openStore(`sqlite:${largePath}`, { pollIntervalMs: PLAN.pollIntervalMs });
  const gateways: Gateway[] = [];
  try {
    const [oneKey] = (await seed(small, 1)) as [Key];
    const seedStart = process.hrtime.bigint();
    const many = await seed(large, PLAN.keys);
    const seeded = since(seedStart);
    const loadStart = process.hrtime.bigint();
    const largeGateway = await authGateway(large, configKey);
    const loaded = since(loadStart);
    const smallGateway = await authGateway(small, configKey);
    gateways.push(largeGateway, smallGateway);
    console.log(
      `  seeded ${PLAN.keys} keys in ${millis(seeded)} ms; a gateway starting on them loaded its key cache in ${millis(loaded)} ms`,
    );
    const unknown = Array.from({ length: 1_000 }, () => headersFor(generateApiKey().key));
    const subjects: Subject[] = [
      subject('config key', smallGateway, [headersFor(generated.key)]),
      subject('store, 1 key', smallGateway, [headersFor(oneKey.key)]),
      subject(
        `store, ${PLAN.keys} keys (cycling through all)`,
        largeGateway,
        many.map((key) => headersFor(key.key)),
      ),
      subject(`config key, beside ${PLAN.keys} store keys`, largeGateway, [headersFor(generated.key)]),
      {
        ...subject(`unknown key id, ${PLAN.keys} store keys (refused)`, largeGateway, unknown),
        refused: true,
      },
    ];
    await measureAll(subjects);
    const revoked = await invalidation(largeGateway, large, largePath, many.slice(0, 3 * PLAN.revocations));
    return report(subjects, revoked);
  } finally {
    await Promise.allSettled(gateways.map((gateway) => gateway.close()));
    await Promise.allSettled([small.close(), large.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

function subject(name: string, gateway: Gateway, headers: readonly Headers[]): Subject {
  return { name, gateway, headers, refused: false, samples: new LatencySamples(), errors: 0 };
}

function report(subjects: readonly Subject[], revoked: readonly Invalidation[]): readonly Target[] {
  console.log('\nper request (µs)');
  for (const s of subjects) {
    const [p50 = NaN, p99 = NaN] = s.samples.percentiles(50, 99);
    console.log(
      `  ${s.name.padEnd(48)} p50 ${micros(p50).padStart(6)}  p99 ${micros(p99).padStart(6)}  mean ${micros(s.samples.mean).padStart(6)}` +
        `  (${s.samples.count} requests, ${s.errors} answered wrongly)`,
    );
  }
  const p = (index: number, rank: number): number => subjects[index]?.samples.percentiles(rank)[0] ?? NaN;
  const [config50, one50, many50, many99] = [p(0, 50), p(1, 50), p(2, 50), p(2, 99)];
  console.log(
    `  10,000 keys vs 1 key: p50 ${micros(many50 - one50)} µs added; vs a config key: p50 ${micros(many50 - config50)} µs added`,
  );
  console.log(
    `\nrevoking a key (${PLAN.revocations} keys each way): time from the revoke call until authenticate refuses it`,
  );
  for (const r of revoked) {
    const before = r.trials.filter((trial) => trial.acceptedBefore).length;
    const rightAfter = r.trials.filter((trial) => trial.acceptedRightAfter).length;
    const [r50 = NaN, rmax = NaN] = refusals(r).percentiles(50, 100);
    console.log(
      `  ${r.path}:\n    accepted before the revoke ${before}/${r.trials.length}, still accepted right after the store call ` +
        `${rightAfter}/${r.trials.length}; refused after p50 ${millis(r50)} ms, max ${millis(rmax)} ms` +
        (never(r) > 0 ? `; ${never(r)} NOT refused within ${PLAN.refuseWaitMs} ms` : ''),
    );
  }
  const wrong = subjects.reduce((sum, s) => sum + s.errors, 0);
  const [apply, watch, replica] = revoked as [Invalidation, Invalidation, Invalidation];
  const worst = (r: Invalidation): string =>
    never(r) > 0 ? 'never' : `${millis(refusals(r).percentiles(100)[0] ?? NaN)} ms`;
  const revokedOk = (r: Invalidation, within: number): boolean =>
    r.trials.every(
      (trial) => trial.acceptedBefore && trial.refusedAfter !== undefined && trial.refusedAfter <= within,
    );
  return printTargets('Part 3', [
    {
      part: 3,
      target: `authenticate with ${PLAN.keys} stored keys, p50`,
      goal: '<= 50 µs',
      measured: `${micros(many50)} µs`,
      pass: many50 <= 50_000,
    },
    {
      part: 3,
      target: `authenticate with ${PLAN.keys} stored keys, p99`,
      goal: '<= 50 µs',
      measured: `${micros(many99)} µs`,
      pass: many99 <= 50_000,
    },
    {
      part: 3,
      target: `added by ${PLAN.keys} keys over 1 key, p50`,
      goal: '<= 50 µs',
      measured: `${micros(many50 - one50)} µs`,
      pass: many50 - one50 <= 50_000,
    },
    {
      part: 3,
      target: 'every request answered right (accepted / refused)',
      goal: '0 wrong',
      measured: `${wrong} wrong`,
      pass: wrong === 0,
    },
    {
      part: 3,
      target: 'revoked key refused once applyStore() resolves',
      goal: 'at once',
      measured: `max ${worst(apply)}`,
      pass: revokedOk(apply, Infinity),
    },
    {
      part: 3,
      target: "revoked key refused via the store's watch",
      goal: 'soon (< 1 s)',
      measured: `max ${worst(watch)}`,
      pass: revokedOk(watch, 1e9),
    },
    {
      part: 3,
      target: 'revoked by another replica, refused via polling',
      goal: `<= poll + 1 s`,
      measured: `max ${worst(replica)}`,
      pass: revokedOk(replica, (PLAN.pollIntervalMs + 1_000) * 1e6),
    },
  ]);
}

function refusals(r: Invalidation): LatencySamples {
  const samples = new LatencySamples();
  for (const trial of r.trials) if (trial.refusedAfter !== undefined) samples.add(trial.refusedAfter);
  return samples;
}

const never = (r: Invalidation): number =>
  r.trials.filter((trial) => trial.refusedAfter === undefined).length;
