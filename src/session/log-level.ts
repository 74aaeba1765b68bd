/** MCP log levels, least to most severe (spec 2025-11-25, "Logging": RFC 5424 severities). */
export const LOG_LEVELS = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/** Whether a message at `level` passes a session's threshold; unknown levels pass. */
export function passes(level: unknown, threshold: LogLevel | undefined): boolean {
  if (threshold === undefined || !isLogLevel(level)) return true;
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(threshold);
}

/** The most verbose of several thresholds: what a process shared by those sessions must emit. */
export function mostVerbose(levels: Iterable<LogLevel>): LogLevel | undefined {
  let best: LogLevel | undefined;
  for (const level of levels) {
    if (best === undefined || LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(best)) best = level;
  }
  return best;
}
