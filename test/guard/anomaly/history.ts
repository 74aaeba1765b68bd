/** Scripted usage for the anomaly tests: a stepped clock and a principal's usual day. */
import { argumentPrefixes } from '../../../src/guard/anomaly/argument-prefixes.ts';
import type { AnomalyDetector, Subject } from '../../../src/guard/anomaly/anomaly-detector.ts';
import type { AnomalyScore } from '../../../src/guard/anomaly/anomaly-score.ts';
import type { CallFeatures } from '../../../src/guard/anomaly/baseline.ts';

export const START = Date.parse('2026-11-02T09:00:00.000Z');

export function steppedClock(start = START) {
  let at = start;
  return {
    now: () => at,
    advance(ms: number) {
      at += ms;
    },
  };
}

/** The features of a tools/call of `tool` on server `fs` with these arguments. */
export function toolCall(tool: string, args: Record<string, unknown>): CallFeatures {
  return {
    item: `tools/call fs ${tool}`,
    bytes: Buffer.byteLength(JSON.stringify(args)),
    prefixes: argumentPrefixes(args),
  };
}

/** What the principal usually does: reads and lists below /data/acme. */
export function usualCall(n: number): CallFeatures {
  return n % 5 === 4
    ? toolCall('list_directory', { path: '/data/acme/reports' })
    : toolCall('read_file', { path: `/data/acme/reports/${n % 7}.txt` });
}

/** Scores and learns a call, as the stage does for an allowed call. */
export function call(detector: AnomalyDetector, subject: Subject, features: CallFeatures): AnomalyScore {
  const score = detector.score(subject, features);
  detector.learn(subject, features);
  return score;
}

/**
 * `minutes` minutes of usual work at `perMinute` calls a minute, spread over each minute.
 * Returns the scores of every call.
 */
export function history(
  detector: AnomalyDetector,
  subject: Subject,
  clock: { advance(ms: number): void },
  options: { minutes: number; perMinute: number; calls?: (n: number) => CallFeatures },
): AnomalyScore[] {
  const scores: AnomalyScore[] = [];
  const make = options.calls ?? usualCall;
  let n = 0;
  for (let minute = 0; minute < options.minutes; minute++) {
    for (let i = 0; i < options.perMinute; i++) {
      scores.push(call(detector, subject, make(n++)));
      clock.advance(60_000 / options.perMinute);
    }
  }
  return scores;
}
