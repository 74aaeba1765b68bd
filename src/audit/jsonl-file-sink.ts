/**
 * The default sink: one JSON record per line in `<dir>/audit.jsonl`, rotated by size into
 * `audit-<first seq>.jsonl` (log-files.ts). Rotation does not touch the chain: the first record of
 * a new file carries the hash of the last one of the file before.
 *
 * Every write is appended and (by default) on the disk before it counts: the file is opened with
 * O_DSYNC, or each write is followed by an fdatasync where there is no O_DSYNC. A write that
 * fails is cut back off the file, and records already written are skipped when the log retries,
 * so a retried batch never leaves a record twice.
 */
import { constants } from 'node:fs';
import { mkdir, open, rename, stat, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { GatewayError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { SealedRecord } from './audit-chain.ts';
import type { AuditSink, AuditSource } from './audit-sink.ts';
import { firstCompleteLine, lastCompleteLine } from './file-lines.ts';
import { logFiles, rotatedName } from './log-files.ts';

export const DEFAULT_AUDIT_FILE = 'audit.jsonl';
export const DEFAULT_ROTATE_BYTES = 64 * 1024 * 1024;

/**
 * Append, opened with O_DSYNC where the platform has it: each write then returns once its data is
 * on the disk, as a write and an fdatasync would, in one trip to the threadpool instead of two.
 */
const APPEND = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND;
const DSYNC: number | undefined = (constants as { O_DSYNC?: number }).O_DSYNC;

export type JsonlFileSinkOptions = {
  readonly dir: string;
  readonly file?: string;
  /** A file reaching this size is rotated before the next record; one record larger goes alone. */
  readonly rotateBytes?: number;
  /** fdatasync after every write (default true): a written batch survives a power loss. */
  readonly sync?: boolean;
  readonly log?: Logger;
};

export class JsonlFileSink implements AuditSink {
  readonly #dir: string;
  readonly #file: string;
  readonly #active: string;
  readonly #rotateBytes: number;
  readonly #sync: boolean;
  readonly #log: Logger | undefined;
  #handle: FileHandle | undefined;
  #size = 0;
  /** The first seq in the active file, which names it when it is rotated. */
  #firstSeq: number | undefined;
  /** The last seq on disk; a retried batch skips up to it. */
  #lastSeq = 0;

  constructor(options: JsonlFileSinkOptions) {
    this.#dir = options.dir;
    this.#file = options.file ?? DEFAULT_AUDIT_FILE;
    this.#active = join(this.#dir, this.#file);
    this.#rotateBytes = options.rotateBytes ?? DEFAULT_ROTATE_BYTES;
    this.#sync = options.sync ?? true;
    this.#log = options.log;
  }

  /** Whether the file is opened so that every write is synced (O_DSYNC). */
  get #syncedWrites(): boolean {
    return this.#sync && DSYNC !== undefined;
  }

  /** The active file's path. */
  get path(): string {
    return this.#active;
  }

  get source(): AuditSource {
    return { kind: 'file', dir: this.#dir, file: this.#file };
  }

  async tail(): Promise<unknown> {
    await mkdir(this.#dir, { recursive: true, mode: 0o750 });
    let line = await this.#activeTail();
    let from = this.#active;
    if (line === undefined) {
      const rotated = (await logFiles(this.#dir, this.#file)).filter((path) => path !== this.#active);
      const newest = rotated.at(-1);
      if (newest !== undefined) [line, from] = [(await lastCompleteLine(newest)).line, newest];
    }
    await this.#ensureOpen();
    if (line === undefined) return undefined;
    const record = parseLine(line, from);
    const seq = (record as { seq?: unknown }).seq;
    if (typeof seq === 'number') this.#lastSeq = seq;
    return record;
  }

  async write(records: readonly SealedRecord[]): Promise<void> {
    await this.#ensureOpen();
    let chunk: SealedRecord[] = [];
    let chunkBytes = 0;
    for (const sealed of records) {
      if (sealed.record.seq <= this.#lastSeq) continue;
      const bytes = Buffer.byteLength(sealed.line) + 1;
      const filled = this.#size + chunkBytes;
      if (filled > 0 && filled + bytes > this.#rotateBytes) {
        await this.#append(chunk);
        chunk = [];
        chunkBytes = 0;
        await this.#rotate();
      }
      if (this.#size + chunkBytes === 0) this.#firstSeq = sealed.record.seq;
      chunk.push(sealed);
      chunkBytes += bytes;
    }
    await this.#append(chunk);
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  /** The active file's last complete line, after cutting off a torn final write. */
  async #activeTail(): Promise<string | undefined> {
    let end;
    try {
      end = await lastCompleteLine(this.#active);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    if (end.end < end.size) {
      // An unclean stop tore the last write: that record never counted as written, and the chain
      // continues from the last whole one.
      await truncate(this.#active, end.end);
      this.#log?.warn(
        { file: this.#active, bytes: end.size - end.end },
        'audit log: cut off a torn final write',
      );
    }
    if (end.line === undefined) return undefined;
    const first = await firstCompleteLine(this.#active);
    const seq = first === undefined ? undefined : (parseLine(first, this.#active) as { seq?: unknown }).seq;
    this.#firstSeq = typeof seq === 'number' ? seq : undefined;
    return end.line;
  }

  async #ensureOpen(): Promise<FileHandle> {
    if (this.#handle) return this.#handle;
    await mkdir(this.#dir, { recursive: true, mode: 0o750 });
    const handle = await open(this.#active, this.#syncedWrites ? APPEND | (DSYNC as number) : 'a', 0o640);
    this.#size = (await handle.stat()).size;
    this.#handle = handle;
    return handle;
  }

  async #append(chunk: readonly SealedRecord[]): Promise<void> {
    const last = chunk.at(-1);
    if (last === undefined) return;
    const handle = await this.#ensureOpen();
    const data = Buffer.from(`${chunk.map((sealed) => sealed.line).join('\n')}\n`);
    const before = this.#size;
    try {
      let written = 0;
      while (written < data.length) written += (await handle.write(data, written)).bytesWritten;
      if (this.#sync && !this.#syncedWrites) await handle.datasync();
    } catch (error) {
      await handle.truncate(before).catch(() => undefined);
      throw error;
    }
    this.#size = before + data.length;
    this.#lastSeq = last.record.seq;
  }

  async #rotate(): Promise<void> {
    const firstSeq = this.#firstSeq;
    if (firstSeq === undefined)
      throw new GatewayError('AUDIT_LOG_INVALID', `cannot tell which seq ${this.#active} starts at`);
    const target = join(this.#dir, rotatedName(this.#file, firstSeq));
    if (await exists(target))
      throw new GatewayError('AUDIT_LOG_INVALID', `cannot rotate the audit log: ${target} exists`);
    await this.close();
    await rename(this.#active, target);
    if (this.#sync) await syncDirectory(this.#dir);
    this.#firstSeq = undefined;
    await this.#ensureOpen();
  }
}

function parseLine(line: string, file: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new GatewayError(
      'AUDIT_LOG_INVALID',
      `the last record of ${file} is not JSON; run mcplane audit verify`,
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A rename is durable only once its directory is synced. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
