/**
 * CPU time of a process and everything below it, from /proc (Linux). For a child under
 * bubblewrap, the readings start at the server, below bwrap and the namespace's init.
 */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Clock ticks per second of /proc/<pid>/stat's times: USER_HZ, which Linux fixes at 100 for
 * what it shows userspace on every architecture it runs on.
 */
const TICKS_PER_SECOND = 100;

/**
 * How far a reading looks. A call's reading (CPU per call, `cpuLimit`, twice a call) follows only
 * children the main thread started, which is where servers start them (libuv does); the
 * metering sampler (once a second per process) reads every thread's children too.
 */
export type TreeScan = {
  readonly threads: 'main' | 'all';
  /** A tree is never read past this many processes (a fork bomb is the sandbox's business). */
  readonly maxProcesses: number;
};

/** Per call: main-thread children, up to 4,096 processes. */
export const PER_CALL_SCAN: TreeScan = { threads: 'main', maxProcesses: 4_096 };

/**
 * Milliseconds of CPU (user and system) the process tree at `rootPid` has used: each live
 * process's own time plus the time of the children it has reaped (cutime, cstime), so a
 * short-lived helper that already exited still counts. Undefined where /proc cannot tell
 * (not Linux, or the process is gone).
 */
export function treeCpuMs(rootPid: number, scan: TreeScan = PER_CALL_SCAN): number | undefined {
  const own = ticksOf(rootPid);
  if (own === undefined) return undefined;
  let ticks = own;
  const children = scan.threads === 'main' ? childrenOf : childrenOfEveryThread;
  const queue = children(rootPid);
  const seen = new Set<number>([rootPid]);
  while (queue.length > 0 && seen.size < scan.maxProcesses) {
    const pid = queue.shift() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    ticks += ticksOf(pid) ?? 0;
    queue.push(...children(pid));
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/**
 * CPU readings of one child's tree, from the server down: bubblewrap's own processes above it
 * (bwrap, the namespace's init) only wait, so once the server below them is found it is the
 * root of every later reading, which saves four /proc reads a reading. Orphans the namespace's
 * init reaped are missed with them.
 */
export class ChildCpu {
  readonly #pid: number;
  #server: number | undefined;

  constructor(pid: number) {
    this.#pid = pid;
  }

  /** Milliseconds of CPU the server's tree has used, as {@link treeCpuMs}. */
  read(): number | undefined {
    if (this.#server !== undefined) {
      const reading = treeCpuMs(this.#server);
      if (reading !== undefined) return reading;
    }
    this.#server = serverBelow(this.#pid);
    return this.#server === undefined ? undefined : treeCpuMs(this.#server);
  }
}

/** The first process below `pid` that is not a bwrap with one child (bwrap → its init → the server). */
function serverBelow(pid: number): number | undefined {
  let current = pid;
  for (let depth = 0; depth < 3; depth++) {
    let command: string;
    try {
      command = readFileSync(`/proc/${current}/comm`, 'utf8').trim();
    } catch {
      return undefined;
    }
    const children = childrenOf(current);
    if (command !== 'bwrap' || children.length !== 1) return current;
    current = children[0] as number;
  }
  return current;
}

/** utime + stime + cutime + cstime of one process. */
function ticksOf(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces or parentheses itself:
  // the fields that follow start after the last `)`. utime is field 14, so index 11 after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const times = fields.slice(11, 15).map(Number);
  return times.every(Number.isFinite) ? times.reduce((sum, value) => sum + value, 0) : undefined;
}

/**
 * The children of `pid` that its main thread started. Children of its other threads are missed:
 * reading every thread's list costs a directory read and a file per thread (a Node server has a
 * dozen), for every call, twice, and servers start children from their main thread (libuv
 * does). A child another thread started is missed while it runs; once reaped, its time is in
 * its parent's cutime and counts.
 */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter((field) => field !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** The children every thread of `pid` started: a directory read and a file per thread. */
function childrenOfEveryThread(pid: number): number[] {
  const found: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const task of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text !== '') for (const child of text.split(' ')) found.push(Number(child));
    } catch {
      // The task ended meanwhile, or the kernel has no children files: its subtree goes uncounted.
    }
  }
  return found;
}
