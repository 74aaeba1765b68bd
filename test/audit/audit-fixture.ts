/**
 * Audit test helpers: a fixed signing key, logs written by the real writer to a temporary
 * directory, the `audit verify` command run in-process, and the edits an attacker with a text
 * editor and sha256sum could make (rewriting lines, recomputing hashes).
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordHash } from '../../src/audit/audit-chain.ts';
import { describePublicKey, parsePrivateKey, type AuditSigningKey } from '../../src/audit/audit-key.ts';
import { AuditLog, type AuditLogOptions } from '../../src/audit/audit-log.ts';
import type { AuditEvent } from '../../src/audit/audit-record.ts';
import { signCheckpoint } from '../../src/audit/checkpoint.ts';
import { JsonlFileSink } from '../../src/audit/jsonl-file-sink.ts';
import { auditCommand } from '../../src/cli/audit-command.ts';
import { silentLogger } from '../../src/log.ts';

/** A fixed seed, so key ids are stable across runs. */
export const SEED = Buffer.alloc(32, 7).toString('base64');

export function signingKey(seed = SEED): AuditSigningKey {
  const privateKey = parsePrivateKey(seed, 'test');
  return { privateKey, publicKey: describePublicKey(createPublicKey(privateKey)), source: 'env' };
}

/** Another key: what an attacker who rewrote the log would sign with. */
export function otherKey(): AuditSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: describePublicKey(publicKey), source: 'generated' };
}

export async function tempDir(): Promise<{ dir: string; [Symbol.asyncDispose](): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mcplane-audit-'));
  return { dir, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

export function event(n: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    kind: 'tool-call',
    at: Date.UTC(2026, 11, 1, 12, 0, 0, n),
    tenant: 'acme',
    principal: 'key:k1',
    session: 's1',
    face: 'streamable-http',
    method: 'tools/call',
    server: 'echo',
    tool: `echo__say`,
    args: { text: `hello ${n}` },
    outcome: 'ok',
    latencyMs: 1.5,
    ...overrides,
  };
}

export type FileLogOptions = Partial<Omit<AuditLogOptions, 'sink'>> & {
  readonly rotateBytes?: number;
  readonly file?: string;
};

export async function openFileLog(dir: string, options: FileLogOptions = {}): Promise<AuditLog> {
  const { rotateBytes, file, ...rest } = options;
  const sink = new JsonlFileSink({
    dir,
    ...(file === undefined ? {} : { file }),
    ...(rotateBytes === undefined ? {} : { rotateBytes }),
    sync: false,
  });
  return AuditLog.open({ key: signingKey(), log: silentLogger(), ...rest, sink });
}

/** Writes `count` events through the real writer and closes it (which adds the closing checkpoint). */
export async function writeLog(dir: string, count: number, options: FileLogOptions = {}): Promise<void> {
  const log = await openFileLog(dir, options);
  for (let n = 1; n <= count; n++) log.append(event(n));
  await log.close();
}

export type Line = Record<string, unknown> & { seq: number; hash: string; prevHash: string; kind: string };

export async function readLines(file: string): Promise<Line[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Line);
}

export async function writeLines(file: string, lines: readonly Record<string, unknown>[]): Promise<void> {
  await writeFile(file, lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
}

/** Every record of a log directory, in chain order. */
export async function allRecords(dir: string): Promise<Line[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.jsonl')).sort();
  const active = names.filter((name) => !/-\d{12}\.jsonl$/.test(name));
  const rotated = names.filter((name) => /-\d{12}\.jsonl$/.test(name));
  const records: Line[] = [];
  for (const name of [...rotated, ...active]) records.push(...(await readLines(join(dir, name))));
  return records;
}

/** Relinks and rehashes every line from `index` on, as someone without the key could. */
export function rehashFrom(lines: Line[], index: number): Line[] {
  const out = lines.map((line) => ({ ...line }));
  for (let i = index; i < out.length; i++) {
    const line = out[i] as Line;
    if (i > 0) line.prevHash = (out[i - 1] as Line).hash;
    line.hash = recordHash(line);
  }
  return out;
}

/** Renumbers the seqs from line `index` to follow the line before it. */
export function renumberFrom(lines: Line[], index: number): Line[] {
  const out = lines.map((line) => ({ ...line }));
  for (let i = index; i < out.length; i++) (out[i] as Line).seq = i === 0 ? 1 : (out[i - 1] as Line).seq + 1;
  return out;
}

/** Re-signs every checkpoint from line `index` with `key`, as an attacker with their own key would. */
export function resignFrom(lines: Line[], index: number, key: AuditSigningKey): Line[] {
  const out = lines.map((line) => ({ ...line }));
  for (let i = index; i < out.length; i++) {
    const line = out[i] as Line;
    if (i > 0) line.prevHash = (out[i - 1] as Line).hash;
    if (line.kind === 'checkpoint') {
      const { keyId, raw } = key.publicKey;
      line.keyId = keyId;
      line.publicKey = raw;
      line.signature = signCheckpoint(
        { seq: line.seq, time: line.time as string, prevHash: line.prevHash, keyId },
        key.privateKey,
      );
    }
    line.hash = recordHash(line);
  }
  return out;
}

export async function verifyCommand(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await auditCommand(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: {},
  });
  return { code, stdout, stderr };
}
