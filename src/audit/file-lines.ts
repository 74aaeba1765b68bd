/**
 * Reading the ends of a JSONL file without reading all of it: the last complete line (where a
 * restarted writer continues) and the first (which seq a file starts at).
 */
import { open, type FileHandle } from 'node:fs/promises';

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

export type FileEnd = {
  /** The last complete line, without its newline; undefined when the file holds none. */
  readonly line?: string;
  /** The offset just past the last newline: bytes beyond it are a torn, unfinished write. */
  readonly end: number;
  readonly size: number;
};

export async function lastCompleteLine(path: string): Promise<FileEnd> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    let buffer = Buffer.alloc(0);
    let start = size;
    let end: number | undefined;
    while (start > 0) {
      const length = Math.min(CHUNK, start);
      start -= length;
      buffer = Buffer.concat([await readAt(handle, start, length), buffer]);
      if (end === undefined) {
        const last = buffer.lastIndexOf(NEWLINE);
        if (last === -1) continue;
        end = start + last + 1;
      }
      const stop = end - 1 - start;
      const previous = stop > 0 ? buffer.lastIndexOf(NEWLINE, stop - 1) : -1;
      if (previous !== -1) return { line: buffer.toString('utf8', previous + 1, stop), end, size };
    }
    return end === undefined ? { end: 0, size } : { line: buffer.toString('utf8', 0, end - 1), end, size };
  } finally {
    await handle.close();
  }
}

/** The first complete line, or undefined when there is none. */
export async function firstCompleteLine(path: string): Promise<string | undefined> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    let buffer = Buffer.alloc(0);
    for (let offset = 0; offset < size; offset += CHUNK) {
      buffer = Buffer.concat([buffer, await readAt(handle, offset, Math.min(CHUNK, size - offset))]);
      const newline = buffer.indexOf(NEWLINE);
      if (newline !== -1) return buffer.toString('utf8', 0, newline);
    }
    return undefined;
  } finally {
    await handle.close();
  }
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const chunk = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(chunk, filled, length - filled, position + filled);
    if (bytesRead === 0) return chunk.subarray(0, filled);
    filled += bytesRead;
  }
  return chunk;
}
