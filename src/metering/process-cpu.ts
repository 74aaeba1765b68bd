/**
 * CPU time of a child and everything it started, for cost attribution. Under bubblewrap the pid
 * the gateway holds is bwrap's, and the server runs as its descendant (upstream/
 * process-isolation.ts), so the whole tree is summed, every thread's children included; the
 * reading itself is upstream/process-cpu.ts's, which CPU per call uses too.
 */
import { treeCpuMs, type TreeScan } from '../upstream/process-cpu.ts';

/** Sampled once a second per process: every thread's children, a tree of at most 256 processes. */
const SAMPLER_SCAN: TreeScan = { threads: 'all', maxProcesses: 256 };

/** CPU seconds of the process tree under `pid`, or undefined when the process is gone. */
export function treeCpuSeconds(pid: number): number | undefined {
  const ms = treeCpuMs(pid, SAMPLER_SCAN);
  return ms === undefined ? undefined : ms / 1000;
}
