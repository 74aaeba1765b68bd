import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.ts';
import { StoreAuditSink } from '../../../src/audit/store-sink.ts';
import { silentLogger } from '../../../src/log.ts';
import type { Store } from '../../../src/store/store.ts';
import { event, signingKey, verifyCommand, type Line } from '../../audit/audit-fixture.ts';
import { refusal, tenantId, type StoreHarness } from '../store-harness.ts';

// As in test/audit/audit-verify.test.ts: 25 events, a checkpoint every 10 (at seq 11 and 22),
// the closing checkpoint at 28.
const EVENTS = 25;

async function writeStoreLog(store: Store, count: number, tenants: readonly string[] = ['acme']) {
  const log = await AuditLog.open({
    sink: new StoreAuditSink(store.audit),
    key: signingKey(),
    log: silentLogger(),
    checkpointEvery: 10,
  });
  for (let n = 1; n <= count; n++) {
    log.append(
      event(n, { tenant: tenants[n % tenants.length] as string, tool: n % 2 ? 'echo__say' : 'fs__read' }),
    );
  }
  await log.close();
}

async function storedLines(h: StoreHarness): Promise<Line[]> {
  const rows = await h.rows('audit_records');
  return rows
    .sort((a, b) => Number(a['seq']) - Number(b['seq']))
    .map((row) => JSON.parse(String(row['line'])) as Line);
}

/** Rewrites the table as `lines`, row seq = position: what an attacker with SQL access could do. */
async function rewrite(h: StoreHarness, lines: readonly Line[]): Promise<void> {
  await h.exec('DELETE FROM audit_records');
  for (const [index, line] of lines.entries()) {
    await h.exec(
      'INSERT INTO audit_records (seq, tenant_id, time, kind, tool, line) VALUES ($1, $2, $3, $4, $5, $6)',
      [
        index + 1,
        typeof line.tenant === 'string' ? line.tenant : null,
        String(line.time),
        line.kind,
        typeof line.tool === 'string' ? line.tool : null,
        JSON.stringify(line),
      ],
    );
  }
}

const at = (lines: Line[], seq: number): Line => lines[seq - 1] as Line;
const without = (lines: Line[], seq: number): Line[] => lines.filter((line) => line.seq !== seq);

const TAMPERINGS = [
  {
    name: 'an edited record',
    edit: (lines: Line[]) => lines.map((line) => (line.seq === 7 ? { ...line, tool: 'fs__delete' } : line)),
    seq: 7,
    reason: 'hash mismatch',
  },
  {
    name: 'a deleted record',
    edit: (lines: Line[]) => without(lines, 7),
    seq: 7,
    reason: 'seq 7 missing: seq 8 follows seq 6',
  },
  {
    name: 'an inserted record (a later one copied in earlier)',
    edit: (lines: Line[]) => lines.flatMap((line) => (line.seq === 7 ? [at(lines, 15), line] : [line])),
    seq: 15,
    reason: 'unexpected seq 15 after seq 6: an inserted record',
  },
  {
    name: 'two records swapped',
    edit: (lines: Line[]) =>
      lines.map((line) => (line.seq === 7 ? at(lines, 8) : line.seq === 8 ? at(lines, 7) : line)),
    seq: 7,
    reason: 'out of order: seq 8 appears where seq 7 belongs',
  },
];

export function auditRecordTests(harness: () => StoreHarness): void {
  describe('audit records (the store sink)', () => {
    it('a log written to the store verifies from its URL, every record in seq order', async () => {
      const h = harness();
      await writeStoreLog(await h.open(), EVENTS);
      const result = await verifyCommand(['verify', h.url]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(
        /: 28 records in the store's audit_records, seq 1\.\.28, 3 checkpoints\n/,
      );
      expect((await storedLines(h)).map((line) => line.seq)).toEqual(
        Array.from({ length: 28 }, (_, i) => i + 1),
      );
    });

    it.each(TAMPERINGS)('verify finds $name in the store at its exact seq', async ({ edit, seq, reason }) => {
      const h = harness();
      await writeStoreLog(await h.open(), EVENTS);
      await rewrite(h, edit(await storedLines(h)));
      const result = await verifyCommand(['verify', h.url]);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(new RegExp(`^broken at seq ${seq}: `));
      expect(result.stderr).toContain(reason);
      expect(result.code).toBe(1);
    });

    it('verify finds a row whose text was changed in place but parses the same', async () => {
      const h = harness();
      await writeStoreLog(await h.open(), EVENTS);
      await h.exec(`UPDATE audit_records SET line = replace(line, '","', '", "') WHERE seq = 9`);
      expect(await verifyCommand(['verify', h.url])).toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/^broken at seq 9: not as written:.*\(row seq 9\)/) as unknown,
      });
    });

    it('a reopened log continues the chain in the store, and a retried batch is kept once', async () => {
      const h = harness();
      const store = await h.open();
      await writeStoreLog(store, 5);
      await writeStoreLog(store, 5);
      const last = await store.audit.last();
      expect(last?.seq).toBe(12);
      const rows = await store.audit.scan(0, 100);
      await store.audit.append(rows.slice(2, 4));
      expect(await store.audit.scan(0, 100)).toEqual(rows);
      expect((await verifyCommand(['verify', h.url])).code).toBe(0);
    });

    it("a tenant's query sees only its own records, filtered by time, tool and cursor", async () => {
      const h = harness();
      const store = await h.open();
      const [a, b] = [tenantId('a'), tenantId('b')];
      await writeStoreLog(store, 10, [a, b]);
      const mine = await store.audit.list({ tenantId: a, limit: 100 });
      expect(mine.map((row) => row.seq)).toEqual([2, 4, 6, 8, 10]);
      expect(mine.every((row) => row.tenantId === a && (JSON.parse(row.line) as Line).tenant === a)).toBe(
        true,
      );
      expect((await store.audit.list({ tenantId: a, afterSeq: 4, limit: 2 })).map((r) => r.seq)).toEqual([
        6, 8,
      ]);
      expect(
        (await store.audit.list({ tenantId: b, tool: 'fs__read', limit: 100 })).map((r) => r.seq),
      ).toEqual([]);
      expect((await store.audit.list({ tenantId: b, tool: 'echo__say', limit: 100 })).length).toBe(5);
      const since = new Date(Date.UTC(2026, 11, 1, 12, 0, 0, 4)).toISOString();
      const until = new Date(Date.UTC(2026, 11, 1, 12, 0, 0, 8)).toISOString();
      expect((await store.audit.list({ tenantId: a, since, until, limit: 100 })).map((r) => r.seq)).toEqual([
        4, 6,
      ]);
      // Every record: both tenants' and the log's own checkpoint (tenant null).
      const all = await store.audit.list({ limit: 100 });
      expect(all.map((row) => row.tenantId)).toContain(null);
      expect(all).toHaveLength(11);
      await refusal(store.audit.list({ tenantId: 'Not A Tenant', limit: 10 }), 'INVALID_PARAMS');
      await refusal(store.audit.list({ limit: 0 }), 'INVALID_PARAMS');
    });

    it('refuses malformed rows and keeps the table as it was', async () => {
      const store = await harness().open();
      const good = {
        seq: 1,
        tenantId: 'acme',
        time: '2026-11-01T00:00:00.000Z',
        kind: 'tool-call',
        tool: null,
        line: '{}',
      };
      await refusal(store.audit.append([good, { ...good, seq: 0 }]), 'INVALID_PARAMS');
      await refusal(store.audit.append([{ ...good, time: 'yesterday' }]), 'INVALID_PARAMS');
      expect(await store.audit.last()).toBeUndefined();
    });
  });
}
