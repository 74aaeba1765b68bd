/**
 * CPU time of a process and everything below it, from /proc (Linux). For a child under
 * bubblewrap that is bwrap, the namespace's init and the server with whatever it started.
 */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Clock ticks per second of /proc/<pid>/stat's times: USER_HZ, which Linux fixes at 100 for
 * what it shows userspace on every architecture it runs on.
 */
const TICKS_PER_SECOND = 100;
/** A tree is never larger than this; past it the reading stops (a fork bomb is the sandbox's business). */
const MAX_PROCESSES = 4_096;

/**
 * Milliseconds of CPU (user and system) the process tree at `rootPid` has used: each live
 * process's own time plus the time of the children it has reaped (cutime, cstime), so a
 * short-lived helper that already exited still counts. Undefined where /proc cannot tell
 * (not Linux, or the process is gone).
 */
export function treeCpuMs(rootPid: number): number | undefined {
  const own = ticksOf(rootPid);
  if (own === undefined) return undefined;
  let ticks = own;
  const queue = childrenOf(rootPid);
  const seen = new Set<number>([rootPid]);
  while (queue.length > 0 && seen.size < MAX_PROCESSES) {
    const pid = queue.shift() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    ticks += ticksOf(pid) ?? 0;
    queue.push(...childrenOf(pid));
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
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

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
        .split(' ')
        .filter((field) => field !== '')
        .map(Number),
    );
  } catch {
    return [];
  }
}
