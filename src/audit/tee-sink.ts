/**
 * Writing one chain to several sinks (the file and the store). Every sink gets every record in
 * the same order, so each holds the whole chain and verifies on its own. The sinks must agree on
 * where the chain stands when the log opens: a sink that is behind (or holds another chain)
 * would continue from a different record, so it is refused rather than silently forked.
 */
import { GatewayError } from '../errors.ts';
import type { SealedRecord } from './audit-chain.ts';
import type { AuditSink, AuditSource } from './audit-sink.ts';

export type NamedSink = { readonly name: string; readonly sink: AuditSink };

export class TeeAuditSink implements AuditSink {
  readonly #sinks: readonly NamedSink[];

  constructor(sinks: readonly NamedSink[]) {
    this.#sinks = sinks;
  }

  /** The store when one is written (an indexed query), else the first readable sink. */
  get source(): AuditSource | undefined {
    const sources = this.#sinks.flatMap(({ sink }) => (sink.source ? [sink.source] : []));
    return sources.find((source) => source.kind === 'store') ?? sources[0];
  }

  async tail(): Promise<unknown> {
    const tails = [];
    for (const { name, sink } of this.#sinks) tails.push({ name, tail: await sink.tail() });
    const [first, ...rest] = tails;
    for (const other of rest) {
      if (headOf(other.tail) !== headOf(first?.tail)) {
        throw new GatewayError(
          'AUDIT_LOG_INVALID',
          `the audit sinks disagree on the chain: ${first?.name} ends at ${describe(first?.tail)}, ${other.name} at ${describe(other.tail)}; start both empty, or use one`,
        );
      }
    }
    return first?.tail;
  }

  // One after the other, in order: a failure leaves the later sinks unwritten, and the retry
  // (which both sinks skip where they already hold a seq) completes them.
  async write(records: readonly SealedRecord[]): Promise<void> {
    for (const { sink } of this.#sinks) await sink.write(records);
  }

  async close(): Promise<void> {
    const results = await Promise.allSettled(this.#sinks.map(({ sink }) => sink.close()));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

function headOf(tail: unknown): string | undefined {
  const hash = (tail as { hash?: unknown } | undefined)?.hash;
  return typeof hash === 'string' ? hash : undefined;
}

function describe(tail: unknown): string {
  const seq = (tail as { seq?: unknown } | undefined)?.seq;
  return tail === undefined ? 'nothing (empty)' : `seq ${String(seq)}`;
}
