/**
 * CPU time of one call, measured on the process that serves it: the process tree's CPU time
 * before and after. Only sound when the call is the process's only work: it must serve one
 * tenant or one session (a shared process's time is everyone's), have nothing else in flight
 * when the call is sent, and get no other request until it is answered.
 */
import { GatewayError } from '../errors.ts';
import type { ChildCpu } from './process-cpu.ts';

/** How often a call with a CPU limit is looked at: /proc reads of a small tree, every 50 ms. */
const POLL_MS = 50;

export type CpuLimit = {
  readonly ms: number;
  /** The setting that set it, for the error (e.g. `servers.fx.limits.tools.burn.cpuLimit`). */
  readonly setting: string;
  /** What the call was, for the error (e.g. `tools/call burn`). */
  readonly what: string;
};

export class CallCpuWatch {
  readonly #cpu: ChildCpu;
  readonly #before: number;
  readonly #requests: () => number;
  readonly #sentAt: number;
  readonly #controller = new AbortController();
  #timer: NodeJS.Timeout | undefined;

  /**
   * Starts watching a process's CPU for one call. `requests` counts the requests ever written
   * to the process; the call about to be sent is to be the next one and the last.
   */
  static start(cpu: ChildCpu, requests: () => number, limit: CpuLimit | undefined): CallCpuWatch | undefined {
    const before = cpu.read();
    return before === undefined ? undefined : new CallCpuWatch(cpu, before, requests, limit);
  }

  private constructor(cpu: ChildCpu, before: number, requests: () => number, limit: CpuLimit | undefined) {
    this.#cpu = cpu;
    this.#before = before;
    this.#requests = requests;
    this.#sentAt = requests();
    if (limit) {
      this.#timer = setInterval(() => this.#check(limit), POLL_MS);
      this.#timer.unref();
    }
  }

  /** Aborted with CALL_CPU_LIMIT as its reason when the call goes over its limit. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Stops watching; the call's CPU time in ms, or undefined when it cannot be told apart. */
  stop(): number | undefined {
    clearInterval(this.#timer);
    const used = this.#used();
    return used === undefined ? undefined : Math.round(used);
  }

  #used(): number | undefined {
    if (this.#requests() !== this.#sentAt + 1) return undefined;
    const now = this.#cpu.read();
    return now === undefined ? undefined : Math.max(0, now - this.#before);
  }

  #check(limit: CpuLimit): void {
    const used = this.#used();
    if (used === undefined) {
      // Another request reached the process: from now on its time is not this call's alone.
      clearInterval(this.#timer);
      return;
    }
    if (used <= limit.ms) return;
    clearInterval(this.#timer);
    this.#controller.abort(
      new GatewayError(
        'CALL_CPU_LIMIT',
        `${limit.what} used ${Math.round(used)} ms of CPU time, over its limit of ${limit.ms} ms (${limit.setting}); the call was cancelled`,
      ),
    );
  }
}
