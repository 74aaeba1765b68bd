/** Reads JSONL audit files, in the order given, as chain entries for the verifier. */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ChainEntry } from './audit-verifier.ts';

export async function* jsonlEntries(files: readonly string[]): AsyncGenerator<ChainEntry> {
  for (const file of files) {
    const input = createReadStream(file, 'utf8');
    const lines = createInterface({ input, crlfDelay: Infinity });
    let number = 0;
    try {
      for await (const line of lines) {
        number++;
        const where = `${file}:${number}`;
        if (line.trim() === '') {
          yield { where, unreadable: 'blank line' };
          continue;
        }
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch {
          yield { where, unreadable: 'not JSON (a torn or edited line)' };
          continue;
        }
        yield { where, record, text: line };
      }
    } finally {
      lines.close();
      input.destroy();
    }
  }
}
