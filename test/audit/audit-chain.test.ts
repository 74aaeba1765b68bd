import { appendFile, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH } from '../../src/audit/audit-record.ts';
import {
  allRecords,
  event,
  openFileLog,
  readLines,
  tempDir,
  verifyCommand,
  writeLines,
  writeLog,
} from './audit-fixture.ts';

const ROTATED = /^audit-\d{12}\.jsonl$/;

describe('the audit chain', () => {
  it('continues across rotation and restart: every seq once, every link to the record before', async () => {
    await using tmp = await tempDir();
    // Records are about 600 bytes: a 4 KB file holds a handful, so 60 events rotate several times.
    const options = { rotateBytes: 4096, checkpointEvery: 7 };
    await writeLog(tmp.dir, 30, options);
    await writeLog(tmp.dir, 30, options);

    const names = (await readdir(tmp.dir)).filter((name) => name.endsWith('.jsonl')).sort();
    expect(names.filter((name) => ROTATED.test(name)).length).toBeGreaterThan(4);
    expect(names).toContain('audit.jsonl');

    const records = await allRecords(tmp.dir);
    expect(records.map((record) => record.seq)).toEqual(records.map((_, index) => index + 1));
    expect(records[0]?.prevHash).toBe(GENESIS_HASH);
    for (const [index, record] of records.entries()) {
      if (index > 0) expect(record.prevHash).toBe(records[index - 1]?.hash);
    }
    expect(records.filter((record) => record.kind !== 'checkpoint')).toHaveLength(60);
    // Each run ends with its closing checkpoint; the restart continues from it.
    const closing = records.flatMap((record, index) => (record.reason === 'close' ? [index] : []));
    expect(closing).toHaveLength(2);
    expect(records[(closing[0] as number) + 1]?.prevHash).toBe(records[closing[0] as number]?.hash);

    // Each rotated file is named after its first seq, and no file but the last outgrows the limit.
    for (const name of names.filter((file) => ROTATED.test(file))) {
      const lines = await readLines(join(tmp.dir, name));
      expect(name).toBe(`audit-${String(lines[0]?.seq).padStart(12, '0')}.jsonl`);
      expect((await stat(join(tmp.dir, name))).size).toBeLessThanOrEqual(4096);
    }
    const result = await verifyCommand(['verify', tmp.dir]);
    expect(result.stdout).toMatch(
      new RegExp(`^ok: ${tmp.dir}: ${records.length} records in ${names.length} files`),
    );
    expect(result.code).toBe(0);
  });

  it('the first record of a rotated-in file carries the last hash of the file before', async () => {
    await using tmp = await tempDir();
    await writeLog(tmp.dir, 12, { rotateBytes: 2048 });
    const names = (await readdir(tmp.dir)).filter((name) => ROTATED.test(name)).sort();
    const files = [...names.map((name) => join(tmp.dir, name)), join(tmp.dir, 'audit.jsonl')];
    for (let index = 1; index < files.length; index++) {
      const before = await readLines(files[index - 1] as string);
      const after = await readLines(files[index] as string);
      expect(after[0]?.prevHash).toBe(before.at(-1)?.hash);
      expect(after[0]?.seq).toBe((before.at(-1)?.seq ?? 0) + 1);
    }
  });

  it('a restart after a crash continues the chain from the last whole record, cutting off a torn write', async () => {
    await using tmp = await tempDir();
    const file = join(tmp.dir, 'audit.jsonl');
    // A crashed writer: records flushed, no closing checkpoint, half a line at the end.
    const crashed = await openFileLog(tmp.dir, { checkpointEvery: 100 });
    for (let n = 1; n <= 5; n++) crashed.append(event(n));
    await crashed.flush();
    await appendFile(file, '{"seq":6,"kind":"tool-call","ten');

    await writeLog(tmp.dir, 3);
    expect(await readFile(file, 'utf8')).not.toContain('"ten\n');
    const records = await readLines(file);
    expect(records.map((record) => record.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(records[5]?.prevHash).toBe(records[4]?.hash);
    expect((await verifyCommand(['verify', tmp.dir])).code).toBe(0);
  });

  it('a restart when the active file was just rotated away continues from the newest rotated file', async () => {
    await using tmp = await tempDir();
    await writeLog(tmp.dir, 10, { rotateBytes: 2048 });
    // As if the writer stopped between renaming the active file and creating the next one.
    const { rename } = await import('node:fs/promises');
    const records = await readLines(join(tmp.dir, 'audit.jsonl'));
    await rename(
      join(tmp.dir, 'audit.jsonl'),
      join(tmp.dir, `audit-${String(records[0]?.seq).padStart(12, '0')}.jsonl`),
    );

    await writeLog(tmp.dir, 2, { rotateBytes: 2048 });
    const all = await allRecords(tmp.dir);
    expect(all.map((record) => record.seq)).toEqual(all.map((_, index) => index + 1));
    expect((await verifyCommand(['verify', tmp.dir])).code).toBe(0);
  });

  it('refuses to continue a log whose last record does not verify', async () => {
    await using tmp = await tempDir();
    await writeLog(tmp.dir, 3);
    const file = join(tmp.dir, 'audit.jsonl');
    const lines = await readLines(file);
    await writeLines(
      file,
      lines.map((line, index) => (index === lines.length - 1 ? { ...line, time: 'edited' } : line)),
    );
    await expect(openFileLog(tmp.dir)).rejects.toMatchObject({ code: 'AUDIT_LOG_INVALID' });
  });
});
