/**
 * The load generator, on a worker thread of its own so that the benchmark's sampling and
 * bookkeeping never share its event loop. The main thread sends it one task at a time (see
 * {@link Task}) and gets back one answer; sessions opened by an `open` task stay open until a
 * `release` task, so the main thread can measure what they cost the subject.
 */
import { parentPort } from 'node:worker_threads';
import { DirectClient } from '../lib/direct-client.ts';
import { LatencySamples } from '../lib/stats.ts';
import { cpuMicros, descendants, machineBusyMicros } from './process-tree.ts';
import { closeSession, endpoint, openSession, send, succeeded, type Endpoint } from './mcp-http-client.ts';

export type Task =
  | { readonly op: 'open'; readonly url: string; readonly count: number; readonly concurrency: number }
  | { readonly op: 'release' }
  | ({
      readonly op: 'loop-http';
      readonly url: string;
      readonly tool: string;
      readonly root: number;
      /** A different text in each call's arguments, so that no two results are the same. */
      readonly uniqueArguments?: boolean;
      /** Ask mcplane's echo fixture to leave the request's `_meta` out of its result. */
      readonly omitMeta?: boolean;
    } & Window)
  | ({ readonly op: 'loop-stdio'; readonly command: string; readonly args: readonly string[] } & Window);

type Window = {
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  /** Most calls one virtual client makes, whatever the clock says. */
  readonly maxCallsPerClient: number;
};

export type OpenResult = {
  /** Nanoseconds from the first request of each session to its tools/list answer. */
  readonly times: number[];
  readonly totalNs: number;
  readonly failures: number;
  readonly firstError?: string;
};

export type LoopResult = {
  readonly calls: number;
  readonly errors: number;
  readonly seconds: number;
  readonly meanNs: number;
  readonly p50Ns: number;
  readonly p99Ns: number;
  /** CPU of the subject's own process during the window (NaN for the direct client). */
  readonly subjectCpuMicros: number;
  /** CPU of the subject's descendants (the fixture children) during the window. */
  readonly childrenCpuMicros: number;
  /** CPU of this load generator thread during the window. */
  readonly loadCpuMicros: number;
  /**
   * CPU the rest of the machine used during the window (all busy CPU minus the subject, its
   * children and this benchmark process): other work that skews the numbers.
   */
  readonly otherCpuMicros: number;
  readonly firstError?: string;
};

const ARGUMENTS = { text: 'hello from the benchmark' };
const SETUP_CONCURRENCY = 10;

let held: { to: Endpoint; sessions: (string | undefined)[] } | undefined;

/** Runs `work` for indexes 0..count-1 with at most `concurrency` at a time. */
async function forEach(count: number, concurrency: number, work: (index: number) => Promise<void>) {
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let index = next++; index < count; index = next++) await work(index);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}

async function open(task: Extract<Task, { op: 'open' }>): Promise<OpenResult> {
  const to = endpoint(task.url, task.concurrency);
  const sessions: (string | undefined)[] = [];
  const times: number[] = [];
  let failures = 0;
  let firstError: string | undefined;
  const started = process.hrtime.bigint();
  await forEach(task.count, task.concurrency, async () => {
    const start = process.hrtime.bigint();
    try {
      sessions.push(await openSession(to));
      times.push(Number(process.hrtime.bigint() - start));
    } catch (error) {
      failures++;
      firstError ??= (error as Error).message;
    }
  });
  const totalNs = Number(process.hrtime.bigint() - started);
  held = { to, sessions };
  return { times, totalNs, failures, ...(firstError ? { firstError } : {}) };
}

async function release(): Promise<void> {
  if (!held) return;
  const { to, sessions } = held;
  held = undefined;
  await forEach(sessions.length, SETUP_CONCURRENCY, (index) => closeSession(to, sessions[index]));
  to.agent.destroy();
}

function threadCpuMicros(): number {
  const usage = process.threadCpuUsage();
  return usage.user + usage.system;
}

/**
 * Closed loop: each virtual client sends its next call when the previous answer arrives. Only
 * calls that finish inside the window (after warm-up) count, for throughput and for latency.
 */
async function closedLoop(
  window: Window,
  calls: readonly (() => Promise<boolean>)[],
  cpu: { subject: () => number; children: () => number },
): Promise<LoopResult> {
  const origin = process.hrtime.bigint();
  const windowStart = origin + BigInt(window.warmupMs) * 1_000_000n;
  const windowEnd = windowStart + BigInt(window.measureMs) * 1_000_000n;
  const latencies = new LatencySamples();
  const edges: { subject: number; children: number; load: number; own: number; machine: number }[] = [];
  const edge = (): void => {
    const { user, system } = process.cpuUsage();
    edges.push({
      subject: cpu.subject(),
      children: cpu.children(),
      load: threadCpuMicros(),
      own: user + system,
      machine: machineBusyMicros(),
    });
  };
  const timers = [window.warmupMs, window.warmupMs + window.measureMs].map((ms) => setTimeout(edge, ms));
  let count = 0;
  let errors = 0;
  let firstError: string | undefined;
  const client = async (call: () => Promise<boolean>): Promise<void> => {
    for (let made = 0; made < window.maxCallsPerClient; made++) {
      const start = process.hrtime.bigint();
      if (start >= windowEnd) return;
      const ok = await call().catch((error: unknown) => {
        firstError ??= (error as Error).message;
        return false;
      });
      const end = process.hrtime.bigint();
      if (end < windowStart || end > windowEnd) continue;
      count++;
      if (!ok) errors++;
      latencies.add(Number(end - start));
    }
  };
  await Promise.all(calls.map(client));
  // A loop that ran out of calls early still needs its closing edge.
  while (edges.length < 2) {
    for (const timer of timers) clearTimeout(timer);
    edge();
  }
  const [first, last] = edges as [(typeof edges)[0], (typeof edges)[0]];
  const [p50 = NaN, p99 = NaN] = latencies.percentiles(50, 99);
  const measured = Math.min(Number(process.hrtime.bigint() - windowStart), window.measureMs * 1e6);
  return {
    calls: count,
    errors,
    seconds: Math.max(measured, 1) / 1e9,
    meanNs: latencies.mean,
    p50Ns: p50,
    p99Ns: p99,
    subjectCpuMicros: last.subject - first.subject,
    childrenCpuMicros: last.children - first.children,
    loadCpuMicros: last.load - first.load,
    otherCpuMicros:
      last.machine -
      first.machine -
      (Number.isNaN(last.subject) ? 0 : last.subject - first.subject) -
      (last.children - first.children) -
      (last.own - first.own),
    ...(firstError ? { firstError } : {}),
  };
}

async function loopHttp(task: Extract<Task, { op: 'loop-http' }>): Promise<LoopResult> {
  const to = endpoint(task.url, task.concurrency);
  const sessions: (string | undefined)[] = [];
  await forEach(task.concurrency, SETUP_CONCURRENCY, async () => {
    sessions.push(await openSession(to));
  });
  let children: number[] = [];
  let sent = 0;
  const base = task.omitMeta === true ? { ...ARGUMENTS, omitMeta: true } : ARGUMENTS;
  const args = (): Record<string, unknown> =>
    task.uniqueArguments === true ? { ...base, text: `${ARGUMENTS.text} ${sent++}` } : base;
  const call = (sessionId: string | undefined) => async (): Promise<boolean> =>
    succeeded(
      await send(to, { method: 'tools/call', params: { name: task.tool, arguments: args() } }, sessionId),
    );
  try {
    return await closedLoop(
      task,
      sessions.map((sessionId) => call(sessionId)),
      {
        subject: () => cpuMicros([task.root]),
        children: () => {
          // The tree is read once, at the start of the window, and reused at its end.
          if (children.length === 0) children = descendants(task.root);
          return cpuMicros(children);
        },
      },
    );
  } finally {
    await forEach(sessions.length, SETUP_CONCURRENCY, (index) => closeSession(to, sessions[index]));
    to.agent.destroy();
  }
}

async function loopStdio(task: Extract<Task, { op: 'loop-stdio' }>): Promise<LoopResult> {
  const client = await DirectClient.start(task.command, task.args);
  const pid = client.pid ?? 0;
  const call = async (): Promise<boolean> => {
    const reply = await client.request('tools/call', { name: 'echo', arguments: ARGUMENTS });
    return reply.result !== undefined;
  };
  try {
    return await closedLoop(
      task,
      Array.from({ length: task.concurrency }, () => call),
      {
        subject: () => Number.NaN,
        children: () => cpuMicros([pid]),
      },
    );
  } finally {
    await client.close();
  }
}

async function perform(task: Task): Promise<unknown> {
  switch (task.op) {
    case 'open':
      return open(task);
    case 'release':
      return release();
    case 'loop-http':
      return loopHttp(task);
    case 'loop-stdio':
      return loopStdio(task);
  }
}

parentPort?.on('message', (message: { seq: number; task: Task }) => {
  perform(message.task).then(
    (result) => parentPort?.postMessage({ seq: message.seq, result }),
    (error: unknown) => parentPort?.postMessage({ seq: message.seq, error: (error as Error).message }),
  );
});
