/**
 * A time as `toISOString` writes it, formatted once per millisecond: records made together (an
 * audit batch, concurrent calls' usage events) mostly share their millisecond, and formatting a
 * date costs more than the rest of such a record.
 */
let lastMs = Number.NaN;
let lastText = '';

export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastText = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastText;
}

/** Now, as {@link isoTime} writes it. */
export function isoNow(): string {
  return isoTime(Date.now());
}
