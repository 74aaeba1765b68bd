/**
 * Reading the audit log back, for the admin API: pages of records by tenant, time and tool, and
 * a verification of the whole chain. It reads the store sink when the log writes one (an indexed
 * query), else the JSONL files (a scan, bounded per page). Either way it first flushes the
 * writer, so a page includes what was appended before the request.
 */
import type { AuditRecords } from '../store/store.ts';
import type { AuditLog } from './audit-log.ts';
import type { AuditSource } from './audit-sink.ts';
import { verifyAuditChain, type BreakKind, type ChainEntry } from './audit-verifier.ts';
import { jsonlEntries } from './jsonl-entries.ts';
import { logFiles, rotatedSeq } from './log-files.ts';
import { storeEntries } from './store-entries.ts';

export type AuditFilter = {
  /** Only this tenant's records; absent: every record. */
  readonly tenantId?: string;
  /** ISO: `since` inclusive, `until` exclusive. */
  readonly since?: string;
  readonly until?: string;
  readonly tool?: string;
  /** Records after this seq (from a previous page's cursor). */
  readonly afterSeq?: number;
  readonly limit: number;
};

export type AuditPage = {
  readonly records: readonly Record<string, unknown>[];
  /** The seq to continue after, when there may be more. */
  readonly nextAfterSeq?: number;
};

export type AuditVerification = {
  readonly ok: boolean;
  /** Records read. */
  readonly checked: number;
  readonly problems: readonly { readonly seq: number; readonly kind: BreakKind; readonly detail: string }[];
};

export type AuditReader = {
  query(filter: AuditFilter): Promise<AuditPage>;
  verify(): Promise<AuditVerification>;
};

/** Most lines one file-backed page reads before it answers with what it found and a cursor. */
const FILE_SCAN_LIMIT = 200_000;

export function auditReader(log: Pick<AuditLog, 'flush'>, source: AuditSource): AuditReader {
  // A failing sink must not fail reads of what it holds: the write is retried by the log.
  const flushed = () => log.flush().catch(() => undefined);
  return {
    async query(filter) {
      await flushed();
      return source.kind === 'store' ? storePage(source.records, filter) : filePage(source, filter);
    },
    async verify() {
      await flushed();
      let checked = 0;
      const entries = source.kind === 'store' ? storeEntries(source.records) : await fileEntries(source);
      async function* counted(): AsyncGenerator<ChainEntry> {
        for await (const entry of entries) {
          checked++;
          yield entry;
        }
      }
      const result = await verifyAuditChain(counted(), { fromGenesis: true });
      return result.ok
        ? { ok: true, checked, problems: [] }
        : {
            ok: false,
            checked,
            problems: [{ seq: result.seq, kind: result.kind, detail: `${result.reason} (${result.where})` }],
          };
    },
  };
}

async function storePage(records: AuditRecords, filter: AuditFilter): Promise<AuditPage> {
  const rows = await records.list({ ...filter, limit: filter.limit + 1 });
  const page = rows.slice(0, filter.limit).map((row) => JSON.parse(row.line) as Record<string, unknown>);
  const last = rows[filter.limit - 1];
  return rows.length > filter.limit && last ? { records: page, nextAfterSeq: last.seq } : { records: page };
}

async function fileEntries(source: { dir: string; file: string }): Promise<AsyncGenerator<ChainEntry>> {
  return jsonlEntries(await logFiles(source.dir, source.file).catch(() => []));
}

function matches(record: Record<string, unknown>, filter: AuditFilter): boolean {
  const { tenant, time, tool } = record;
  if (filter.tenantId !== undefined && tenant !== filter.tenantId) return false;
  if (filter.tool !== undefined && tool !== filter.tool) return false;
  if (typeof time !== 'string') return filter.since === undefined && filter.until === undefined;
  if (filter.since !== undefined && time < filter.since) return false;
  if (filter.until !== undefined && time >= filter.until) return false;
  return true;
}

/**
 * Scans the files from the one holding `afterSeq + 1` on. Records are in seq order in an intact
 * log; a tampered one may repeat or move records, which a page shows as they are (verify names them).
 */
async function filePage(source: { dir: string; file: string }, filter: AuditFilter): Promise<AuditPage> {
  const after = filter.afterSeq ?? 0;
  const files = await logFiles(source.dir, source.file).catch(() => []);
  const names = files.map((path) => path.slice(source.dir.length + 1));
  // Skip rotated files that end before the cursor: the next file's first seq says where each ends.
  let start = 0;
  for (let i = 0; i + 1 < names.length; i++) {
    const nextFirst = rotatedSeq(source.file, names[i + 1] as string);
    if (nextFirst !== undefined && nextFirst <= after + 1) start = i + 1;
  }
  const records: Record<string, unknown>[] = [];
  let scanned = 0;
  let lastSeq = after;
  for await (const entry of jsonlEntries(files.slice(start))) {
    if (!('record' in entry)) continue;
    const record = entry.record as Record<string, unknown>;
    const seq = record.seq;
    if (typeof seq !== 'number' || seq <= after) continue;
    if (records.length === filter.limit) return { records, nextAfterSeq: lastSeq };
    lastSeq = seq;
    if (matches(record, filter)) records.push(record);
    if (++scanned >= FILE_SCAN_LIMIT) return { records, nextAfterSeq: lastSeq };
  }
  return { records };
}
