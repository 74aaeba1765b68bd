/**
 * The gateway's structured log. It always goes to stderr: on the stdio face, stdout carries only
 * MCP messages (spec 2025-11-25, "Transports" §stdio).
 *
 * No code logs a credential, an environment value or call arguments on purpose; the `redact`
 * paths are the second line, for an object logged whole by mistake (a request's headers, a
 * child's spec): those fields are replaced by `[redacted]` before the line is written.
 *
 * Lines are buffered: they go out once 4 KiB have gathered or within {@link LOG_FLUSH_MS},
 * whichever comes first, and on exit (pino flushes its destination synchronously then, after an
 * uncaught exception too). A write per line cost a call 40–60 µs of the gateway's CPU at one
 * connection (docs/benchmarks.md); a process killed with SIGKILL loses at most the last
 * {@link LOG_FLUSH_MS} of lines.
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Fields never written as given, at the top level or one object down. */
export const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'x-api-key',
  'apiKey',
  'key',
  'token',
  'secret',
  'password',
  'pepper',
  'masterKey',
  'env',
  'arguments',
  'args',
];

/** pino's `redact` paths for {@link SECRET_FIELDS}, also under `headers` (a request's or a fetch's). */
export const REDACT_PATHS: readonly string[] = SECRET_FIELDS.flatMap((field) => {
  const name = /^[A-Za-z_$][\w$]*$/.test(field) ? `.${field}` : `["${field}"]`;
  const top = name.startsWith('.') ? name.slice(1) : name;
  return [top, `*${name}`, `headers${name}`, `*.headers${name}`];
});

export const REDACTED = '[redacted]';

/** The longest a log line waits in the buffer. */
export const LOG_FLUSH_MS = 100;
/** The buffer is written out once it holds this many bytes. */
const LOG_BUFFER_BYTES = 4096;

export function loggerOptions(options: { level?: string; name?: string } = {}): LoggerOptions {
  return {
    name: options.name ?? 'mcplane',
    level: options.level ?? 'info',
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
  };
}

export function createLogger(
  options: { level?: string; name?: string; destination?: DestinationStream } = {},
): Logger {
  return pino(loggerOptions(options), options.destination ?? bufferedStderr());
}

/** stderr through pino's own destination (sonic-boom), buffered as the module comment says. */
function bufferedStderr(): DestinationStream {
  return pino.destination({
    dest: 2,
    sync: false,
    minLength: LOG_BUFFER_BYTES,
    periodicFlush: LOG_FLUSH_MS,
  });
}

const unredactedChildren = new WeakMap<Logger, Logger>();

/**
 * `log` without the `redact` paths, for lines whose keys are a fixed list none of them names (the
 * call line, a refusal's code and reason): with their wildcards, pino's redaction costs ~10 µs
 * for a two-field line and ~65 µs for a call's fourteen, several times the line itself. Made once
 * per logger.
 */
export function unredacted(log: Logger): Logger {
  let child = unredactedChildren.get(log);
  if (child === undefined) {
    child = log.child({}, { redact: [] });
    unredactedChildren.set(log, child);
  }
  return child;
}

/** A logger that writes nothing, for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
