/**
 * Monthly tool-call quotas, per tenant and per API key. Every admitted `tools/call` is counted
 * for its tenant and key; where a quota applies, a call that would go past it is refused before
 * it is counted.
 *
 * Counts are durable in the store: this process adds its calls there in batches (every
 * `gateway.limits.quotaFlushInterval`, and at close, so a graceful stop loses none). A subject's
 * count starts from the store's when this process first sees it in a month. With Redis, a subject
 * under a quota is counted in Redis too (`<prefix>quota:<tenant>:<subject>:<resetAt>`, seeded
 * from the store), so replicas refuse at the same total; when Redis fails and the backend fails
 * open, this process's own count decides until Redis answers.
 *
 * Alerts: a log event and `quotaAlert` when a count crosses 80% and when it reaches 100%.
 */
import { GatewayError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import type { CountingBackend } from './counting-backend.ts';
import type { QuotaKind } from './limit-events.ts';
import { QuotaBlocks } from './quota-blocks.ts';
import { leaseSize } from './rate-leases.ts';
import { monthEnd, periodOf, resetDay, type QuotaPeriod } from './quota-period.ts';

export const TENANT_SUBJECT = '*';

/** The quotas a call is under; an absent one does not apply. */
export type CallQuotas = { readonly tenant?: number; readonly key?: number };

type Counter = {
  /** The store's count when this process first saw the subject this month. */
  readonly base: Promise<number>;
  /** The same, once read: a call need not wait for it again. */
  known: number | undefined;
  /** Calls this process counted this month. */
  local: number;
  /** Of those, not yet written to the store. */
  pending: number;
  /** Whether the Redis key was seeded from `base` by this process. */
  seeded: boolean;
  /** The numbers of the shared count this process holds (with Redis). */
  readonly blocks: QuotaBlocks;
  /** The request for a block, while it is out: other calls wait for it rather than ask too. */
  asking: Promise<unknown> | undefined;
};

type Limited = { readonly subject: Subject; readonly counter: Counter; readonly base: number };

type Subject = {
  readonly tenantId: string;
  readonly subject: string;
  readonly kind: QuotaKind;
  readonly limit: number | undefined;
};

export type QuotaLedgerOptions = {
  readonly backend: CountingBackend;
  readonly store?: Store;
  readonly now: () => Date;
  readonly flushInterval: number;
};

export class QuotaLedger {
  readonly #options: QuotaLedgerOptions;
  readonly #counters = new Map<string, Counter>();
  /** The current month, worked out again only when the clock leaves it. */
  #period: QuotaPeriod | undefined;
  /** This month's counters by tenant and subject: a call's lookup, without building their id. */
  #month: { readonly resetAt: string; readonly byTenant: Map<string, Map<string, Counter>> } | undefined;
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(options: QuotaLedgerOptions) {
    this.#options = options;
    this.#timer = setInterval(() => void this.flush(), options.flushInterval);
    this.#timer.unref();
  }

  /**
   * Counts one tool call of `tenantId` (and `keyId`), or throws QUOTA_EXCEEDED naming the quota
   * it would pass, without counting it. Returns what takes the count back (for a call that
   * another limit refused after all).
   */
  async take(tenantId: string, keyId: string | undefined, quotas: CallQuotas): Promise<() => Promise<void>> {
    const resetAt = this.#resetAt();
    const subjects: Subject[] = [
      { tenantId, subject: TENANT_SUBJECT, kind: 'monthly-calls', limit: quotas.tenant },
      ...(keyId === undefined
        ? []
        : [{ tenantId, subject: keyId, kind: 'monthly-calls-per-key' as const, limit: quotas.key }]),
    ];
    const counters = subjects.map((subject) => this.#counter(subject, resetAt));
    const bases = counters.every((counter) => counter.known !== undefined)
      ? counters.map((counter) => counter.known as number)
      : await Promise.all(counters.map((counter) => counter.base));
    const limited = subjects.flatMap((subject, index): Limited[] =>
      subject.limit === undefined
        ? []
        : [{ subject, counter: counters[index] as Counter, base: bases[index] as number }],
    );
    // No await between a local check and its count, so concurrent calls cannot both pass.
    const { counts: used, inRedis } =
      limited.length > 0 && this.#options.backend.redis
        ? await this.#countShared(limited, resetAt)
        : { counts: this.#countLocal(limited, resetAt), inRedis: false };
    for (const counter of counters) {
      counter.local += 1;
      counter.pending += 1;
    }
    for (const [index, { subject }] of limited.entries()) this.#report(subject, used[index] as number);
    return async () => {
      for (const counter of counters) {
        counter.local -= 1;
        // Already written to the store: it keeps the one call, which is not worth a negative row.
        if (counter.pending > 0) counter.pending -= 1;
      }
      if (!inRedis) return;
      // The call's numbers of the shared count: held for this process's next call when it leases
      // blocks, else given back to Redis (exact, for every replica).
      const undo = this.#options.backend.redis?.multi();
      let commands = 0;
      for (const [index, { subject, counter }] of limited.entries()) {
        if (leaseSize(subject.limit as number, this.#options.backend.leaseFraction) > 1) {
          counter.blocks.putBack(used[index] as number);
        } else {
          undo?.decr(this.#redisKey(subject.tenantId, subject.subject, resetAt));
          commands += 1;
        }
      }
      if (commands > 0) await undo?.exec().catch(() => undefined);
    };
  }

  /** A subject's calls this month, as this process knows them (Redis's count when it has one). */
  async used(tenantId: string, subject: string): Promise<{ used: number; resetAt: string }> {
    const resetAt = this.#resetAt();
    const counter = this.#counter({ tenantId, subject, kind: 'monthly-calls', limit: undefined }, resetAt);
    const local = (await counter.base) + counter.local;
    const { redis } = this.#options.backend;
    if (!redis || !counter.seeded) return { used: local, resetAt };
    try {
      const shared = await redis.get(this.#redisKey(tenantId, subject, resetAt));
      // Redis counts the numbers replicas hold too; this process's own are not used yet.
      const counted = shared === null ? local : Number(shared) - counter.blocks.unspent;
      return { used: Math.max(local, counted), resetAt };
    } catch {
      return { used: local, resetAt };
    }
  }

  /** Writes the counted calls not yet in the store, in one batch. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushOnce());
    return this.#flushing;
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#giveBackBlocks();
    await this.flush();
  }

  /** Gives the numbers this process holds back to this month's shared counts. */
  async #giveBackBlocks(): Promise<void> {
    const redis = this.#options.backend.redis;
    const month = this.#month;
    if (!redis || !month) return;
    const multi = redis.multi();
    let commands = 0;
    for (const [tenantId, bySubject] of month.byTenant) {
      for (const [subject, counter] of bySubject) {
        const unspent = counter.blocks.clear();
        if (unspent === 0) continue;
        multi.decrby(this.#redisKey(tenantId, subject, month.resetAt), unspent);
        commands += 1;
      }
    }
    if (commands > 0) await multi.exec().catch(() => undefined);
  }

  /** Each limited subject's count after this call, from this process's counts; refuses past a quota. */
  #countLocal(limited: readonly Limited[], resetAt: string): number[] {
    const after = limited.map(({ counter, base }) => base + counter.local + 1);
    for (const [index, { subject }] of limited.entries()) {
      if ((after[index] as number) > (subject.limit as number)) this.#exceeded(subject, resetAt);
    }
    return after;
  }

  /** The same, counted in Redis, which replicas share; this process's counts when Redis fails open. */
  async #countShared(
    limited: readonly Limited[],
    resetAt: string,
  ): Promise<{ counts: number[]; inRedis: boolean }> {
    try {
      return { counts: await this.#countInRedis(limited, resetAt), inRedis: true };
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      this.#options.backend.failed(error);
      return { counts: this.#countLocal(limited, resetAt), inRedis: false };
    }
  }

  /**
   * A number of each subject's shared count for this call: from the blocks this process holds,
   * or from new blocks (one MULTI for every subject short of one). Throws QUOTA_EXCEEDED when a
   * subject's next block would start past its quota, holding nothing for this call.
   */
  async #countInRedis(limited: readonly Limited[], resetAt: string): Promise<number[]> {
    // A block another call asked for may be on its way: wait for it (a few turns at most).
    for (let turn = 0; turn < 4; turn++) {
      const asking = limited.find(({ counter }) => counter.asking !== undefined)?.counter.asking;
      if (asking === undefined) break;
      await asking.catch(() => undefined);
    }
    const numbers = limited.map(({ counter }) => counter.blocks.take());
    const short = limited.filter((_, index) => numbers[index] === undefined);
    if (short.length === 0) return numbers as number[];
    let leased: number[];
    try {
      leased = await this.#lease(short, resetAt);
    } catch (error) {
      for (const [index, { counter }] of limited.entries()) {
        const number = numbers[index];
        if (number !== undefined) counter.blocks.putBack(number);
      }
      throw error;
    }
    let next = 0;
    return numbers.map((number) => number ?? (leased[next++] as number));
  }

  /** New blocks for `short` (a number of each for this call, the rest held), or QUOTA_EXCEEDED. */
  async #lease(short: readonly Limited[], resetAt: string): Promise<number[]> {
    const redis = this.#options.backend.redis;
    if (!redis) throw new Error('no Redis');
    const ttl = Math.max(1, Math.ceil((Date.parse(resetAt) - this.#options.now().getTime()) / 1000)) + 86_400;
    const keys = short.map(({ subject }) => this.#redisKey(subject.tenantId, subject.subject, resetAt));
    const sizes = short.map(({ subject }) =>
      leaseSize(subject.limit as number, this.#options.backend.leaseFraction),
    );
    const multi = redis.multi();
    const incrs: number[] = [];
    let commands = 0;
    for (const [index, { counter, base }] of short.entries()) {
      if (!counter.seeded) {
        multi.set(keys[index] as string, base + counter.local, 'EX', ttl, 'NX');
        commands += 1;
      }
      multi.incrby(keys[index] as string, sizes[index] as number);
      incrs.push(commands);
      commands += 1;
    }
    const asking = multi.exec();
    for (const { counter } of short) counter.asking = asking;
    let replies: Awaited<typeof asking>;
    try {
      replies = (await asking) ?? [];
    } finally {
      for (const { counter } of short) if (counter.asking === asking) counter.asking = undefined;
    }
    if (replies.length !== commands) throw new Error('Redis transaction was discarded');
    for (const [failure] of replies) if (failure) throw failure;
    for (const { counter } of short) counter.seeded = true;
    const counts = incrs.map((at) => Number((replies[at] as [unknown, unknown])[1]));
    // Each block runs from its first number to the count; past the quota it is given back.
    const firsts = counts.map((count, index) => count - (sizes[index] as number) + 1);
    const over = short.findIndex(
      ({ subject }, index) => (firsts[index] as number) > (subject.limit as number),
    );
    const giveBack = redis.multi();
    let givingBack = 0;
    for (const [index, { subject, counter }] of short.entries()) {
      const [first, count, size] = [firsts[index] as number, counts[index] as number, sizes[index] as number];
      // Kept: the block's numbers within the quota; none when it starts past the quota, or when
      // another subject is over and this one counts exactly (a block of one goes back to Redis).
      const keep = first <= (subject.limit as number) && !(over >= 0 && size === 1);
      const last = keep ? Math.min(count, subject.limit as number) : first - 1;
      if (count > last) {
        giveBack.decrby(keys[index] as string, count - last);
        givingBack += 1;
      }
      // When another subject is over, this call holds nothing: the whole block is kept.
      if (keep) counter.blocks.add(over >= 0 ? first : first + 1, last);
    }
    if (givingBack > 0) void giveBack.exec().catch(() => undefined);
    if (over >= 0) this.#exceeded((short[over] as Limited).subject, resetAt);
    return firsts;
  }

  #exceeded(subject: Subject, resetAt: string): never {
    const limit = subject.limit as number;
    const retryAfterMs = Math.max(0, Date.parse(resetAt) - this.#options.now().getTime());
    this.#options.backend.events.quotaExceeded(subject.tenantId, subject.kind);
    throw new GatewayError(
      'QUOTA_EXCEEDED',
      `monthly quota of ${limit} tool calls exceeded; resets on ${resetDay(resetAt)}`,
      {
        data: {
          retryAfterMs,
          retryAfterSeconds: Math.ceil(retryAfterMs / 1000),
          limit,
          scope: subject.subject === TENANT_SUBJECT ? 'tenant' : 'key',
          quota: subject.kind,
          resetAt,
        },
      },
    );
  }

  /** The gauge, and an alert when this call crossed 80% or reached 100%. */
  #report(subject: Subject, used: number): void {
    const limit = subject.limit as number;
    const { events, log } = this.#options.backend;
    if (subject.subject === TENANT_SUBJECT)
      events.quotaUsage(subject.tenantId, subject.kind, Math.min(1, used / limit));
    for (const threshold of [0.8, 1] as const) {
      const mark = Math.ceil(limit * threshold);
      if (used !== mark) continue;
      events.quotaAlert(subject.tenantId, subject.kind, threshold);
      log.warn(
        {
          event: 'quota.threshold',
          tenant: subject.tenantId,
          ...(subject.subject === TENANT_SUBJECT ? {} : { key: subject.subject }),
          quota: subject.kind,
          threshold,
          used,
          limit,
        },
        `${threshold * 100}% of a monthly quota used`,
      );
    }
  }

  /** The reset instant of the month `now` is in. */
  #resetAt(): string {
    const now = this.#options.now().getTime();
    let period = this.#period;
    if (period === undefined || now < period.start || now >= period.end) {
      period = periodOf(now);
      this.#period = period;
    }
    return period.resetAt;
  }

  #counter(subject: Subject, resetAt: string): Counter {
    if (this.#month?.resetAt !== resetAt) this.#month = { resetAt, byTenant: new Map() };
    let bySubject = this.#month.byTenant.get(subject.tenantId);
    if (!bySubject) {
      bySubject = new Map();
      this.#month.byTenant.set(subject.tenantId, bySubject);
    }
    const cached = bySubject.get(subject.subject);
    if (cached) return cached;
    const id = `${subject.tenantId}\n${subject.subject}\n${resetAt}`;
    let counter = this.#counters.get(id);
    if (!counter) {
      const made: Counter = {
        base: this.#stored(subject, resetAt),
        known: undefined,
        local: 0,
        pending: 0,
        seeded: false,
        blocks: new QuotaBlocks(),
        asking: undefined,
      };
      void made.base.then((base) => (made.known = base));
      counter = made;
      this.#counters.set(id, counter);
    }
    bySubject.set(subject.subject, counter);
    return counter;
  }

  async #stored(subject: Subject, resetAt: string): Promise<number> {
    const { store } = this.#options;
    if (!store) return 0;
    try {
      const rows = await store.limits.usageOf(subject.tenantId);
      const row = rows.find((entry) => entry.subject === subject.subject);
      return row !== undefined && row.resetAt === resetAt ? row.callsUsedMonth : 0;
    } catch (error) {
      // Counting goes on from zero rather than failing calls; the store gets this process's adds.
      this.#options.backend.log.warn({ err: error, tenant: subject.tenantId }, 'could not read quota use');
      return 0;
    }
  }

  #redisKey(tenantId: string, subject: string, resetAt: string): string {
    return `${this.#options.backend.keyPrefix}quota:${tenantId}:${subject}:${resetAt.slice(0, 7)}`;
  }

  async #flushOnce(): Promise<void> {
    const { store } = this.#options;
    const current = monthEnd(this.#options.now());
    const batch: { tenantId: string; subject: string; calls: number; resetAt: string; counter: Counter }[] =
      [];
    for (const [id, counter] of this.#counters) {
      const [tenantId, subject, resetAt] = id.split('\n') as [string, string, string];
      if (counter.pending > 0) batch.push({ tenantId, subject, calls: counter.pending, resetAt, counter });
      else if (resetAt < current) this.#counters.delete(id);
    }
    if (batch.length === 0 || !store) {
      for (const item of batch) item.counter.pending = 0;
      return;
    }
    try {
      await store.limits.addUsage(batch.map(({ counter: _, ...row }) => row));
      for (const item of batch) item.counter.pending -= item.calls;
    } catch (error) {
      this.#options.backend.log.warn(
        { err: error, rows: batch.length },
        'could not write quota use; will retry',
      );
    }
  }
}
