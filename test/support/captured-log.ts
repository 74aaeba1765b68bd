/** A pino logger whose lines stay in memory, for tests that assert what the gateway logged. */
import { Writable } from 'node:stream';
import { pino } from 'pino';

export type LogLine = { readonly level: number; readonly msg?: string } & Record<string, unknown>;

export type CapturedLog = {
  readonly log: pino.Logger;
  /** Every line so far, parsed. */
  lines(): LogLine[];
  /** Everything logged so far, as written. */
  text(): string;
};

/** pino's numeric levels. */
export const WARN = 40;
export const ERROR = 50;

export function capturedLog(level = 'debug'): CapturedLog {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    log: pino({ level }, sink),
    lines: () =>
      raw
        .join('')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as LogLine),
    text: () => raw.join(''),
  };
}
