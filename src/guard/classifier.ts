/**
 * An external prompt-injection classifier over HTTP, such as a Prompt Guard model behind a
 * Hugging Face inference server or an LLM Guard API. The gateway POSTs `{ <bodyField>: text }`
 * and reads a score in [0, 1] from the answer:
 *
 * - `scorePath` when configured (dotted, array indexes allowed: `0.score`);
 * - otherwise the first shape that fits: `{ score, label? }`; a list (or a list of lists) of
 *   `{ label, score }`, taking the highest score among the attack labels; LLM Guard's
 *   `{ is_valid, scanners: { PromptInjection: 0.97 } }`; or `{ flagged | is_valid: boolean }`.
 *   A score that comes with a benign label is turned around (BENIGN 0.9 is an attack score 0.1).
 *
 * Verdicts are cached by the SHA-256 of the text in a bounded LRU, and concurrent requests for
 * the same text share one HTTP request. Failures (timeout, status, unreadable answer) are thrown
 * as {@link ClassifierUnavailable} and never cached; the guard decides whether to fail open or
 * closed.
 */
import { createHash } from 'node:crypto';
import type { ClassifierConfig } from './guard-schema.ts';

export type ClassifierVerdict = {
  /** The attack score in [0, 1]. */
  readonly score: number;
  readonly label?: string;
  readonly flagged: boolean;
};

export type Classifier = {
  /** Rejects with {@link ClassifierUnavailable} when no verdict could be had in time. */
  classify(text: string, signal: AbortSignal): Promise<ClassifierVerdict>;
  readonly failMode: 'open' | 'closed';
  readonly maxChars: number;
};

export class ClassifierUnavailable extends Error {
  /** Short and non-secret: `timeout`, `HTTP 503`, `unrecognised response`, … */
  readonly reason: string;

  constructor(reason: string, options?: { cause?: unknown }) {
    super(`classifier unavailable: ${reason}`, options);
    this.name = 'ClassifierUnavailable';
    this.reason = reason;
  }
}

/** Bigger answers are not a classifier's. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export class HttpClassifier implements Classifier {
  readonly #config: ClassifierConfig;
  readonly #fetch: typeof fetch;
  readonly #cache = new Map<string, ClassifierVerdict>();
  readonly #inflight = new Map<string, Promise<ClassifierVerdict>>();
  readonly #attackLabels: ReadonlySet<string>;

  constructor(config: ClassifierConfig, options: { fetch?: typeof fetch } = {}) {
    this.#config = config;
    this.#fetch = options.fetch ?? fetch;
    this.#attackLabels = new Set(config.labels.map((label) => label.toUpperCase()));
  }

  get failMode(): 'open' | 'closed' {
    return this.#config.failMode;
  }

  get maxChars(): number {
    return this.#config.maxChars;
  }

  async classify(text: string, signal: AbortSignal): Promise<ClassifierVerdict> {
    const key = createHash('sha256').update(text).digest('hex');
    const cached = this.#cache.get(key);
    if (cached) {
      // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
      this.#cache.delete(key);
      this.#cache.set(key, cached);
      return cached;
    }
    let pending = this.#inflight.get(key);
    if (!pending) {
      // Not tied to this caller's signal: another call may be waiting for the same verdict.
      pending = this.#request(text).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    const verdict = await untilAborted(pending, signal);
    this.#remember(key, verdict);
    return verdict;
  }

  #remember(key: string, verdict: ClassifierVerdict): void {
    if (this.#config.cacheSize === 0) return;
    this.#cache.delete(key);
    this.#cache.set(key, verdict);
    while (this.#cache.size > this.#config.cacheSize) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
  }

  async #request(text: string): Promise<ClassifierVerdict> {
    const timeout = AbortSignal.timeout(this.#config.timeout);
    let response: Response;
    let body: string;
    try {
      response = await this.#fetch(this.#config.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...this.#config.headers },
        body: JSON.stringify({ [this.#config.bodyField]: text }),
        signal: timeout,
        redirect: 'error',
      });
      body = await readCapped(response);
    } catch (error) {
      const reason = timeout.aborted
        ? 'timeout'
        : error instanceof ClassifierUnavailable
          ? error.reason
          : 'request failed';
      throw error instanceof ClassifierUnavailable
        ? error
        : new ClassifierUnavailable(reason, { cause: error });
    }
    if (!response.ok) throw new ClassifierUnavailable(`HTTP ${response.status}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      throw new ClassifierUnavailable('unrecognised response', { cause: error });
    }
    const verdict = this.#parse(parsed);
    if (!verdict) throw new ClassifierUnavailable('unrecognised response');
    return verdict;
  }

  #parse(body: unknown): ClassifierVerdict | undefined {
    const scored =
      this.#config.scorePath === undefined ? this.#autoScore(body) : scoreAt(body, this.#config.scorePath);
    if (scored === undefined || !Number.isFinite(scored.score)) return undefined;
    const score = Math.min(1, Math.max(0, scored.score));
    return {
      score,
      ...(scored.label !== undefined ? { label: scored.label } : {}),
      flagged: score >= this.#config.threshold,
    };
  }

  #isAttack(label: string): boolean {
    return this.#attackLabels.has(label.toUpperCase());
  }

  #autoScore(body: unknown): { score: number; label?: string } | undefined {
    if (Array.isArray(body)) return this.#fromLabels(body.flat(2));
    if (!isRecord(body)) return typeof body === 'number' ? { score: body } : undefined;
    if (typeof body.score === 'number') {
      if (typeof body.label !== 'string') return { score: body.score };
      return { score: this.#isAttack(body.label) ? body.score : 1 - body.score, label: body.label };
    }
    if (isRecord(body.scanners)) {
      const scores = Object.values(body.scanners).filter(
        (value): value is number => typeof value === 'number',
      );
      if (scores.length > 0) return { score: Math.max(...scores) };
    }
    if (typeof body.is_valid === 'boolean') return { score: body.is_valid ? 0 : 1 };
    if (typeof body.flagged === 'boolean') return { score: body.flagged ? 1 : 0 };
    for (const key of ['results', 'predictions', 'labels']) {
      if (Array.isArray(body[key])) return this.#fromLabels((body[key] as unknown[]).flat(2));
    }
    return undefined;
  }

  #fromLabels(entries: unknown[]): { score: number; label?: string } | undefined {
    const labelled = entries.filter(
      (entry): entry is { label: string; score: number } =>
        isRecord(entry) && typeof entry.label === 'string' && typeof entry.score === 'number',
    );
    if (labelled.length === 0) return undefined;
    const attacks = labelled.filter((entry) => this.#isAttack(entry.label));
    if (attacks.length > 0) {
      const top = attacks.reduce((best, entry) => (entry.score > best.score ? entry : best));
      return { score: top.score, label: top.label };
    }
    // Only benign labels: what they leave over is the attack score.
    const top = labelled.reduce((best, entry) => (entry.score > best.score ? entry : best));
    return { score: 1 - top.score, label: top.label };
  }
}

/** The promise's outcome, or the signal's reason if it aborts first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.finally(() => signal.removeEventListener('abort', onAbort)).then(resolve, reject);
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function scoreAt(body: unknown, path: string): { score: number; label?: string } | undefined {
  let value: unknown = body;
  for (const segment of path.split('.')) {
    if (Array.isArray(value)) value = value[Number(segment)];
    else if (isRecord(value)) value = value[segment];
    else return undefined;
  }
  return typeof value === 'number' ? { score: value } : undefined;
}

async function readCapped(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_RESPONSE_BYTES) {
    await response.body?.cancel();
    throw new ClassifierUnavailable('response too large');
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_RESPONSE_BYTES) throw new ClassifierUnavailable('response too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
