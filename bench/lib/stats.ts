/**
 * Latency samples and the few numbers the benchmark prints from them. Samples are nanoseconds
 * from `process.hrtime.bigint()`, kept as plain numbers (2^53 ns is over 100 days).
 */

/** Most samples one measurement keeps, so a runaway loop cannot grow memory without bound. */
const MAX_SAMPLES = 2_000_000;

export class LatencySamples {
  #values: number[] = [];
  #dropped = 0;

  add(nanoseconds: number): void {
    if (this.#values.length < MAX_SAMPLES) this.#values.push(nanoseconds);
    else this.#dropped++;
  }

  get count(): number {
    return this.#values.length + this.#dropped;
  }

  /** Mean of the kept samples, in nanoseconds; NaN when there are none. */
  get mean(): number {
    let sum = 0;
    for (const value of this.#values) sum += value;
    return this.#values.length > 0 ? sum / this.#values.length : Number.NaN;
  }

  /** Percentiles by nearest rank, in nanoseconds; NaN when there are no samples. */
  percentiles(...ranks: number[]): number[] {
    const sorted = Float64Array.from(this.#values).sort();
    return ranks.map((rank) => percentile(sorted, rank));
  }
}

function percentile(sorted: Float64Array, rank: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((rank / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** Nanoseconds elapsed since `start`. */
export function since(start: bigint): number {
  return Number(process.hrtime.bigint() - start);
}

/** A number with fixed decimals, or `n/a` when it could not be measured. */
export function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

export function micros(nanoseconds: number): string {
  return fixed(nanoseconds / 1_000, 1);
}

export function millis(nanoseconds: number): string {
  return fixed(nanoseconds / 1_000_000, 2);
}

export function megabytes(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

/** A plain-text table: the first row is the header; numeric-looking cells are right-aligned. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [index, cell] of row.entries()) widths[index] = Math.max(widths[index] ?? 0, cell.length);
  }
  const numeric = /^[-+]?[\d.,]+( ?(%|x|µs|ms|MB|KB))?$/;
  const lines = rows.map((row) =>
    row
      .map((cell, index) => {
        const width = widths[index] ?? 0;
        return numeric.test(cell) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd(),
  );
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [lines[0], rule, ...lines.slice(1)].join('\n');
}

/** The median of `values` (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
