/**
 * The `anomaly` stage: scores each tools/call, prompts/get and resources/read against what is
 * usual for its principal and tenant (src/guard/anomaly/, docs/anomaly.md), so that policy can
 * read `anomaly.score`. It runs after the route stage (it needs `call.target`) and before
 * authorize (whose facts read the score, through {@link anomalyOf}).
 *
 * A score at or above the threshold is flagged: one finding per non-zero component
 * (`{ detector: 'anomaly', action: 'flag', where: 'rate' | 'tool' | 'prefix' | 'size' }`), which
 * the audit stage records, and one count in the detector's flags. A flag never refuses a call by
 * itself; a policy rule on the score does.
 *
 * The call is learnt into the baselines after the rest of the pipeline answered, unless it was
 * refused (a policy deny in enforce mode, or a guard block): a refused call must not become
 * usual by being tried often.
 */
import type { AnomalyDetector, Subject } from './anomaly/anomaly-detector.ts';
import { COMPONENTS, type AnomalyScore } from './anomaly/anomaly-score.ts';
import { callFeatures } from './anomaly/call-features.ts';
import type { Call, Next, Reply, Stage } from './pipeline.ts';

/**
 * Where the stage leaves a call's score: a property under a symbol of this module's, which the
 * `Call` type does not name (cheaper per call than an entry in a WeakMap).
 */
const SCORE: unique symbol = Symbol('mcplane.anomalyScore');

type Scored = Call & { [SCORE]?: number };

/** The call's anomaly score for policy: 0 for a call the stage did not score. */
export function anomalyOf(call: Call): { score: number } {
  return { score: (call as Scored)[SCORE] ?? 0 };
}

export type AnomalyStageOptions = {
  readonly detector: AnomalyDetector;
  /** Scores at or above it are flagged. */
  readonly threshold: number;
};

export function anomalyStage(options: AnomalyStageOptions): Stage {
  const { detector, threshold } = options;
  return {
    name: 'anomaly',
    async handle(call: Call, next: Next): Promise<Reply> {
      const features = callFeatures(call);
      if (features === undefined) return next(call);
      const { tenantId, subject: principal } = call.session.principal;
      const subject: Subject = { tenantId, principal };
      const result = detector.score(subject, features);
      (call as Scored)[SCORE] = result.score;
      if (result.score > 0 && result.score >= threshold) flag(call, result, detector);
      try {
        return await next(call);
      } finally {
        if (!refused(call)) detector.learn(subject, features);
      }
    },
  };
}

function flag(call: Call, result: AnomalyScore, detector: AnomalyDetector): void {
  detector.countFlag(result);
  const score = result.score.toFixed(2);
  for (const component of COMPONENTS) {
    const value = result.components[component];
    if (value <= 0) continue;
    const reason = result.reasons[component];
    call.notes.findings.push({
      detector: 'anomaly',
      action: 'flag',
      where: component,
      detail: `${component} ${value.toFixed(2)} of score ${score}${reason === undefined ? '' : `: ${reason}`}`,
    });
  }
}

function refused(call: Call): boolean {
  const { decision, findings } = call.notes;
  if (decision?.effect === 'deny' && decision.mode === 'enforce') return true;
  return findings.some((finding) => finding.action === 'block');
}
