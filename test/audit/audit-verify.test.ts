import { spawnSync } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  otherKey,
  readLines,
  rehashFrom,
  renumberFrom,
  resignFrom,
  signingKey,
  tempDir,
  verifyCommand,
  writeLines,
  writeLog,
  type Line,
} from './audit-fixture.ts';
import { recordHash } from '../../src/audit/audit-chain.ts';

// 25 events with a checkpoint every 10: events at seq 1-10, 12-21 and 23-27; checkpoints at 11
// and 22; the closing checkpoint at 28.
const EVENTS = 25;
const CHECKPOINT_EVERY = 10;
const at = (lines: Line[], seq: number): Line => lines[seq - 1] as Line;
const without = (lines: Line[], seq: number): Line[] => lines.filter((line) => line.seq !== seq);

async function intactLog(dir: string): Promise<{ file: string; lines: Line[] }> {
  await writeLog(dir, EVENTS, { checkpointEvery: CHECKPOINT_EVERY });
  const file = join(dir, 'audit.jsonl');
  return { file, lines: await readLines(file) };
}

type Tampering = {
  readonly name: string;
  readonly edit: (lines: Line[]) => Line[];
  readonly seq: number;
  readonly reason: string;
};

const TAMPERINGS: readonly Tampering[] = [
  {
    name: 'an edited record',
    edit: (lines) => lines.map((line) => (line.seq === 7 ? { ...line, tool: 'fs__delete' } : line)),
    seq: 7,
    reason: 'hash mismatch',
  },
  {
    name: 'an edited record whose hash was recomputed',
    edit: (lines) => {
      const edited = { ...at(lines, 7), outcome: 'FORBIDDEN' };
      return lines.map((line) => (line.seq === 7 ? { ...edited, hash: recordHash(edited) } : line));
    },
    seq: 8,
    reason: 'prev-hash mismatch: seq 8 does not link to seq 7',
  },
  {
    name: 'a member named __proto__ added to a record',
    edit: (lines) =>
      lines.map((line) =>
        line.seq === 7
          ? (JSON.parse(JSON.stringify(line).replace('{', '{"__proto__":{"x":1},')) as Line)
          : line,
      ),
    seq: 7,
    reason: 'hash mismatch',
  },
  {
    name: 'a deleted record',
    edit: (lines) => without(lines, 7),
    seq: 7,
    reason: 'seq 7 missing: seq 8 follows seq 6',
  },
  {
    name: 'the first record deleted',
    edit: (lines) => without(lines, 1),
    seq: 1,
    reason: 'seq 1 missing: the log starts at seq 2',
  },
  {
    name: 'the last event before the closing checkpoint deleted',
    edit: (lines) => without(lines, 27),
    seq: 27,
    reason: 'seq 27 missing: seq 28 follows seq 26',
  },
  {
    name: 'a checkpoint deleted',
    edit: (lines) => without(lines, 11),
    seq: 11,
    reason: 'seq 11 missing: seq 12 follows seq 10',
  },
  {
    name: 'a repeated record inserted after itself',
    edit: (lines) => lines.flatMap((line) => (line.seq === 7 ? [line, line] : [line])),
    seq: 7,
    reason: 'duplicate seq 7 after seq 7',
  },
  {
    name: 'a later record copied in earlier',
    edit: (lines) => lines.flatMap((line) => (line.seq === 7 ? [at(lines, 15), line] : [line])),
    seq: 15,
    reason: 'unexpected seq 15 after seq 6: an inserted record',
  },
  {
    name: 'a forged record inserted with the next seq, a true link and a true hash',
    edit: (lines) => {
      const forged = { ...at(lines, 7), tool: 'fs__read', args: undefined };
      const sealed = { ...forged, hash: recordHash(forged) };
      return lines.flatMap((line) => (line.seq === 7 ? [sealed, line] : [line]));
    },
    seq: 7,
    reason: 'duplicate seq 7 after seq 7',
  },
  {
    name: 'a forged record with a seq of its own',
    edit: (lines) => {
      const forged = { ...at(lines, 7), seq: 9000, prevHash: at(lines, 6).hash };
      const sealed = { ...forged, hash: recordHash(forged) };
      return lines.flatMap((line) => (line.seq === 7 ? [sealed, line] : [line]));
    },
    seq: 9000,
    reason: 'unexpected seq 9000 after seq 6: an inserted record',
  },
  {
    name: 'two records swapped',
    edit: (lines) =>
      lines.map((line) => (line.seq === 7 ? at(lines, 8) : line.seq === 8 ? at(lines, 7) : line)),
    seq: 7,
    reason: 'out of order: seq 8 appears where seq 7 belongs',
  },
  {
    name: 'a record moved later',
    edit: (lines) => [...without(lines, 7).slice(0, 8), at(lines, 7), ...without(lines, 7).slice(8)],
    seq: 7,
    reason: 'out of order: seq 8 appears where seq 7 belongs',
  },
  {
    name: 'a record moved earlier',
    edit: (lines) => [...lines.slice(0, 6), at(lines, 9), ...without(lines, 9).slice(6)],
    seq: 7,
    reason: 'out of order: seq 9 appears where seq 7 belongs',
  },
  {
    name: 'an edit with the rest of the chain rehashed (no key)',
    edit: (lines) =>
      rehashFrom(
        lines.map((line) => (line.seq === 7 ? { ...line, tool: 'x' } : line)),
        6,
      ),
    seq: 11,
    reason: 'checkpoint signature invalid',
  },
  {
    name: 'a deletion with the rest renumbered and rehashed (no key)',
    edit: (lines) => rehashFrom(renumberFrom(without(lines, 7), 6), 6),
    seq: 10,
    reason: 'checkpoint signature invalid',
  },
];

describe('mcplane audit verify', () => {
  it('exits 0 on an intact log and says what it checked', async () => {
    await using tmp = await tempDir();
    await intactLog(tmp.dir);
    const { keyId } = signingKey().publicKey;
    expect(await verifyCommand(['verify', tmp.dir])).toEqual({
      code: 0,
      stdout:
        `ok: ${tmp.dir}: 28 records in 1 file, seq 1..28, 3 checkpoints\n` +
        `key: ${keyId}\n` +
        'note: no --public-key given: the signatures prove only that the log is self-consistent\n',
      stderr: '',
    });
  });

  it.each(TAMPERINGS)('finds $name at its exact seq and exits 1', async ({ edit, seq, reason }) => {
    await using tmp = await tempDir();
    const { file, lines } = await intactLog(tmp.dir);
    await writeLines(file, edit(lines));
    const result = await verifyCommand(['verify', tmp.dir]);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^broken at seq ${seq}: `));
    expect(result.stderr).toContain(reason);
    expect(result.code).toBe(1);
  });

  it.each([
    {
      name: 'a member given twice, the first one changed',
      edit: (line: string) => line.replace('{', '{"tool":"fs__delete",'),
    },
    { name: 'changed spacing', edit: (line: string) => line.replace('","', '", "') },
  ])('finds a line whose text was changed but parses the same: $name', async ({ edit }) => {
    await using tmp = await tempDir();
    const { file } = await intactLog(tmp.dir);
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[6] = edit(lines[6] as string);
    await writeFile(file, lines.join('\n'));
    expect(await verifyCommand(['verify', tmp.dir])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^broken at seq 7: not as written/) as unknown,
    });
  });

  it('names the file and line of the first broken record', async () => {
    await using tmp = await tempDir();
    const { file, lines } = await intactLog(tmp.dir);
    await writeLines(file, without(lines, 7));
    expect((await verifyCommand(['verify', tmp.dir])).stderr).toContain(`(${file}:7)`);
  });

  it('refuses a checkpoint whose signature was forged', async () => {
    await using tmp = await tempDir();
    const { file, lines } = await intactLog(tmp.dir);
    // A signature by another key over the same claim, kept under the log's own public key, with
    // the hashes recomputed so that only the signature is wrong.
    const forger = otherKey();
    const forged = resignFrom(lines, 10, forger).map((line, index) =>
      index === 10 ? { ...line, keyId: at(lines, 11).keyId, publicKey: at(lines, 11).publicKey } : line,
    );
    await writeLines(file, rehashFrom(forged, 10));
    expect(await verifyCommand(['verify', tmp.dir])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^broken at seq 11: checkpoint signature invalid/) as unknown,
    });
  });

  it('a log rewritten and re-signed with another key passes unpinned but fails against the pinned key', async () => {
    await using tmp = await tempDir();
    const { file, lines } = await intactLog(tmp.dir);
    const rewritten = lines.map((line) =>
      line.seq === 3 ? { ...line, principal: 'key:someone-else' } : line,
    );
    const forger = otherKey();
    await writeLines(file, resignFrom(rewritten, 2, forger));

    // The trust model: without a pinned key, a checkpoint vouches only for itself.
    const unpinned = await verifyCommand(['verify', tmp.dir]);
    expect(unpinned.code).toBe(0);
    expect(unpinned.stdout).toContain(`key: ${forger.publicKey.keyId}`);
    expect(unpinned.stdout).not.toContain(`key: ${signingKey().publicKey.keyId}`);

    const pinned = await verifyCommand(['verify', tmp.dir, '--public-key', signingKey().publicKey.raw]);
    expect(pinned.code).toBe(1);
    expect(pinned.stderr).toMatch(
      new RegExp(`^broken at seq 11: checkpoint signed by key ${forger.publicKey.keyId}, not a pinned key`),
    );
  });

  it('accepts the pinned key as a PEM file and says it was pinned', async () => {
    await using tmp = await tempDir();
    await intactLog(tmp.dir);
    const pem = join(tmp.dir, 'audit.pub');
    await writeFile(pem, signingKey().publicKey.key.export({ format: 'pem', type: 'spki' }));
    const result = await verifyCommand(['verify', tmp.dir, '--public-key', pem]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`key: ${signingKey().publicKey.keyId} (pinned)\n`);
    expect(result.stdout).not.toContain('self-consistent');
  });

  it('reports records after the last checkpoint as unsigned', async () => {
    await using tmp = await tempDir();
    const { file, lines } = await intactLog(tmp.dir);
    await writeLines(file, lines.slice(0, 25));
    const result = await verifyCommand(['verify', tmp.dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'note: 3 records after the last checkpoint are not covered by a signature\n',
    );
  });

  it('reports a torn line as unreadable at the seq it should have had', async () => {
    await using tmp = await tempDir();
    const { file } = await intactLog(tmp.dir);
    const text = await readFile(file, 'utf8');
    await writeFile(file, `${text}{"seq":29,"ki`);
    expect(await verifyCommand(['verify', tmp.dir])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^broken at seq 29: unreadable record: not JSON/) as unknown,
    });
  });

  it('verifies a single file that starts inside the chain', async () => {
    await using tmp = await tempDir();
    const { file, lines } = await intactLog(tmp.dir);
    const middle = join(tmp.dir, 'middle.jsonl');
    await writeLines(middle, lines.slice(11));
    expect((await verifyCommand(['verify', middle])).stdout).toMatch(
      new RegExp(`^ok: ${middle}: 17 records in 1 file, seq 12..28, 2 checkpoints\n`),
    );
    expect((await verifyCommand(['verify', file])).code).toBe(0);
  });

  it.each([
    { args: [], problem: 'expected the subcommand "verify"' },
    { args: ['verify'], problem: 'verify takes one file, directory or store URL' },
    { args: ['verify', '/nonexistent/audit'], problem: 'cannot read /nonexistent/audit' },
    { args: ['verify', '.', '--bogus'], problem: "Unknown option '--bogus'" },
    { args: ['verify', 'sqlite:/nonexistent/mcplane.db'], problem: 'cannot read /nonexistent/mcplane.db' },
    { args: ['verify', 'postgres://nobody@127.0.0.1:1/none'], problem: 'cannot reach the PostgreSQL store' },
  ])('exits 2 on bad usage: $problem', async ({ args, problem }) => {
    const result = await verifyCommand(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(problem);
    expect(result.stderr).toContain('usage: mcplane audit verify');
  });

  it('exits 2 for a bad --public-key, an empty directory and an unreadable file', async () => {
    await using tmp = await tempDir();
    expect(await verifyCommand(['verify', tmp.dir])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('no audit log') as unknown,
    });
    const { file } = await intactLog(tmp.dir);
    expect((await verifyCommand(['verify', tmp.dir, '--public-key', 'not-a-key'])).code).toBe(2);
    await chmod(file, 0o000);
    // Root reads anything; the check is meaningful only for other users.
    if (process.getuid?.() !== 0) expect((await verifyCommand(['verify', file])).code).toBe(2);
    await chmod(file, 0o600);
  });

  it('a record edited in any field is found, whichever field it is', async () => {
    await using tmp = await tempDir();
    const { file, lines } = await intactLog(tmp.dir);
    for (const field of ['time', 'tenant', 'principal', 'argsDigest', 'outcome', 'latencyMs', 'findings']) {
      const value = field === 'latencyMs' ? 99 : field === 'findings' ? [{ detector: 'x' }] : 'changed';
      await writeLines(
        file,
        lines.map((line) => (line.seq === 4 ? { ...line, [field]: value } : line)),
      );
      expect((await verifyCommand(['verify', tmp.dir])).stderr, field).toMatch(
        /^broken at seq 4: hash mismatch/,
      );
    }
    // The test's own edits are not the fault: the untouched log still verifies.
    await writeLines(file, lines);
    expect((await verifyCommand(['verify', tmp.dir])).code).toBe(0);
  });

  it('runs from the mcplane binary with the same exit codes', async () => {
    await using tmp = await tempDir();
    const { file, lines } = await intactLog(tmp.dir);
    const bin = new URL('../../bin/mcplane.js', import.meta.url).pathname;
    const run = (args: string[]) =>
      spawnSync(process.execPath, [bin, 'audit', ...args], { encoding: 'utf8', timeout: 20_000 });
    expect(run(['verify', tmp.dir])).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/^ok: /) as unknown,
    });
    await writeLines(file, without(lines, 5));
    expect(run(['verify', tmp.dir])).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/^broken at seq 5: /) as unknown,
    });
    expect(run(['check'])).toMatchObject({ status: 2 });
  });
});
