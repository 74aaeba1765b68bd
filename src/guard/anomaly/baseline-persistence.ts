/**
 * Saving the detector's baselines to the store and loading them at start. Saves run in batches
 * off the hot path: every `intervalMs` (30 s by default) whatever changed since the last batch,
 * and once more at close, so a clean stop loses nothing. A failed save is logged and retried
 * with the next batch; it never reaches a call. A batch the store refuses as invalid is saved
 * row by row instead, so one baseline it will never take (a principal subject too long for it)
 * does not hold back the others; that one is dropped, with a warning.
 */
import { GatewayError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { BaselineRecord } from '../../store/records.ts';
import type { Baselines } from '../../store/store.ts';
import type { AnomalyDetector } from './anomaly-detector.ts';

export const SAVE_INTERVAL_MS = 30_000;

export class BaselinePersistence {
  readonly #detector: AnomalyDetector;
  readonly #store: Baselines;
  readonly #log: Logger;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #saving: Promise<void> = Promise.resolve();

  constructor(detector: AnomalyDetector, store: Baselines, log: Logger, intervalMs = SAVE_INTERVAL_MS) {
    this.#detector = detector;
    this.#store = store;
    this.#log = log;
    this.#intervalMs = intervalMs;
  }

  /** Loads every saved baseline into the detector, then saves every `intervalMs`. */
  async start(): Promise<void> {
    const rows = await this.#store.load();
    const restored = this.#detector.restore(rows);
    if (rows.length > 0) this.#log.info({ saved: rows.length, restored }, 'anomaly baselines loaded');
    this.#timer = setInterval(() => void this.save(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Saves what changed since the last batch; batches never overlap. */
  save(): Promise<void> {
    const run = this.#saving.then(async () => {
      const batch = this.#detector.takeDirty();
      if (batch.length === 0) return;
      try {
        await this.#store.save(batch);
      } catch (err) {
        if (invalid(err)) await this.#saveOneByOne(batch);
        else {
          this.#detector.markDirty(batch);
          this.#log.warn(
            { err, baselines: batch.length },
            'could not save anomaly baselines; retrying later',
          );
        }
      }
    });
    this.#saving = run;
    return run;
  }

  async #saveOneByOne(batch: readonly BaselineRecord[]): Promise<void> {
    for (const row of batch) {
      try {
        await this.#store.save([row]);
      } catch (err) {
        if (invalid(err)) {
          this.#log.warn({ err, tenant: row.tenantId }, 'the store refused an anomaly baseline; not saved');
        } else {
          this.#detector.markDirty([row]);
        }
      }
    }
  }

  /** Stops the timer and saves the last batch. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.save();
  }
}

function invalid(error: unknown): boolean {
  return error instanceof GatewayError && error.code === 'INVALID_PARAMS';
}
