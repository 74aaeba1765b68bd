/**
 * Reads the store sink's rows, in seq order, page by page, as chain entries for the verifier.
 * Each entry is the row's line as stored (checked to be exactly the hashed text) and names its
 * row, so a row whose `seq` was renumbered to move it shows where it sits.
 */
import type { AuditRecords } from '../store/store.ts';
import type { ChainEntry } from './audit-verifier.ts';

const PAGE = 1_000;

export async function* storeEntries(records: AuditRecords): AsyncGenerator<ChainEntry> {
  let after = 0;
  for (;;) {
    const page = await records.scan(after, PAGE);
    for (const row of page) {
      const where = `row seq ${row.seq}`;
      let record: unknown;
      try {
        record = JSON.parse(row.line);
      } catch {
        yield { where, unreadable: 'not JSON (an edited line)' };
        continue;
      }
      yield { where, record, text: row.line };
    }
    const last = page.at(-1);
    if (last === undefined || page.length < PAGE) return;
    after = last.seq;
  }
}
