/**
 * `mcplane audit verify <file|dir|store URL> [--public-key <pem file|base64>]... [--name audit.jsonl]`
 *
 * A directory is verified as a whole log: its files in chain order, from seq 1. A single file may
 * start anywhere in the chain (a rotated file), so only its own records and links are checked.
 * A store URL (`sqlite:<path>`, `postgres://…`, as `gateway.store.url`) is verified as a whole
 * log too: the store sink's rows in seq order, from seq 1. The store is opened without migrating.
 * Exit codes: 0 intact, 1 broken (the first broken seq on stderr), 2 wrong usage or unreadable.
 */
import { access, constants, readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parsePublicKey, type AuditPublicKey } from '../audit/audit-key.ts';
import { verifyAuditChain, type ChainBreak, type ChainSummary } from '../audit/audit-verifier.ts';
import { jsonlEntries } from '../audit/jsonl-entries.ts';
import { logFiles, logsIn } from '../audit/log-files.ts';
import { storeEntries } from '../audit/store-entries.ts';
import { openStore } from '../store/open-store.ts';
import { parseStoreUrl } from '../store/store-url.ts';
import type { Store } from '../store/store.ts';
import { GatewayError } from '../errors.ts';
import type { CommandIo } from './command-io.ts';

const USAGE = `usage: mcplane audit verify <file|dir|store URL> [--public-key <pem file|base64 key>]... [--name audit.jsonl]
`;

class UsageError extends Error {}

type VerifyRequest = {
  readonly path: string;
  readonly pins: readonly AuditPublicKey[];
  readonly name?: string;
};

async function parseRequest(args: readonly string[]): Promise<VerifyRequest> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { 'public-key': { type: 'string', multiple: true }, name: { type: 'string' } },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const [subcommand, path, ...extra] = parsed.positionals;
  if (subcommand !== 'verify') throw new UsageError('expected the subcommand "verify"');
  if (path === undefined || extra.length > 0)
    throw new UsageError('verify takes one file, directory or store URL');
  const pins = await Promise.all((parsed.values['public-key'] ?? []).map(pinned));
  return { path, pins, ...(parsed.values.name === undefined ? {} : { name: parsed.values.name }) };
}

/** A pinned key from a PEM file, or given inline as base64. */
async function pinned(value: string): Promise<AuditPublicKey> {
  let text = value;
  try {
    text = await readFile(value, 'utf8');
  } catch {
    // Not a file: the key itself.
  }
  try {
    return parsePublicKey(text);
  } catch (error) {
    if (error instanceof GatewayError) throw new UsageError(`--public-key ${value}: ${error.message}`);
    throw error;
  }
}

/** The files to verify, and whether they must hold the whole chain. */
async function filesOf(request: VerifyRequest): Promise<{ files: string[]; whole: boolean }> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(request.path)).isDirectory();
  } catch {
    throw new UsageError(`cannot read ${request.path}`);
  }
  if (!isDirectory) return { files: [request.path], whole: false };
  const logs = request.name === undefined ? await logsIn(request.path) : [request.name];
  const [name, ...others] = logs;
  if (name === undefined) throw new UsageError(`no audit log (*.jsonl) in ${request.path}`);
  if (others.length > 0)
    throw new UsageError(`several logs in ${request.path} (${logs.join(', ')}): choose one with --name`);
  const files = await logFiles(request.path, name);
  if (files.length === 0) throw new UsageError(`no file of ${name} in ${request.path}`);
  return { files, whole: true };
}

function report(path: string, source: string, summary: ChainSummary, pinnedKeys: boolean): string {
  const span = summary.firstSeq === undefined ? '' : `, seq ${summary.firstSeq}..${summary.lastSeq}`;
  const lines = [
    `ok: ${path}: ${summary.records} records in ${source}${span}, ${summary.checkpoints} checkpoint${summary.checkpoints === 1 ? '' : 's'}`,
  ];
  for (const keyId of summary.keyIds) lines.push(`key: ${keyId}${pinnedKeys ? ' (pinned)' : ''}`);
  if (summary.checkpoints > 0 && !pinnedKeys) {
    lines.push('note: no --public-key given: the signatures prove only that the log is self-consistent');
  }
  if (summary.unsigned > 0) {
    lines.push(`note: ${summary.unsigned} records after the last checkpoint are not covered by a signature`);
  }
  if (summary.records > 0 && !summary.endsClosed) {
    lines.push(
      'note: the log does not end with a closing checkpoint: it is still being written, its writer stopped uncleanly, or its end was cut off',
    );
  }
  if (summary.dropped > 0) lines.push(`note: the writer dropped ${summary.dropped} events (a full backlog)`);
  return `${lines.join('\n')}\n`;
}

function isStoreUrl(path: string): boolean {
  return /^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(path);
}

async function verifyStore(request: VerifyRequest, io: CommandIo): Promise<number> {
  let store: Store;
  try {
    // Opening a SQLite path that is not there would create an empty store: verify only reads.
    const location = parseStoreUrl(request.path);
    if (location.backend === 'sqlite') {
      await access(location.path, constants.R_OK).catch(() => {
        throw new UsageError(`cannot read ${location.path}`);
      });
    }
    store = await openStore(request.path, { migrate: false });
  } catch (error) {
    if (error instanceof GatewayError) throw new UsageError(error.message);
    throw error;
  }
  try {
    const { location } = await store.info();
    const options = { fromGenesis: true, ...(request.pins.length > 0 ? { pins: request.pins } : {}) };
    let result;
    try {
      result = await verifyAuditChain(storeEntries(store.audit), options);
    } catch (error) {
      throw new UsageError(`cannot read the store: ${(error as Error).message}`);
    }
    return outcome(result, location, `the store's audit_records`, request, io);
  } finally {
    await store.close();
  }
}

function outcome(
  result: ChainSummary | ChainBreak,
  path: string,
  source: string,
  request: VerifyRequest,
  io: CommandIo,
): number {
  if (!result.ok) {
    io.stderr(`broken at seq ${result.seq}: ${result.reason} (${result.where})\n`);
    return 1;
  }
  io.stdout(report(path, source, result, request.pins.length > 0));
  return 0;
}

async function verify(request: VerifyRequest, io: CommandIo): Promise<number> {
  if (isStoreUrl(request.path)) return verifyStore(request, io);
  const { files, whole } = await filesOf(request);
  for (const file of files) {
    try {
      await access(file, constants.R_OK);
    } catch {
      throw new UsageError(`cannot read ${file}`);
    }
  }
  const options = { fromGenesis: whole, ...(request.pins.length > 0 ? { pins: request.pins } : {}) };
  let result;
  try {
    result = await verifyAuditChain(jsonlEntries(files), options);
  } catch (error) {
    throw new UsageError(`cannot read the log: ${(error as Error).message}`);
  }
  const source = `${files.length} file${files.length === 1 ? '' : 's'}`;
  return outcome(result, request.path, source, request, io);
}

/** Runs `mcplane audit …` (arguments after `audit`); returns the process exit code. */
export async function auditCommand(args: readonly string[], io: CommandIo): Promise<number> {
  try {
    return await verify(await parseRequest(args), io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`mcplane audit: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}
