/**
 * Where sealed records go. The JSONL file sink (jsonl-file-sink.ts) is the default; the store
 * will implement this type too. The log calls one method at a time, never concurrently.
 */
import type { AuditRecords } from '../store/store.ts';
import type { SealedRecord } from './audit-chain.ts';

/** Where a sink's records can be read back from (audit-reader.ts). */
export type AuditSource =
  | { readonly kind: 'store'; readonly records: AuditRecords }
  | { readonly kind: 'file'; readonly dir: string; readonly file: string };

export type AuditSink = {
  /**
   * The last record already in the sink, as parsed JSON (unchecked), or undefined when it is empty.
   * Called once, before the first write, so a restarted gateway continues the chain.
   */
  tail(): Promise<unknown>;
  /**
   * Persists records in order. A rejection must leave none of the batch behind (or the write must
   * be idempotent by seq): the log keeps the batch and writes it again.
   */
  write(records: readonly SealedRecord[]): Promise<void>;
  close(): Promise<void>;
  /** Where its records can be read back; absent for sinks nobody reads (tests' memory sinks). */
  readonly source?: AuditSource;
};
