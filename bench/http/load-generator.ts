/** The main thread's handle on the load-generator worker: one task at a time, one answer each. */
import { Worker } from 'node:worker_threads';
import type { LoopResult, OpenResult, Task } from './load-worker.ts';

type Answer = { seq: number; result?: unknown; error?: string };

export class LoadGenerator {
  readonly #worker = new Worker(new URL('./load-worker.ts', import.meta.url));
  readonly #waiting = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  #seq = 0;

  constructor() {
    this.#worker.on('message', (answer: Answer) => {
      const waiting = this.#waiting.get(answer.seq);
      this.#waiting.delete(answer.seq);
      if (answer.error !== undefined) waiting?.reject(new Error(answer.error));
      else waiting?.resolve(answer.result);
    });
    this.#worker.on('error', (error: Error) => {
      for (const waiting of this.#waiting.values()) waiting.reject(error);
      this.#waiting.clear();
    });
  }

  /** Opens sessions and keeps them open until {@link release}. */
  open(url: string, count: number, concurrency: number): Promise<OpenResult> {
    return this.#run({ op: 'open', url, count, concurrency }) as Promise<OpenResult>;
  }

  /** Closes (DELETE) the sessions the last {@link open} kept. */
  async release(): Promise<void> {
    await this.#run({ op: 'release' });
  }

  loop(task: Extract<Task, { op: 'loop-http' | 'loop-stdio' }>): Promise<LoopResult> {
    return this.#run(task) as Promise<LoopResult>;
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }

  #run(task: Task): Promise<unknown> {
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      this.#waiting.set(seq, { resolve, reject });
      this.#worker.postMessage({ seq, task });
    });
  }
}
