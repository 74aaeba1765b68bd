/**
 * The store sink: sealed records as rows of the store's `audit_records` table (migration 006),
 * on SQLite or PostgreSQL, each row keeping the record's line verbatim. The chain is the same as
 * the file's; the table's other columns only serve the admin API's filters.
 */
import type { SealedRecord } from './audit-chain.ts';
import type { AuditSink, AuditSource } from './audit-sink.ts';
import type { AuditRecords } from '../store/store.ts';
import type { StoredAuditRecord } from '../store/records.ts';
import { GatewayError } from '../errors.ts';

/** The rows of a batch; the store writes them in one transaction, skipping seqs it holds. */
export function storedRecord(sealed: SealedRecord): StoredAuditRecord {
  const record = sealed.record as unknown as Record<string, unknown>;
  const tenant = record.tenant;
  const tool = record.tool;
  return {
    seq: sealed.record.seq,
    tenantId: typeof tenant === 'string' && tenant !== '' ? tenant : null,
    time: sealed.record.time,
    kind: String(record.kind),
    tool: typeof tool === 'string' && tool !== '' ? tool : null,
    line: sealed.line,
  };
}

export class StoreAuditSink implements AuditSink {
  readonly #records: AuditRecords;

  constructor(records: AuditRecords) {
    this.#records = records;
  }

  get source(): AuditSource {
    return { kind: 'store', records: this.#records };
  }

  async tail(): Promise<unknown> {
    const last = await this.#records.last();
    if (last === undefined) return undefined;
    try {
      return JSON.parse(last.line) as unknown;
    } catch {
      throw new GatewayError(
        'AUDIT_LOG_INVALID',
        `the audit record at seq ${last.seq} in the store is not JSON; run mcplane audit verify`,
      );
    }
  }

  async write(records: readonly SealedRecord[]): Promise<void> {
    // Bounded batches: the writer's batches are at most `flushRecords`, but a checkpoint rides along.
    for (let start = 0; start < records.length; start += 5_000) {
      await this.#records.append(records.slice(start, start + 5_000).map(storedRecord));
    }
  }

  /** The store belongs to the gateway, which closes it after the log. */
  async close(): Promise<void> {}
}
