/** A sink in memory for unit tests: it can be held (a slow disk) or made to fail (a full one). */
import type { SealedRecord } from '../../src/audit/audit-chain.ts';
import type { AuditSink } from '../../src/audit/audit-sink.ts';

export class MemorySink implements AuditSink {
  readonly lines: string[] = [];
  /** Each write's size, in order. */
  readonly batches: number[] = [];
  closed = false;
  /** Rejects the next this many writes. */
  failures = 0;
  #gate: Promise<void> | undefined;
  readonly #tail: unknown;

  constructor(tail?: unknown) {
    this.#tail = tail;
  }

  get records(): Record<string, unknown>[] {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Makes writes wait until the returned function is called. */
  hold(): () => void {
    let release = (): void => undefined;
    this.#gate = new Promise<void>((resolve) => {
      release = () => {
        this.#gate = undefined;
        resolve();
      };
    });
    return release;
  }

  async tail(): Promise<unknown> {
    return this.#tail;
  }

  async write(records: readonly SealedRecord[]): Promise<void> {
    this.batches.push(records.length);
    await this.#gate;
    if (this.failures > 0) {
      this.failures--;
      throw new Error('disk full');
    }
    this.lines.push(...records.map((sealed) => sealed.line));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
