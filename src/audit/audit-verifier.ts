/**
 * Verifies an audit chain from any source of records, in order: each record's own hash, its seq
 * and its link to the record before, and each checkpoint's signature. It stops at the first
 * broken record and says which seq and why:
 *
 * - edited: the record's hash does not match its content (`hash mismatch`); an edit whose hash
 *   was recomputed breaks the next record's link instead (`prev-hash mismatch`);
 * - deleted: a seq is missing (`seq N missing`);
 * - inserted: a seq comes again (`duplicate seq`), or a record fits nowhere in the chain
 *   (`unexpected seq`);
 * - reordered: a record appears before one it follows (`out of order`).
 *
 * Telling a deletion from a reordering needs what comes later, so on a seq gap the verifier reads
 * on (keeping only a few flags) to see whether the missing seq turns up.
 */
import type { KeyObject } from 'node:crypto';
import { canonicalForm } from './audit-chain.ts';
import { keyIdOf, rawPublicKey, type AuditPublicKey } from './audit-key.ts';
import { GENESIS_HASH } from './audit-record.ts';
import { checkpointSignatureValid } from './checkpoint.ts';

/** One record from a source, or why it could not be read; `where` names it for the report. */
export type ChainEntry = { readonly where: string } &
  /** `text`, when the source has it, is the record as stored: it must be exactly canonical. */
  ({ readonly record: unknown; readonly text?: string } | { readonly unreadable: string });

export type VerifyOptions = {
  /** Accept checkpoints only when signed by one of these keys. Without, any key a checkpoint carries. */
  readonly pins?: readonly AuditPublicKey[];
  /** The chain must start at seq 1 from genesis (a whole log); otherwise it may start anywhere. */
  readonly fromGenesis: boolean;
};

export type ChainSummary = {
  readonly ok: true;
  readonly records: number;
  readonly firstSeq?: number;
  readonly lastSeq?: number;
  readonly checkpoints: number;
  /** Key ids of the keys that signed checkpoints, in order of first use. */
  readonly keyIds: readonly string[];
  /** Records after the last checkpoint: chained, but not covered by a signature. */
  readonly unsigned: number;
  /** Events the writer could not keep (from `dropped` records). */
  readonly dropped: number;
  /** Whether the last record is a closing checkpoint: the writer stopped cleanly. */
  readonly endsClosed: boolean;
};

/** What the first break looks like, for programs (the admin API); `reason` says it in words. */
export type BreakKind = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'signature' | 'malformed';

export type ChainBreak = {
  readonly ok: false;
  /** The first broken seq. */
  readonly seq: number;
  readonly kind: BreakKind;
  readonly reason: string;
  readonly where: string;
};

type Link = { readonly seq: number; readonly hash: string; readonly prevHash: string };
type Checked = Link & { readonly record: Record<string, unknown> };

const HEX64 = /^[0-9a-f]{64}$/;

export async function verifyAuditChain(
  entries: AsyncIterable<ChainEntry>,
  options: VerifyOptions,
): Promise<ChainSummary | ChainBreak> {
  const state = new ChainState(options);
  const iterator = entries[Symbol.asyncIterator]();
  try {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      const broken = state.check(next.value);
      if (broken === undefined) continue;
      if (broken === 'gap') return await state.classifyGap(next.value, iterator);
      return broken;
    }
  } finally {
    await iterator.return?.();
  }
  return state.summary();
}

class ChainState {
  readonly #options: VerifyOptions;
  readonly #keys = new Map<string, KeyObject>();
  readonly #keyIds: string[] = [];
  #last: Link | undefined;
  #first: number | undefined;
  #records = 0;
  #checkpoints = 0;
  #sinceCheckpoint = 0;
  #dropped = 0;
  #endsClosed = false;

  constructor(options: VerifyOptions) {
    this.#options = options;
  }

  get #expected(): number {
    return this.#last === undefined ? 1 : this.#last.seq + 1;
  }

  /** Undefined when the entry continues the chain; `gap` when a seq was skipped. */
  check(entry: ChainEntry): ChainBreak | 'gap' | undefined {
    const fail = (seq: number, reason: string, kind: BreakKind = 'edited'): ChainBreak => ({
      ok: false,
      seq,
      kind,
      reason,
      where: entry.where,
    });
    if ('unreadable' in entry)
      return fail(this.#expected, `unreadable record: ${entry.unreadable}`, 'malformed');
    const checked = wellFormed(entry.record);
    if (typeof checked === 'string') return fail(this.#expected, `malformed record: ${checked}`, 'malformed');
    const { seq, prevHash, record } = checked;
    const canonical = canonicalForm(record);
    if (canonical.hash !== checked.hash)
      return fail(seq, 'hash mismatch: the record was changed after it was written');
    // Equal parsed values can hide in other text (a member given twice, of which parsers keep
    // different ones; changed spacing): the stored text must be the one that was hashed.
    if ('text' in entry && entry.text !== undefined && entry.text !== canonical.line)
      return fail(
        seq,
        'not as written: the text differs from the hashed form (a repeated member, or changed spacing)',
      );
    const last = this.#last;
    if (last === undefined) {
      if (this.#options.fromGenesis && seq !== 1)
        return fail(1, `seq 1 missing: the log starts at seq ${seq}`, 'deleted');
      if (this.#options.fromGenesis && prevHash !== GENESIS_HASH)
        return fail(1, 'prev-hash mismatch: seq 1 does not start from genesis');
      this.#first = seq;
    } else if (seq <= last.seq) {
      return fail(
        seq,
        `duplicate seq ${seq} after seq ${last.seq}: an inserted or repeated record`,
        'inserted',
      );
    } else if (seq > last.seq + 1) {
      return 'gap';
    } else if (prevHash !== last.hash) {
      return fail(
        seq,
        `prev-hash mismatch: seq ${seq} does not link to seq ${last.seq} (which was rewritten, or replaced)`,
      );
    }
    if (record.kind === 'checkpoint') {
      const problem = this.#checkpointProblem(checked);
      if (problem !== undefined) return fail(seq, problem, 'signature');
    } else {
      this.#sinceCheckpoint++;
      if (record.kind === 'dropped' && typeof record.count === 'number') this.#dropped += record.count;
    }
    this.#records++;
    this.#last = checked;
    this.#endsClosed = record.kind === 'checkpoint' && record.reason === 'close';
    return undefined;
  }

  /**
   * The record `entry` skipped one or more seqs. Reads the rest: if the missing seq comes later and
   * so does this record's own predecessor, the records were reordered; if this seq comes again, or
   * the missing one comes but this record's predecessor never does, it was inserted; if the missing
   * seq never comes, it was deleted.
   */
  async classifyGap(entry: ChainEntry, rest: AsyncIterator<ChainEntry>): Promise<ChainBreak> {
    const skipped = wellFormed((entry as { record: unknown }).record) as Checked;
    const missing = this.#expected;
    const after = (this.#last as Link).seq;
    let missingAt: string | undefined;
    let predecessorSeen = false;
    let seenAgain = false;
    for (let next = await rest.next(); !next.done; next = await rest.next()) {
      const later = 'record' in next.value ? wellFormed(next.value.record) : undefined;
      if (later === undefined || typeof later === 'string') continue;
      if (later.seq === missing) missingAt ??= next.value.where;
      if (later.hash === skipped.prevHash) predecessorSeen = true;
      if (later.seq === skipped.seq) seenAgain = true;
    }
    const fail = (seq: number, reason: string, kind: BreakKind = 'edited'): ChainBreak => ({
      ok: false,
      seq,
      kind,
      reason,
      where: entry.where,
    });
    if (seenAgain || (missingAt !== undefined && !predecessorSeen)) {
      return fail(
        skipped.seq,
        `unexpected seq ${skipped.seq} after seq ${after}: an inserted record`,
        'inserted',
      );
    }
    if (missingAt !== undefined) {
      return fail(
        missing,
        `out of order: seq ${skipped.seq} appears where seq ${missing} belongs; seq ${missing} comes later, at ${missingAt}`,
        'reordered',
      );
    }
    return fail(
      missing,
      `seq ${missing} missing: seq ${skipped.seq} follows seq ${after} (a record was deleted)`,
      'deleted',
    );
  }

  summary(): ChainSummary {
    return {
      ok: true,
      records: this.#records,
      ...(this.#first === undefined ? {} : { firstSeq: this.#first, lastSeq: this.#last?.seq }),
      checkpoints: this.#checkpoints,
      keyIds: this.#keyIds,
      unsigned: this.#sinceCheckpoint,
      dropped: this.#dropped,
      endsClosed: this.#endsClosed,
    };
  }

  #checkpointProblem({ seq, prevHash, record }: Checked): string | undefined {
    const { time, keyId, publicKey, signature } = record;
    if (
      typeof time !== 'string' ||
      typeof keyId !== 'string' ||
      typeof publicKey !== 'string' ||
      typeof signature !== 'string'
    ) {
      return 'malformed checkpoint: time, keyId, publicKey and signature must be strings';
    }
    const key = this.#key(publicKey);
    if (key === undefined) return 'malformed checkpoint: publicKey is not a base64 Ed25519 key';
    if (keyIdOf(Buffer.from(publicKey, 'base64')) !== keyId)
      return 'malformed checkpoint: keyId is not the fingerprint of publicKey';
    const pins = this.#options.pins;
    if (pins !== undefined && !pins.some((pin) => pin.keyId === keyId)) {
      return `checkpoint signed by key ${keyId}, not a pinned key`;
    }
    if (!checkpointSignatureValid({ seq, time, prevHash, keyId }, signature, key)) {
      return 'checkpoint signature invalid';
    }
    if (!this.#keyIds.includes(keyId)) this.#keyIds.push(keyId);
    this.#checkpoints++;
    this.#sinceCheckpoint = 0;
    return undefined;
  }

  #key(publicKey: string): KeyObject | undefined {
    let key = this.#keys.get(publicKey);
    if (key === undefined) {
      try {
        key = rawPublicKey(publicKey);
      } catch {
        return undefined;
      }
      this.#keys.set(publicKey, key);
    }
    return key;
  }
}

/** The chain fields of a record, or what is wrong with them. */
function wellFormed(value: unknown): Checked | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const record = value as Record<string, unknown>;
  const { seq, hash, prevHash } = record;
  if (!Number.isSafeInteger(seq) || (seq as number) < 1) return 'seq is not a positive integer';
  if (typeof hash !== 'string' || !HEX64.test(hash)) return 'hash is not a SHA-256 hex digest';
  if (typeof prevHash !== 'string' || !HEX64.test(prevHash)) return 'prevHash is not a SHA-256 hex digest';
  if (typeof record.kind !== 'string') return 'kind is missing';
  return { seq: seq as number, hash, prevHash, record };
}
