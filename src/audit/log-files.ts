/**
 * How a file log is laid out in its directory: the active file (`audit.jsonl`) and the files
 * rotated out of it, each named after the first seq it holds (`audit-000000000001.jsonl`), so a
 * name never changes once written and the names sort in chain order.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

const SEQ_DIGITS = 12;
const EXT = '.jsonl';

/** The active file's name without `.jsonl` (the whole name when it has another extension). */
function baseOf(file: string): string {
  return file.endsWith(EXT) ? file.slice(0, -EXT.length) : file;
}

export function rotatedName(file: string, firstSeq: number): string {
  return `${baseOf(file)}-${String(firstSeq).padStart(SEQ_DIGITS, '0')}${EXT}`;
}

/** The seq a rotated file's name gives, or undefined when the name is not one of this log's. */
export function rotatedSeq(file: string, name: string): number | undefined {
  const prefix = `${baseOf(file)}-`;
  if (!name.startsWith(prefix) || !name.endsWith(EXT)) return undefined;
  const digits = name.slice(prefix.length, -EXT.length);
  return new RegExp(`^\\d{${SEQ_DIGITS},}$`).test(digits) ? Number(digits) : undefined;
}

/** The log's files in chain order: rotated ones by seq, then the active one when present. */
export async function logFiles(dir: string, file: string): Promise<string[]> {
  const names = await readdir(dir);
  const rotated = names
    .flatMap((name) => {
      const seq = rotatedSeq(file, name);
      return seq === undefined ? [] : [{ name, seq }];
    })
    .sort((a, b) => a.seq - b.seq)
    .map(({ name }) => join(dir, name));
  return names.includes(file) ? [...rotated, join(dir, file)] : rotated;
}

/**
 * The active file names of the logs in a directory: `x.jsonl` for every `x.jsonl` or rotated
 * `x-<seq>.jsonl` there.
 */
export async function logsIn(dir: string): Promise<string[]> {
  const found = new Set<string>();
  for (const name of await readdir(dir)) {
    if (!name.endsWith(EXT)) continue;
    const rotated = new RegExp(`^(.*)-\\d{${SEQ_DIGITS},}\\${EXT}$`).exec(name);
    found.add(rotated ? `${rotated[1]}${EXT}` : name);
  }
  return [...found].sort();
}
