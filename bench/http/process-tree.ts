/**
 * A subject's process tree as Linux reports it in /proc: which processes descend from a root,
 * their resident memory (VmRSS) and their CPU time (utime + stime). Summed RSS counts pages the
 * processes share (the node binary) once per process, which is what an operator's `ps` shows.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: the unit of utime and stime in /proc/<pid>/stat; 100 on every mainstream Linux. */
const TICKS_PER_SECOND = 100;

type Stat = { readonly state: string; readonly ppid: number; readonly cpuTicks: number };

function readStat(pid: number): Stat | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name start at field 3 (state).
    const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
    return {
      state: fields[0] ?? '?',
      ppid: Number(fields[1]),
      cpuTicks: Number(fields[11]) + Number(fields[12]),
    };
  } catch {
    return undefined;
  }
}

/** Whether a process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** Every live descendant of `root` (children, grandchildren, ...), not `root` itself. */
export function descendants(root: number): number[] {
  const childrenOf = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (!stat || stat.state === 'Z') continue;
    const siblings = childrenOf.get(stat.ppid);
    if (siblings) siblings.push(pid);
    else childrenOf.set(stat.ppid, [pid]);
  }
  const found: number[] = [];
  const queue = [root];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of childrenOf.get(next) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Bytes per page, the unit of /proc/<pid>/statm; 4 KiB on x86-64 and most arm64 kernels. */
const PAGE_SIZE = 4096;

/**
 * Resident memory of one process in bytes (VmRSS), 0 when it is gone. Read from statm, the
 * same count as VmRSS in status at a fraction of the cost, since it is read every 100 ms.
 */
export function rssBytes(pid: number): number {
  try {
    const resident = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1];
    return Number(resident ?? 0) * PAGE_SIZE;
  } catch {
    return 0;
  }
}

/** User plus system CPU of the given processes, in microseconds (gone processes count 0). */
export function cpuMicros(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.cpuTicks ?? 0;
  return (ticks / TICKS_PER_SECOND) * 1e6;
}

export type TreeUsage = {
  /** Summed RSS of the root and its descendants. */
  readonly rss: number;
  /** RSS of the root alone. */
  readonly rootRss: number;
  readonly children: number;
};

/**
 * Samples a tree's summed RSS every `intervalMs` and keeps the peak, rescanning the tree's
 * membership every tenth sample (a /proc scan costs more than reading known pids). Every pid
 * ever seen is remembered so that the stop ladder can make sure none outlives the run.
 */
export class TreeSampler {
  readonly root: number;
  readonly seen = new Set<number>();
  #members: number[] = [];
  #ticks = 0;
  #peak: TreeUsage = { rss: 0, rootRss: 0, children: 0 };
  #timer: NodeJS.Timeout | undefined;

  constructor(root: number) {
    this.root = root;
  }

  start(intervalMs = 100): void {
    this.sample(true);
    this.#timer = setInterval(() => this.sample(this.#ticks++ % 10 === 0), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The summed RSS and child count now, folding them into the peak. */
  sample(rescan = true): TreeUsage {
    if (rescan) {
      this.#members = descendants(this.root);
      for (const pid of this.#members) this.seen.add(pid);
    }
    const rootRss = rssBytes(this.root);
    let rss = rootRss;
    for (const pid of this.#members) rss += rssBytes(pid);
    const now = { rss, rootRss, children: this.#members.length };
    this.#peak = {
      rss: Math.max(this.#peak.rss, now.rss),
      rootRss: Math.max(this.#peak.rootRss, now.rootRss),
      children: Math.max(this.#peak.children, now.children),
    };
    return now;
  }

  get peak(): TreeUsage {
    return this.#peak;
  }
}

/** CPU time the whole machine spent busy (all CPUs, not idle or iowait), in microseconds. */
export function machineBusyMicros(): number {
  try {
    const [, ...fields] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
    const ticks = fields.slice(0, 8).map(Number);
    const total = ticks.reduce((sum, value) => sum + value, 0);
    return ((total - (ticks[3] ?? 0) - (ticks[4] ?? 0)) / TICKS_PER_SECOND) * 1e6;
  } catch {
    return Number.NaN;
  }
}
