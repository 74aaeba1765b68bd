/**
 * The SQLite store's usage writes, on a thread of their own. node:sqlite is synchronous, so a
 * batch of usage events written on the store's connection holds the event loop for every row
 * insert and rollup upsert (~10 µs an event), and for the disk when the WAL checkpoints. Here a
 * worker thread owns a second connection to the same file (WAL lets readers and the one writer
 * at a time share it) and runs each batch, checked already, in a transaction of its own; the
 * gateway's thread only posts the batch and waits for the answer.
 *
 * A batch resolves once committed, so a read after it sees it; it rejects when the thread could
 * not write it (the file is gone, the disk is full, the thread died), and the caller (the usage
 * buffer) keeps it for the next try. A dead thread is started again at the next batch. Only for a
 * file: `:memory:` is one connection's own database.
 */
import { Worker } from 'node:worker_threads';
import { GatewayError } from '../../errors.ts';
import type { CostCharge, UsageEvent } from '../usage-records.ts';

/** What the thread is started with. */
export type UsageWriterData = { readonly path: string; readonly location: string };

/** Main thread → writer thread. */
export type UsageWriterRequest =
  | {
      readonly type: 'write';
      readonly id: number;
      readonly events: readonly UsageEvent[];
      readonly charges: readonly CostCharge[];
    }
  | { readonly type: 'close' };

/** Writer thread → main thread: a batch committed, or why not. */
export type UsageWriterReply = {
  readonly id: number;
  readonly error?: { readonly message: string; readonly errcode?: number | undefined };
};

const THREAD = new URL('./usage-writer-thread.ts', import.meta.url);
/** How long `close` waits for the thread to close its connection before stopping it. */
const CLOSE_WAIT_MS = 5_000;

type Pending = { resolve(): void; reject(error: Error): void };

export class SqliteUsageWriter {
  readonly #data: UsageWriterData;
  readonly #pending = new Map<number, Pending>();
  /** The batches out, for `close` to wait on. */
  readonly #out = new Set<Promise<void>>();
  #worker: Worker | undefined;
  #next = 0;
  #closed = false;

  constructor(path: string, location: string) {
    this.#data = { path, location };
  }

  /** Writes a checked, non-empty batch; resolves once it is committed. */
  write(events: readonly UsageEvent[], charges: readonly CostCharge[]): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new GatewayError('STORE_UNAVAILABLE', `the SQLite store at ${this.#data.location} is closed`),
      );
    }
    const worker = (this.#worker ??= this.#start());
    const id = ++this.#next;
    const written = new Promise<void>((resolve, reject) => {
      try {
        worker.postMessage({ type: 'write', id, events, charges } satisfies UsageWriterRequest);
      } catch (error) {
        // A record that cannot be copied to the thread (not plain data): this batch fails alone.
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      this.#pending.set(id, { resolve, reject });
      // Held open only while a batch is out, so an idle writer never keeps the process alive.
      worker.ref();
    });
    const forget = () => void this.#out.delete(written);
    this.#out.add(written);
    written.then(forget, forget);
    return written;
  }

  /** Waits for the batches out, then closes the thread's connection and ends the thread. */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    if (!worker) return;
    await Promise.allSettled([...this.#out]);
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    worker.postMessage({ type: 'close' } satisfies UsageWriterRequest);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), CLOSE_WAIT_MS);
      timer.unref();
    });
    if ((await Promise.race([exited, late])) === 'late') await worker.terminate();
    clearTimeout(timer);
    this.#worker = undefined;
  }

  #start(): Worker {
    const worker = new Worker(THREAD, { workerData: this.#data satisfies UsageWriterData });
    worker.unref();
    worker.on('message', (reply: UsageWriterReply) => this.#settle(reply));
    worker.on('error', (error: Error) => this.#lost(worker, error));
    worker.on('exit', (code) =>
      this.#lost(worker, new Error(`the SQLite usage writer thread stopped (exit code ${code})`)),
    );
    return worker;
  }

  #settle(reply: UsageWriterReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker?.unref();
    if (reply.error === undefined) pending.resolve();
    else pending.reject(Object.assign(new Error(reply.error.message), { errcode: reply.error.errcode }));
  }

  /** The thread died: every batch out fails (the buffer keeps it), and the next one starts anew. */
  #lost(worker: Worker, error: Error): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const batch of pending) batch.reject(error);
    if (!this.#closed) void worker.terminate();
  }
}
