/**
 * What the operating system says about processes: CPU time of this process and of the server
 * children (so a run can say what a call cost on each side of the pipe), and which children are
 * still alive. Children are read from /proc (Linux); elsewhere their CPU is NaN and none are found.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const probe = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const value = Number(probe.stdout?.trim());
    ticksPerSecond = Number.isInteger(value) && value > 0 ? value : 100;
  }
  return ticksPerSecond;
}

/** The fields of /proc/<pid>/stat after the parenthesised command name, from field 3 (state) on. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User plus system CPU of this process, in microseconds. */
export function ownCpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** Summed user plus system CPU of other processes, in microseconds; NaN when one cannot be read. */
export function childrenCpuMicros(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    const fields = statFields(pid);
    // utime and stime are fields 14 and 15 of the whole line.
    total += fields ? ((Number(fields[11]) + Number(fields[12])) / clockTicks()) * 1e6 : Number.NaN;
  }
  return total;
}

/** Live (not zombie) children of this process. */
export function liveChildren(): number[] {
  if (!existsSync('/proc/self/stat')) return [];
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const [state, ppid] = statFields(entry) ?? [];
    if (Number(ppid) === process.pid && state !== 'Z') children.push(Number(entry));
  }
  return children;
}
