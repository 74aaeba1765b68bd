/**
 * The gateway's structured log. It always goes to stderr: on the stdio face, stdout carries only
 * MCP messages (spec 2025-11-25, "Transports" §stdio).
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino(
    { name: options.name ?? 'mcplane', level: options.level ?? 'info' },
    pino.destination({ dest: 2, sync: false }),
  );
}

/** A logger that writes nothing, for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
