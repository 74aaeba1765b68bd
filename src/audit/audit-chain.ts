/**
 * The hash chain of one log. Each record's `hash` is the SHA-256 of the canonical JSON of the
 * record without `hash`, and each record's `prevHash` is the hash of the record before it (the
 * first one's is {@link GENESIS_HASH}), so changing, removing, adding or moving any record breaks
 * a link that `audit verify` finds.
 *
 * A hash chain alone is evident only to someone who cannot recompute it: anyone may rehash an
 * edited log. The signed checkpoints (checkpoint.ts) are what an editor without the key cannot
 * forge.
 */
import { hash as digest } from 'node:crypto';
import { canonicalJson } from '../jsonrpc/canonical-json.ts';
import { GENESIS_HASH, type AuditRecord } from './audit-record.ts';

/**
 * A record as written. `line` is its JSON text exactly as hashed (plus the hash): a sink that
 * stores records must store something that parses back to the same canonical JSON, and storing
 * `line` verbatim is the safe way.
 */
export type SealedRecord = { readonly record: AuditRecord; readonly line: string };

/** The hash a record should carry: over its canonical JSON without `hash`. */
export function recordHash(record: Readonly<Record<string, unknown>>): string {
  return canonicalForm(record).hash;
}

/**
 * What a record's line must be, and the hash it must carry: the canonical JSON of the record
 * without `hash`, with the hash appended as the last member.
 */
export function canonicalForm(record: Readonly<Record<string, unknown>>): { line: string; hash: string } {
  const { hash: _hash, ...body } = record;
  const text = canonicalJson(body);
  const hash = digest('sha256', text, 'hex');
  return { line: lineOf(text, hash), hash };
}

// The verifier parses a line and rehashes it without `hash`, so the member's position does not
// matter to the hash; it is last so that the line is the hashed text plus the hash.
function lineOf(text: string, hash: string): string {
  return `${text.slice(0, -1)},"hash":"${hash}"}`;
}

/** Seals records in order, each linked to the one before. */
export class AuditChain {
  #seq: number;
  #head: string;

  /** Continues after the record `seq` whose hash is `head`; a new log starts at 0 and genesis. */
  constructor(seq = 0, head = GENESIS_HASH) {
    this.#seq = seq;
    this.#head = head;
  }

  /** The seq of the last sealed record (0 before the first). */
  get seq(): number {
    return this.#seq;
  }

  /** The hash of the last sealed record. */
  get head(): string {
    return this.#head;
  }

  /** The seq the next record will get. */
  get nextSeq(): number {
    return this.#seq + 1;
  }

  /**
   * Gives `fields` the next seq and the current head, and hashes them. Throws (and leaves the chain
   * as it was) when the fields cannot be serialized.
   */
  seal(fields: Readonly<Record<string, unknown>>): SealedRecord {
    const body = { ...fields, seq: this.#seq + 1, prevHash: this.#head };
    return this.#commit(body, canonicalJson(body));
  }

  /**
   * Seals the body `build` returns, which must already be in canonical order (every object's keys
   * sorted) so that `JSON.stringify` of it is its canonical JSON; event-fields.ts builds such
   * bodies without a sorting pass.
   */
  sealOrdered(build: (seq: number, prevHash: string) => Record<string, unknown>): SealedRecord {
    const body = build(this.#seq + 1, this.#head);
    return this.#commit(body, JSON.stringify(body));
  }

  #commit(body: Record<string, unknown>, text: string): SealedRecord {
    const hash = digest('sha256', text, 'hex');
    this.#seq += 1;
    this.#head = hash;
    body.hash = hash;
    return { record: body as unknown as AuditRecord, line: lineOf(text, hash) };
  }
}
