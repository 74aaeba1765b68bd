/**
 * CPU time of a child and everything it started, from Linux's /proc. Under bubblewrap the pid
 * the gateway holds is bwrap's, and the server runs as its descendant (upstream/
 * process-isolation.ts), so the whole tree is summed: each live process's own user and system
 * time (utime + stime), plus the time of its children that have ended and been waited for
 * (cutime + cstime). A descendant's time moves from the first sum to its parent's second when it
 * is reaped, so the total only grows. Clock ticks are USER_HZ, 100 per second on Linux's /proc ABI
 * on every architecture.
 */
import { readdirSync, readFileSync } from 'node:fs';

const USER_HZ = 100;
/** A tree is at most this many processes: a fork bomb must not stall the sampler. */
const MAX_TREE = 256;

/** Ticks of one process (its own and its reaped children's), or undefined when it is gone. */
function ownTicks(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14-17 (utime, stime, cutime, cstime) are 11-14 here, counting from field 3 (state).
  let ticks = 0;
  for (let i = 11; i <= 14; i++) ticks += Number(fields[i] ?? 0) || 0;
  return ticks;
}

function childrenOf(pid: number): number[] {
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

/** CPU seconds of the process tree under `pid`, or undefined when the process is gone. */
export function treeCpuSeconds(pid: number): number | undefined {
  const root = ownTicks(pid);
  if (root === undefined) return undefined;
  let ticks = root;
  const queue = childrenOf(pid);
  const seen = new Set<number>([pid]);
  while (queue.length > 0 && seen.size < MAX_TREE) {
    const next = queue.shift() as number;
    if (seen.has(next)) continue;
    seen.add(next);
    ticks += ownTicks(next) ?? 0;
    queue.push(...childrenOf(next));
  }
  return ticks / USER_HZ;
}

/** Whether this system has /proc to read CPU from. */
export function canReadCpu(): boolean {
  return treeCpuSeconds(process.pid) !== undefined;
}
