/**
 * Anomaly detection as the composition root wires it: the detector, its stage (when enabled),
 * and the saving of its baselines to the store (when there is one).
 */
import type { Logger } from '../../log.ts';
import type { Store } from '../../store/store.ts';
import { anomalyStage } from '../anomaly-stage.ts';
import type { Stage } from '../pipeline.ts';
import { AnomalyDetector, type AnomalyFlags } from './anomaly-detector.ts';
import type { AnomalyConfig } from './anomaly-schema.ts';
import { BaselinePersistence } from './baseline-persistence.ts';

export type AnomalyDetectionOptions = {
  /** Milliseconds since the epoch, for the call rate; `Date.now` by default (tests step it). */
  readonly now?: () => number;
  /** How often baselines are saved; 30 s by default. */
  readonly saveIntervalMs?: number;
};

export class AnomalyDetection {
  readonly detector: AnomalyDetector;
  readonly #config: AnomalyConfig;
  readonly #saveIntervalMs: number | undefined;
  #persistence: BaselinePersistence | undefined;

  constructor(config: AnomalyConfig, options: AnomalyDetectionOptions = {}) {
    this.#config = config;
    this.#saveIntervalMs = options.saveIntervalMs;
    this.detector = new AnomalyDetector({
      warmup: config.warmup,
      maxPrincipals: config.maxPrincipals,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
  }

  /** The pipeline stages: the anomaly stage, or none when disabled. */
  stages(): Stage[] {
    if (!this.#config.enabled) return [];
    return [anomalyStage({ detector: this.detector, threshold: this.#config.threshold })];
  }

  flags(): AnomalyFlags {
    return this.detector.flags();
  }

  /** Loads the store's baselines and starts saving to it (once; a second call does nothing). */
  async attach(store: Store, log: Logger): Promise<void> {
    if (!this.#config.enabled || this.#persistence) return;
    const persistence = new BaselinePersistence(this.detector, store.baselines, log, this.#saveIntervalMs);
    this.#persistence = persistence;
    await persistence.start();
  }

  /** Saves the last batch. */
  async close(): Promise<void> {
    await this.#persistence?.close();
  }
}
