import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, type AuditLogOptions } from '../../src/audit/audit-log.ts';
import { verifyAuditChain, type ChainEntry } from '../../src/audit/audit-verifier.ts';
import { JsonlFileSink } from '../../src/audit/jsonl-file-sink.ts';
import { AuditChain } from '../../src/audit/audit-chain.ts';
import { canonicalHash } from '../../src/jsonrpc/canonical-json.ts';
import { silentLogger } from '../../src/log.ts';
import { event, openFileLog, readLines, signingKey, tempDir } from './audit-fixture.ts';
import { MemorySink } from './memory-sink.ts';

function memoryLog(sink: MemorySink, options: Partial<AuditLogOptions> = {}): Promise<AuditLog> {
  return AuditLog.open({ sink, key: signingKey(), log: silentLogger(), ...options });
}

/** The memory sink's lines as a verifier source: any source of records plugs in the same way. */
async function* entries(lines: readonly string[]): AsyncGenerator<ChainEntry> {
  for (const [index, line] of lines.entries()) yield { where: `line ${index + 1}`, record: JSON.parse(line) };
}

const eventsOf = (records: Record<string, unknown>[]) =>
  records.filter((record) => record.kind !== 'checkpoint' && record.kind !== 'dropped');

describe('the audit log writer', () => {
  it('a clean close loses nothing: every appended record is on disk, then a closing checkpoint', async () => {
    await using tmp = await tempDir();
    const log = await openFileLog(tmp.dir, {
      flushMs: 60_000,
      flushRecords: 100_000,
      checkpointEvery: 1_000,
    });
    for (let n = 1; n <= 2_500; n++) log.append(event(n));
    // Nothing was due yet (a minute, 100k records): close alone must write it all.
    await log.close();
    const records = await readLines(join(tmp.dir, 'audit.jsonl'));
    expect(eventsOf(records).map((record) => record.args ?? (record.argsDigest as string))).toHaveLength(
      2_500,
    );
    expect(eventsOf(records).at(-1)?.time).toBe(new Date(event(2_500).at as number).toISOString());
    expect(
      records.map((record) => [record.kind, record.reason]).filter(([kind]) => kind === 'checkpoint'),
    ).toEqual([
      ['checkpoint', 'every'],
      ['checkpoint', 'every'],
      ['checkpoint', 'close'],
    ]);
    expect(records.at(-1)?.kind).toBe('checkpoint');
    expect(log.backlog()).toMatchObject({ records: 0, written: 2_503, lastSeq: 2_503, dropped: 0 });
  });

  it('keeps the order of append calls in seq order', async () => {
    const sink = new MemorySink();
    const log = await memoryLog(sink, { flushRecords: 3 });
    for (let n = 1; n <= 20; n++) log.append(event(n, { tool: `t${n}` }));
    await log.close();
    expect(eventsOf(sink.records).map((record) => [record.seq, record.tool])).toEqual(
      Array.from({ length: 20 }, (_, index) => [index + 1, `t${index + 1}`]),
    );
  });

  it('writes in the background without being asked, batching what arrives together', async () => {
    const sink = new MemorySink();
    const log = await memoryLog(sink, { flushMs: 10 });
    for (let n = 1; n <= 50; n++) log.append(event(n));
    expect(sink.lines).toHaveLength(0);
    for (let wait = 0; sink.lines.length < 50 && wait < 200; wait++) await sleep(10);
    expect(sink.lines).toHaveLength(50);
    expect(sink.batches).toEqual([50]);
    await log.close();
  });

  it('what arrives during a background write waits for flushMs and goes in the next batch', async () => {
    const sink = new MemorySink();
    const log = await memoryLog(sink, { flushMs: 200, flushRecords: 100 });
    const release = sink.hold();
    for (let n = 1; n <= 10; n++) log.append(event(n));
    for (let wait = 0; sink.batches.length === 0 && wait < 300; wait++) await sleep(10);
    for (let n = 11; n <= 15; n++) log.append(event(n));
    release();
    await sleep(5);
    for (let n = 16; n <= 18; n++) log.append(event(n));
    for (let wait = 0; sink.lines.length < 18 && wait < 300; wait++) await sleep(10);
    // Not a write for the five and another for the three: one batch of eight, flushMs later.
    expect(sink.batches).toEqual([10, 8]);
    await log.close();
    expect(eventsOf(sink.records).map((record) => record.seq)).toEqual(
      Array.from({ length: 18 }, (_, index) => index + 1),
    );
  });

  it('a full batch that arrives during a background write is written as soon as the write ends', async () => {
    const sink = new MemorySink();
    const log = await memoryLog(sink, { flushMs: 60_000, flushRecords: 5 });
    const release = sink.hold();
    for (let n = 1; n <= 5; n++) log.append(event(n));
    for (let wait = 0; sink.batches.length === 0 && wait < 300; wait++) await sleep(10);
    for (let n = 6; n <= 12; n++) log.append(event(n));
    release();
    for (let wait = 0; sink.lines.length < 10 && wait < 300; wait++) await sleep(10);
    expect(sink.batches).toEqual([5, 5]);
    expect(log.backlog().records).toBe(2);
    // The two left wait for flushMs (a minute here); close writes them with its checkpoint.
    await log.close();
    expect(sink.batches).toEqual([5, 5, 3]);
  });

  it('a deep backlog is sealed and written in batches of at most flushRecords', async () => {
    const sink = new MemorySink();
    const log = await memoryLog(sink, { flushRecords: 10, flushMs: 60_000 });
    for (let n = 1; n <= 35; n++) log.append(event(n));
    await log.close();
    // The last batch holds the last five events and the closing checkpoint.
    expect(sink.batches).toEqual([10, 10, 10, 6]);
  });

  it('the digest is over the canonical arguments, which are kept only when configured, and redacted', async () => {
    const args = { b: 2, a: { token: 'secret-value', path: '/data' } };
    const digestOnly = new MemorySink();
    const plain = await memoryLog(digestOnly);
    plain.append(event(1, { args }));
    await plain.close();
    expect(digestOnly.records[0]).toMatchObject({
      argsDigest: canonicalHash({ a: { path: '/data', token: 'secret-value' }, b: 2 }),
    });
    expect(digestOnly.records[0]).not.toHaveProperty('args');

    const keeping = new MemorySink();
    const redacting = await memoryLog(keeping, {
      args: {
        keep: true,
        redact: (value) =>
          JSON.parse(JSON.stringify(value).replaceAll('secret-value', '[redacted]')) as unknown,
      },
    });
    redacting.append(event(1, { args }));
    await redacting.close();
    expect(keeping.records[0]).toMatchObject({
      argsDigest: canonicalHash(args),
      args: { b: 2, a: { token: '[redacted]', path: '/data' } },
    });
    expect(keeping.lines.join('\n')).not.toContain('secret-value');
  });

  it('arguments that cannot be serialized cost the record only its arguments, and never break a batch', async () => {
    const sink = new MemorySink();
    const log = await memoryLog(sink);
    log.append(event(1, { args: { n: 10n } }));
    log.append(event(2));
    await log.close();
    expect(eventsOf(sink.records).map((record) => record.argsDigest)).toEqual([
      'unavailable',
      canonicalHash(event(2).args),
    ]);
    expect(log.backlog().sealFailures).toBe(1);
    expect(await verifyAuditChain(entries(sink.lines), { fromGenesis: true })).toMatchObject({
      ok: true,
      records: 3,
    });
  });

  it('a full backlog counts events in a dropped record in their place, never losing them silently', async () => {
    const sink = new MemorySink();
    const log = await memoryLog(sink, { maxBacklog: 10, flushRecords: 5, flushMs: 1 });
    const release = sink.hold();
    for (let n = 1; n <= 5; n++) log.append(event(n));
    // The first batch is now being written, and held.
    for (let wait = 0; sink.batches.length === 0 && wait < 200; wait++) await sleep(5);
    const kept = Array.from({ length: 30 }, (_, index) => log.append(event(6 + index)));
    expect(kept.filter(Boolean)).toHaveLength(5);
    expect(log.backlog()).toMatchObject({ records: 10, limit: 10, dropped: 25 });
    release();
    await log.flush();
    log.append(event(99, { tool: 'after' }));
    await log.close();

    const records = sink.records;
    const dropped = records.filter((record) => record.kind === 'dropped');
    expect(dropped).toEqual([
      expect.objectContaining({
        count: 25,
        from: new Date(event(11).at as number).toISOString(),
        until: new Date(event(35).at as number).toISOString(),
      }),
    ]);
    // The marker sits where the loss happened: after the last kept event, before the next.
    const kinds = records.map((record) =>
      record.kind === 'dropped' ? 'dropped' : (record.tool ?? record.kind),
    );
    expect(kinds.slice(-3)).toEqual(['dropped', 'after', 'checkpoint']);
    expect(eventsOf(records)).toHaveLength(11);
    expect(await verifyAuditChain(entries(sink.lines), { fromGenesis: true })).toMatchObject({
      ok: true,
      dropped: 25,
    });
  });

  it('a failed write is retried and every record lands exactly once', async () => {
    const sink = new MemorySink();
    sink.failures = 2;
    const log = await memoryLog(sink, { flushMs: 5 });
    for (let n = 1; n <= 10; n++) log.append(event(n));
    for (let wait = 0; sink.lines.length < 10 && wait < 400; wait++) await sleep(10);
    expect(sink.lines).toHaveLength(10);
    expect(log.backlog()).toMatchObject({ writeFailures: 2, written: 10, records: 0 });
    await log.close();
    expect(eventsOf(sink.records).map((record) => record.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('close waits for a slow sink and closes it; appending after close is refused', async () => {
    const sink = new MemorySink();
    const log = await memoryLog(sink);
    const release = sink.hold();
    log.append(event(1));
    const closing = log.close();
    await sleep(20);
    expect(sink.closed).toBe(false);
    release();
    await closing;
    expect(sink.closed).toBe(true);
    expect(sink.records.map((record) => record.kind)).toEqual(['tool-call', 'checkpoint']);
    expect(() => log.append(event(2))).toThrow(
      expect.objectContaining({ code: 'AUDIT_LOG_CLOSED' }) as Error,
    );
  });

  it('close rejects, naming how many records it could not write, when the sink keeps failing', async () => {
    const sink = new MemorySink();
    sink.failures = 100;
    const log = await memoryLog(sink, { flushMs: 1 });
    log.append(event(1));
    await expect(log.close()).rejects.toMatchObject({ code: 'AUDIT_LOG_CLOSED', detail: { unwritten: 2 } });
    expect(sink.closed).toBe(true);
  });

  it('continues the chain after the sink tail and refuses a tail that does not hash', async () => {
    const chain = new AuditChain();
    const first = chain.seal({ kind: 'tool-call', time: '2026-12-01T00:00:00.000Z' });
    const sink = new MemorySink(JSON.parse(first.line));
    const log = await memoryLog(sink);
    log.append(event(1));
    await log.close();
    expect(sink.records[0]).toMatchObject({ seq: 2, prevHash: first.record.hash });

    await expect(memoryLog(new MemorySink({ ...first.record, seq: 5 }))).rejects.toMatchObject({
      code: 'AUDIT_LOG_INVALID',
    });
    await expect(memoryLog(new MemorySink('garbage'))).rejects.toMatchObject({ code: 'AUDIT_LOG_INVALID' });
  });

  it('the file sink does not write a retried batch twice', async () => {
    await using tmp = await tempDir();
    const sink = new JsonlFileSink({ dir: tmp.dir, sync: false });
    await sink.tail();
    const chain = new AuditChain();
    const batch = [1, 2, 3].map((n) => chain.seal({ kind: 'tool-call', n }));
    await sink.write(batch.slice(0, 2));
    await sink.write(batch);
    await sink.close();
    expect((await readLines(join(tmp.dir, 'audit.jsonl'))).map((record) => record.seq)).toEqual([1, 2, 3]);
  });
});
