/**
 * Where sealed records go. The JSONL file sink (jsonl-file-sink.ts) is the default; the store
 * will implement this type too. The log calls one method at a time, never concurrently.
 */
import type { SealedRecord } from './audit-chain.ts';

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
};
