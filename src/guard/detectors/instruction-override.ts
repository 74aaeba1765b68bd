/**
 * `instruction-override`: text that tries to take over the model that reads it. Patterns, from
 * the public prompt-injection corpora (Greshake et al., "Not what you've signed up for"; the
 * Invariant Labs MCP tool-poisoning write-ups; the DAN/jailbreak prompt families):
 *
 * - overrides: "ignore (all) previous/prior instructions", "disregard the above", "forget your
 *   rules", "your real task is…";
 * - role-play jailbreaks: "you are now DAN", "act as an unrestricted AI", "developer mode",
 *   "you are free from all restrictions";
 * - system-prompt extraction: "print/reveal your system prompt", "repeat the words above";
 * - hidden instruction blocks: `<IMPORTANT>`, `<system_prompt>`, chat-template tokens
 *   (`<|im_start|>system`, `[INST]`, `<<SYS>>`);
 * - instructions to read sensitive files (`~/.ssh/id_rsa`, `.env`, `/etc/passwd`, MCP client
 *   configs) or to send data somewhere, to hide this from the user, or to decode and obey
 *   encoded text; base64 runs (24–4,096 characters, the first 64 KiB of them per text) that
 *   decode to printable ASCII are scanned for the same phrases.
 *
 * Matching runs on folded views of the text (normalize.ts), so zero-width splits, tag-character
 * smuggling, homoglyphs, fullwidth letters and leetspeak do not hide a phrase. Precision comes
 * from requiring the whole construction (verb + qualifier + object, or a second-person
 * address), not a keyword: prose about "the previous instructions in this guide" does not match.
 * Every pattern is linear: bounded repetitions of single words, no nested unbounded groups.
 * Texts in other languages than English are not covered.
 */
import { scanWindow, withoutOverlaps, type Detector, type DetectorHit } from './detector.ts';
import { TEXT_PATTERNS, WORD_PATTERNS, type PhrasePattern } from './instruction-patterns.ts';
import { asciiTextViewText, textView, wordView, wordViewText, type FoldedView } from './normalize.ts';

/** Base64 runs of this many characters can carry a sentence. */
const MIN_BASE64_RUN = 24;
const MAX_BASE64_RUN = 4096;
/** How much base64 one text may make the detector decode, in characters. */
const DECODE_BUDGET = 64 * 1024;
const HEX_ONLY = /^[0-9a-fA-F]+$/;

function isBase64Code(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2b ||
    code === 0x2f
  );
}

/** `[start, end)` of each run of base64 characters (with its padding) of a decodable length. */
function base64Runs(text: string): [number, number][] {
  const runs: [number, number][] = [];
  let index = 0;
  while (index < text.length) {
    if (!isBase64Code(text.charCodeAt(index))) {
      index++;
      continue;
    }
    const start = index;
    while (index < text.length && isBase64Code(text.charCodeAt(index))) index++;
    let end = index;
    while (end < text.length && end - index < 2 && text.charCodeAt(end) === 0x3d) end++;
    const length = index - start;
    if (length >= MIN_BASE64_RUN && length <= MAX_BASE64_RUN) runs.push([start, end]);
    index = end > index ? end : index;
  }
  return runs;
}

/**
 * The prefilter of the word patterns, compiled: each (pattern, group) of `needs` is one bit;
 * TRIGGERS maps a word to the bits it satisfies, REQUIRED[pattern] holds the bits it needs.
 * Leetspeak `1` reads as `i` in the word view, so every word is entered with each of its `i`/`l`
 * spellings, as the patterns themselves accept either.
 */
const TRIGGERS = new Map<string, number>();
const REQUIRED: number[] = [];
{
  let bit = 0;
  for (const pattern of WORD_PATTERNS) {
    let required = 0;
    for (const group of pattern.needs ?? []) {
      const mask = 1 << bit++;
      required |= mask;
      for (const word of group)
        for (const spelling of ilSpellings(word))
          TRIGGERS.set(spelling, (TRIGGERS.get(spelling) ?? 0) | mask);
    }
    REQUIRED.push(required);
  }
  if (bit > 31) throw new Error('instruction-override: too many prefilter groups for a 32-bit mask');
}

function ilSpellings(word: string): string[] {
  let spellings = [''];
  for (const char of word) {
    const options = char === 'i' || char === 'l' ? ['i', 'l'] : [char];
    spellings = spellings.flatMap((prefix) => options.map((option) => prefix + option));
  }
  return spellings;
}

export function createInstructionOverrideDetector(): Detector {
  return {
    name: 'instruction-override',
    scan(text: string): DetectorHit[] {
      const window = scanWindow(text);
      const hits = matchPhrases(window);
      for (const encoded of encodedPhrases(window)) hits.push(encoded);
      return withoutOverlaps(hits);
    },
  };
}

function matchPhrases(text: string): DetectorHit[] {
  const hits: DetectorHit[] = [];
  const fast = asciiTextViewText(text);
  if (fast !== undefined) {
    // Text only first; origins are worked out for the patterns that matched, if any.
    const fastWords = wordViewText(fast);
    const textPatterns = candidateTextPatterns(fast).filter((pattern) => matches(pattern.regex, fast));
    const wordPatterns = matchingWordPatterns(fastWords);
    if (textPatterns.length === 0 && wordPatterns.length === 0) return hits;
    const folded = textView(text);
    collect(folded, textPatterns, hits);
    collect(wordView(folded), wordPatterns, hits);
    return hits;
  }
  const folded = textView(text);
  collect(folded, candidateTextPatterns(folded.text), hits);
  const words = wordView(folded);
  collect(words, candidateWordPatterns(words.text), hits);
  return hits;
}

function candidateTextPatterns(text: string): PhrasePattern[] {
  return TEXT_PATTERNS.filter((pattern) => pattern.hints?.some((hint) => text.includes(hint)) ?? true);
}

function candidateWordPatterns(words: string): PhrasePattern[] {
  let present = 0;
  // A word view holds only letters, single spaces and `|` breaks; one-letter words trigger nothing.
  for (const word of words.split(' ')) if (word.length > 1) present |= TRIGGERS.get(word) ?? 0;
  return WORD_PATTERNS.filter((_, index) => (present & (REQUIRED[index] ?? 0)) === REQUIRED[index]);
}

/** A sentence of a word view (`[start, end)` of its text) and the prefilter bits its words set. */
type Sentence = { readonly start: number; readonly end: number; readonly bits: number };

/**
 * The word patterns that match a word view's text, each tried only on the sentences that hold its
 * trigger words. No word pattern reaches across a sentence break: they match letters and single
 * spaces, and their look-aheads see at most up to the break's `|`, which a sentence keeps as its
 * last character. A pattern's trigger words are words of its match, so a sentence without them
 * cannot hold a match, and a pattern whose words are spread over a long text is not run over all
 * of it. Equal to testing each candidate over the whole text (a test holds the two together).
 * @internal exported for that test
 */
export function matchingWordPatterns(words: string): PhrasePattern[] {
  const sentences: Sentence[] = [];
  let all = 0;
  let bits = 0;
  let start = 0;
  for (let at = 0; at <= words.length;) {
    let space = words.indexOf(' ', at);
    if (space === -1) space = words.length;
    if (space - at === 1 && words.charCodeAt(at) === 0x7c) {
      if (bits !== 0) sentences.push({ start, end: at + 1, bits });
      all |= bits;
      bits = 0;
      start = space + 1;
    } else if (space - at > 1) bits |= TRIGGERS.get(words.slice(at, space)) ?? 0;
    at = space + 1;
  }
  if (bits !== 0) sentences.push({ start, end: words.length, bits });
  all |= bits;
  return WORD_PATTERNS.filter((pattern, index) => {
    const required = REQUIRED[index] ?? 0;
    if ((all & required) !== required) return false;
    if (required === 0) return matches(pattern.regex, words);
    return sentences.some(
      (sentence) =>
        (sentence.bits & required) === required &&
        matches(pattern.regex, words.slice(sentence.start, sentence.end)),
    );
  });
}

/**
 * Each word pattern whose trigger words the text holds, tested over the whole text: what
 * matchingWordPatterns must equal.
 * @internal exported for that test
 */
export function wholeTextWordPatterns(words: string): PhrasePattern[] {
  return candidateWordPatterns(words).filter((pattern) => matches(pattern.regex, words));
}

function matches(regex: RegExp, text: string): boolean {
  regex.lastIndex = 0;
  const found = regex.test(text);
  regex.lastIndex = 0;
  return found;
}

function collect(view: FoldedView, patterns: readonly PhrasePattern[], hits: DetectorHit[]): void {
  for (const pattern of patterns) {
    for (const match of view.text.matchAll(pattern.regex)) {
      const phrase = match[0].trimEnd();
      if (phrase.length === 0) continue;
      const first = match.index;
      const last = match.index + phrase.length - 1;
      hits.push({
        start: view.start[first] ?? 0,
        end: view.end[last] ?? 0,
        kind: pattern.kind,
        detail: pattern.detail,
        replacement: '[redacted:instruction-override]',
      });
    }
  }
}

/** Phrases hidden in base64: each long run that decodes to readable text is scanned too. */
function encodedPhrases(text: string): DetectorHit[] {
  const hits: DetectorHit[] = [];
  let budget = DECODE_BUDGET;
  for (const [start, end] of base64Runs(text)) {
    const run = text.slice(start, end);
    // Digests are hex: valid base64, never text. They cost nothing against the budget.
    if (HEX_ONLY.test(run)) continue;
    budget -= run.length;
    if (budget < 0) break;
    const plain = readableBase64(run);
    if (plain === undefined || matchPhrases(plain).length === 0) continue;
    hits.push({
      start,
      end,
      kind: 'encoded-override',
      detail: 'a base64-encoded instruction',
      replacement: '[redacted:instruction-override]',
    });
  }
  return hits;
}

/** The decoded text when a run is base64 of mostly printable text, else undefined. */
function readableBase64(run: string): string | undefined {
  const bytes = Buffer.from(run, 'base64');
  let printable = 0;
  for (const byte of bytes) if ((byte >= 0x20 && byte < 0x7f) || byte === 0x0a || byte === 0x09) printable++;
  if (printable < bytes.length * 0.95) return undefined;
  return bytes.toString('latin1');
}
