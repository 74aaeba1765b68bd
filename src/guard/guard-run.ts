/**
 * One guard pass over the parts of a message in one direction: the detectors over every selected
 * string (redacting in place, or stopping at the first block), then, when configured, the
 * external classifier over what is left. Shared by the input and output stages and by the
 * sampling hooks the session calls.
 */
import type { ErrorCode } from '../errors.ts';
import type { JSONRPCError } from '../jsonrpc/message.ts';
import { ClassifierUnavailable, type Classifier } from './classifier.ts';
import type { ActiveDetector, ClassifierAction } from './guard-profiles.ts';
import { refusal, type Finding } from './pipeline.ts';
import { scanText } from './text-scan.ts';
import { MAX_DEPTH, MAX_STRINGS, walkStrings, type Selection } from './text-walk.ts';

export type GuardScope = {
  /** Path of the value, e.g. `args`, `result.content`. */
  readonly where: string;
  readonly value: unknown;
  readonly selection: Selection;
};

export type GuardRun = {
  readonly scopes: readonly GuardScope[];
  readonly detectors: readonly ActiveDetector[];
  readonly classifier?: { readonly client: Classifier; readonly action: ClassifierAction } | undefined;
  /** Where a classifier verdict is reported: the whole message part, e.g. `args`. */
  readonly classifierWhere: string;
  readonly findings: Finding[];
  readonly signal: AbortSignal;
};

/** A refusing reply: always the `error` form of a pipeline Reply. */
export type Refusal = { readonly error: JSONRPCError['error'] };

export type GuardRunResult =
  | { readonly refused: false; readonly values: readonly unknown[] }
  | { readonly refused: true; readonly reply: Refusal };

/** Most chunks of one message sent to the classifier; longer texts are classified in part. */
export const MAX_CLASSIFIER_CHUNKS = 8;

export async function runGuards(run: GuardRun): Promise<GuardRunResult> {
  if (run.detectors.length === 0 && !run.classifier)
    return { refused: false, values: run.scopes.map((s) => s.value) };
  const values: unknown[] = [];
  const texts: string[] = [];
  for (const scope of run.scopes) {
    let blocked: Finding | undefined;
    const walked = walkStrings(scope.value, scope.where, scope.selection, (text, where) => {
      const scan = scanText(text, run.detectors, where, run.findings);
      if (scan.blocked) {
        blocked = scan.blocked;
        return undefined;
      }
      if (run.classifier && scan.text.length > 0) texts.push(scan.text);
      return scan.text;
    });
    if (blocked) return { refused: true, reply: blockedReply(blocked) };
    if (!walked.complete) {
      run.findings.push({
        detector: 'guard',
        action: 'flag',
        where: scope.where,
        detail: `more than ${MAX_STRINGS} strings or ${MAX_DEPTH} levels: the rest was not scanned`,
      });
    }
    values.push(walked.value);
  }
  if (run.classifier && texts.length > 0) {
    const refused = await classify(run, run.classifier, texts.join('\n\n'));
    if (refused) return { refused: true, reply: refused };
  }
  return { refused: false, values };
}

/** The refusal for a finding that blocks. Names the detector, never what it matched. */
export function blockedReply(finding: Finding): Refusal {
  return guardRefusal('GUARD_BLOCKED', `Blocked by the ${finding.detector} guard`, finding);
}

function guardRefusal(code: ErrorCode, message: string, finding: Finding): Refusal {
  return refusal(code, message, { detector: finding.detector, where: finding.where }) as Refusal;
}

async function classify(
  run: GuardRun,
  classifier: { readonly client: Classifier; readonly action: ClassifierAction },
  text: string,
): Promise<Refusal | undefined> {
  const { client, action } = classifier;
  const chunks: string[] = [];
  for (let at = 0; at < text.length && chunks.length < MAX_CLASSIFIER_CHUNKS; at += client.maxChars) {
    chunks.push(text.slice(at, at + client.maxChars));
  }
  const where = run.classifierWhere;
  try {
    const verdicts = await Promise.all(chunks.map((chunk) => client.classify(chunk, run.signal)));
    const worst = verdicts.reduce((top, verdict) => (verdict.score > top.score ? verdict : top));
    if (text.length > chunks.length * client.maxChars) {
      run.findings.push({
        detector: 'classifier',
        action: 'flag',
        where,
        detail: `only the first ${chunks.length * client.maxChars} characters were classified`,
      });
    }
    if (!worst.flagged) return undefined;
    const label = worst.label === undefined ? '' : ` (${worst.label})`;
    const finding: Finding = {
      detector: 'classifier',
      action,
      where,
      detail: `score ${worst.score.toFixed(2)}${label}`,
    };
    run.findings.push(finding);
    return action === 'block' ? blockedReply(finding) : undefined;
  } catch (error) {
    if (!(error instanceof ClassifierUnavailable)) throw error;
    const closed = client.failMode === 'closed';
    const finding: Finding = {
      detector: 'classifier',
      action: closed ? 'block' : 'flag',
      where,
      detail: `unavailable (${error.reason}); failed ${client.failMode}`,
    };
    run.findings.push(finding);
    return closed
      ? guardRefusal('GUARD_UNAVAILABLE', 'The content classifier is unavailable', finding)
      : undefined;
  }
}
