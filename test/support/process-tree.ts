/** The host's view of a process tree, from /proc (Linux), for tests that check nothing outlives the gateway. */
import { readdirSync, readFileSync } from 'node:fs';

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

/** Every descendant of `pid` (not `pid` itself). */
export function descendantsOf(pid: number): number[] {
  const found: number[] = [];
  const queue = childrenOf(pid);
  while (queue.length > 0 && found.length < 10_000) {
    const next = queue.shift() as number;
    if (found.includes(next)) continue;
    found.push(next);
    queue.push(...childrenOf(next));
  }
  return found;
}

/** The program a process runs (its argv[0] without the directory), or undefined once it is gone. */
export function commandOf(pid: number): string | undefined {
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    return argv0.slice(argv0.lastIndexOf('/') + 1) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a process still runs. A zombie does not: it has exited and only waits to be reaped,
 * which, once its parent is gone, is up to whatever init the machine has.
 */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
