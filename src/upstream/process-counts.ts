/**
 * Running totals of what happened to one server's processes, for metrics. They belong to the
 * server's name, not to a pool or an {@link UpstreamServer}: pools are replaced (a tenant's new
 * config, a reload) and their processes die, but a counter must never go down, so every pool and
 * process of the name adds to the same totals. Read at scrape time; nothing here is a metric.
 */
export type ProcessCounts = {
  /** Children spawned (warm spares and probes included); spawned = stopped + crashed + startFailed + alive. */
  spawned: number;
  /** Children that exited because the gateway stopped them (idle, drained, retired, shut down). */
  stopped: number;
  /** Children that exited on their own: a crash, or an exit the gateway did not ask for. */
  crashed: number;
  /** Children that exited before they were ready: a spawn error, a crash or a timeout in `initialize`. */
  startFailed: number;
  /** Replacements started because a process of the pool died. */
  restarts: number;
  /** Server-initiated messages refused or dropped because no session could be found for them. */
  unattributable: number;
  /** Log messages dropped because a process shared across tenants sent them on its own. */
  droppedLogs: number;
};

export function newProcessCounts(): ProcessCounts {
  return {
    spawned: 0,
    stopped: 0,
    crashed: 0,
    startFailed: 0,
    restarts: 0,
    unattributable: 0,
    droppedLogs: 0,
  };
}
