/**
 * A label that may take at most `max` distinct values. Each series costs Prometheus memory for as
 * long as it is kept, and a label fed from a growing set (tenants, tools) would make one per
 * value; past the cap, new values are counted together under {@link OTHER}. The first values seen
 * keep their own series for the life of the process, so a restart may choose differently.
 *
 * `_other` starts with an underscore so that it can never be a tenant id (those start with a letter).
 */
export const OTHER = '_other';

export class LabelCap {
  readonly #max: number;
  readonly #seen = new Set<string>();

  constructor(max: number) {
    this.#max = max;
  }

  /** The label value to use for `value`. */
  value(value: string): string {
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.#max) return OTHER;
    this.#seen.add(value);
    return value;
  }

  get size(): number {
    return this.#seen.size;
  }
}
