/**
 * Folding text before phrase matching, so that trivial obfuscation does not hide a phrase, while
 * every character of the folded text still knows where it came from (a hit is reported, and
 * redacted, in the original text).
 *
 * Two views of one text:
 * - the **text view**: Unicode tag characters decoded to the ASCII they mirror (a smuggled
 *   instruction becomes readable), invisible characters (zero-width, bidi controls, soft
 *   hyphen, variation selectors) dropped, each character NFKD-decomposed with its combining
 *   marks dropped (fullwidth, mathematical and accented letters become plain ones), lower-cased,
 *   look-alike Cyrillic and Greek letters folded to Latin, and white space runs collapsed to one
 *   space. Paths and tags are matched here.
 * - the **word view**: the text view with leetspeak folded inside words that contain a letter
 *   (`1gn0r3` → `ignore`, but `2024` stays a number), every run of other characters turned
 *   into one space, or into ` | ` when it holds a sentence break (`.!?;`), so a phrase never
 *   matches across sentences, and letter-spaced words joined (`i g n o r e` → `ignore`). Line
 *   breaks are not sentence breaks: wrapped text would otherwise split its own phrases.
 *   Phrases are matched here.
 */

/** A folded text. Its arrays are views of a reused buffer: valid until the next fold of its kind. */
export type FoldedView = {
  readonly text: string;
  /** For each character of `text`, the index in the original text it came from. */
  readonly start: Int32Array;
  /** For each character of `text`, the index just after its original character. */
  readonly end: Int32Array;
};

/** Code points dropped outright: they render as nothing. */
function isInvisible(cp: number): boolean {
  return (
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2060 && cp <= 0x2069) ||
    cp === 0xfeff ||
    cp === 0x00ad ||
    cp === 0x034f ||
    cp === 0x061c ||
    cp === 0x180e ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0xe0100 && cp <= 0xe01ef) ||
    (cp >= 0xe0000 && cp <= 0xe001f) ||
    cp === 0xe007f
  );
}

/** Letters that look like Latin ones, after lower-casing. NFKD does not fold these. */
const LOOKALIKES: Record<string, string> = {
  а: 'a',
  в: 'b',
  е: 'e',
  ё: 'e',
  һ: 'h',
  і: 'i',
  ї: 'i',
  ј: 'j',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  ѕ: 's',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  ӏ: 'l',
  ь: 'b',
  п: 'n',
  α: 'a',
  β: 'b',
  γ: 'y',
  ε: 'e',
  η: 'n',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ω: 'w',
  ς: 's',
  ϲ: 'c',
  ϳ: 'j',
  ı: 'i',
  ł: 'l',
  ø: 'o',
  đ: 'd',
  ħ: 'h',
  ŀ: 'l',
  ɡ: 'g',
  ɑ: 'a',
  ɩ: 'i',
  ʀ: 'r',
  ꜱ: 's',
  ᴀ: 'a',
  ᴄ: 'c',
  ᴅ: 'd',
  ᴇ: 'e',
  ɢ: 'g',
  ʜ: 'h',
  ɪ: 'i',
  ᴊ: 'j',
  ᴋ: 'k',
  ʟ: 'l',
  ᴍ: 'm',
  ɴ: 'n',
  ᴏ: 'o',
  ᴘ: 'p',
  ᴛ: 't',
  ᴜ: 'u',
  ᴠ: 'v',
  ᴡ: 'w',
  ʏ: 'y',
  ᴢ: 'z',
};

const COMBINING = /\p{M}/gu;
/** Folded forms of non-ASCII code points, memoised: texts repeat their few foreign letters. */
const foldCache = new Map<number, string>();
const FOLD_CACHE_MAX = 4096;

function foldCodePoint(cp: number): string {
  let folded = foldCache.get(cp);
  if (folded !== undefined) return folded;
  folded = '';
  for (const char of String.fromCodePoint(cp).normalize('NFKD').replace(COMBINING, '').toLowerCase()) {
    folded += LOOKALIKES[char] ?? char;
  }
  if (foldCache.size < FOLD_CACHE_MAX) foldCache.set(cp, folded);
  return folded;
}

function isSpace(code: number): boolean {
  return (
    code === 0x20 ||
    (code >= 0x09 && code <= 0x0d) ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x3000 ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x1680
  );
}

/**
 * Output code units with their origins; grows as NFKD expands (a ligature becomes two letters).
 * Typed arrays are costly to allocate per call, so each view kind has one builder that is reset
 * and reused: a view is valid until the next call that builds the same kind of view.
 */
class FoldedBuilder {
  codes = new Uint16Array(1024);
  start = new Int32Array(1024);
  end = new Int32Array(1024);
  length = 0;

  reset(capacity: number): this {
    this.length = 0;
    if (this.codes.length < capacity) this.#resize(capacity);
    return this;
  }

  push(code: number, from: number, to: number): void {
    if (this.length === this.codes.length) this.#resize(this.codes.length * 2);
    this.codes[this.length] = code;
    this.start[this.length] = from;
    this.end[this.length] = to;
    this.length++;
  }

  pushString(chars: string, from: number, to: number): void {
    for (let k = 0; k < chars.length; k++) this.push(chars.charCodeAt(k), from, to);
  }

  #resize(size: number): void {
    const codes = new Uint16Array(size);
    const start = new Int32Array(size);
    const end = new Int32Array(size);
    codes.set(this.codes.subarray(0, this.length));
    start.set(this.start.subarray(0, this.length));
    end.set(this.end.subarray(0, this.length));
    this.codes = codes;
    this.start = start;
    this.end = end;
  }

  view(): FoldedView {
    // Node's native UTF-16 decoding; little-endian, as typed arrays are on every platform Node runs on.
    const text = Buffer.from(this.codes.buffer, this.codes.byteOffset, this.length * 2).toString('utf16le');
    return { text, start: this.start.subarray(0, this.length), end: this.end.subarray(0, this.length) };
  }
}

const SPACE = 0x20;
const TEXT_BUILDER = new FoldedBuilder();
const WORD_BUILDER = new FoldedBuilder();
const JOIN_BUILDER = new FoldedBuilder();

/** The text view (see the module comment). */
export function textView(original: string): FoldedView {
  const out = TEXT_BUILDER.reset(original.length + 16);
  let pendingSpace = -1;
  for (let index = 0; index < original.length;) {
    const code = original.charCodeAt(index);
    if (code < 0x80) {
      if (isSpace(code)) {
        if (pendingSpace === -1) pendingSpace = index;
      } else {
        if (pendingSpace !== -1) {
          if (out.length > 0) out.push(SPACE, pendingSpace, pendingSpace + 1);
          pendingSpace = -1;
        }
        out.push(code >= 0x41 && code <= 0x5a ? code + 32 : code, index, index + 1);
      }
      index++;
      continue;
    }
    const cp = original.codePointAt(index) ?? code;
    const width = cp > 0xffff ? 2 : 1;
    let folded: string;
    if (cp >= 0xe0020 && cp <= 0xe007e) {
      // A tag character: the ASCII character it mirrors, folded like any other.
      folded = String.fromCharCode(cp - 0xe0000).toLowerCase();
    } else if (isSpace(cp) || isInvisible(cp)) {
      folded = isSpace(cp) ? ' ' : '';
    } else {
      folded = foldCodePoint(cp);
    }
    if (folded === ' ') {
      if (pendingSpace === -1) pendingSpace = index;
    } else if (folded !== '') {
      if (pendingSpace !== -1) {
        if (out.length > 0) out.push(SPACE, pendingSpace, pendingSpace + 1);
        pendingSpace = -1;
      }
      out.pushString(folded, index, index + width);
    }
    index += width;
  }
  return out.view();
}

/** Leetspeak digits and symbols, by code unit: 0→o 1→i 3→e 4→a 5→s 7→t 8→b 9→g @→a $→s. */
const LEET = new Int16Array(128).fill(-1);
for (const [from, to] of Object.entries({
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '8': 'b',
  '9': 'g',
  '@': 'a',
  $: 's',
})) {
  LEET[from.charCodeAt(0)] = to.charCodeAt(0);
}
const BAR = 0x7c;

function isLetter(code: number): boolean {
  return code >= 0x61 && code <= 0x7a;
}

function isTokenCode(code: number): boolean {
  return isLetter(code) || (code >= 0x30 && code <= 0x39) || code === 0x40 || code === 0x24;
}

function isSentenceBreak(code: number): boolean {
  return code === 0x2e || code === 0x21 || code === 0x3f || code === 0x3b;
}

/** The word view, built from a text view (see the module comment). */
export function wordView(view: FoldedView): FoldedView {
  const source = view.text;
  const length = source.length;
  const out = WORD_BUILDER.reset(length + 16);
  let index = 0;
  while (index < length) {
    let tokenEnd = index;
    let hasLetter = false;
    while (tokenEnd < length) {
      const code = source.charCodeAt(tokenEnd);
      if (!isTokenCode(code)) break;
      if (isLetter(code)) hasLetter = true;
      tokenEnd++;
    }
    if (hasLetter) {
      for (let k = index; k < tokenEnd; k++) {
        const code = source.charCodeAt(k);
        const letter = isLetter(code) ? code : (LEET[code] ?? -1);
        if (letter !== -1) out.push(letter, view.start[k] ?? 0, view.end[k] ?? 0);
      }
      index = tokenEnd;
      continue;
    }
    // A separator: punctuation, spaces, and numbers or symbol runs without a letter.
    let breaks = false;
    let separatorEnd = tokenEnd > index ? tokenEnd : index;
    while (separatorEnd < length) {
      const code = source.charCodeAt(separatorEnd);
      if (isTokenCode(code)) {
        let next = separatorEnd;
        let letter = false;
        while (next < length && isTokenCode(source.charCodeAt(next))) {
          if (isLetter(source.charCodeAt(next))) letter = true;
          next++;
        }
        if (letter) break;
        separatorEnd = next;
        continue;
      }
      if (isSentenceBreak(code)) breaks = true;
      separatorEnd++;
    }
    if (out.length > 0 && separatorEnd < length) {
      const from = view.start[index] ?? 0;
      if (breaks) {
        out.push(SPACE, from, from);
        out.push(BAR, from, from);
      }
      out.push(SPACE, from, from);
    } else if (breaks && out.length > 0) {
      out.push(SPACE, view.start[index] ?? 0, view.start[index] ?? 0);
      out.push(BAR, view.start[index] ?? 0, view.start[index] ?? 0);
    }
    index = separatorEnd;
  }
  return joinSpacedLetters(out.view());
}

/** Four or more single letters separated by single spaces: a word spelled out to dodge filters. */
const SPACED_LETTERS = /(?<![a-z])(?:[a-z] ){3,}[a-z](?![a-z])/g;

function joinSpacedLetters(view: FoldedView): FoldedView {
  if (!SPACED_LETTERS.test(view.text)) return view;
  SPACED_LETTERS.lastIndex = 0;
  const drop = new Uint8Array(view.text.length);
  for (const match of view.text.matchAll(SPACED_LETTERS)) {
    for (let k = match.index + 1; k < match.index + match[0].length; k += 2) drop[k] = 1;
  }
  const out = JOIN_BUILDER.reset(view.text.length);
  for (let k = 0; k < view.text.length; k++) {
    if (!drop[k]) out.push(view.text.charCodeAt(k), view.start[k] ?? 0, view.end[k] ?? 0);
  }
  return out.view();
}

/*
 * The same two views as text only, without origins: most texts match no pattern, and for those
 * the origins are never needed. Only for ASCII input, where folding is lower-casing; the result
 * is exactly the `text` of textView and wordView (a test holds them together). Each is written a
 * byte at a time into a buffer kept between calls and read out as one latin1 string.
 */

/** A buffer kept between calls, grown for a longer text and let go after one grown past 256 KB. */
class KeptBuffer {
  static readonly #BYTES = 16 * 1024;
  static readonly #KEEP = 256 * 1024;
  #buffer = Buffer.allocUnsafe(KeptBuffer.#BYTES);

  /** The buffer, with room for at least `bytes`. */
  take(bytes: number): Buffer {
    if (this.#buffer.length < bytes) this.#buffer = Buffer.allocUnsafe(bytes + 1024);
    return this.#buffer;
  }

  /** Its first `length` bytes as a string; a buffer grown for one long text is let go. */
  read(length: number): string {
    const text = this.#buffer.toString('latin1', 0, length);
    if (this.#buffer.length > KeptBuffer.#KEEP) this.#buffer = Buffer.allocUnsafe(KeptBuffer.#BYTES);
    return text;
  }
}

const TEXT = new KeptBuffer();
const WORDS = new KeptBuffer();

/**
 * The text view's text of an ASCII text, or undefined when the text is not ASCII: lower-cased,
 * each run of white space one space, none at either end.
 */
export function asciiTextViewText(original: string): string | undefined {
  const out = TEXT.take(original.length);
  let length = 0;
  let space = false;
  for (let index = 0; index < original.length; index++) {
    let code = original.charCodeAt(index);
    if (code > 0x7f) return undefined;
    if (code === 0x20 || (code >= 0x09 && code <= 0x0d)) {
      space = length > 0;
      continue;
    }
    if (space) {
      out[length++] = 0x20;
      space = false;
    }
    if (code >= 0x41 && code <= 0x5a) code += 0x20;
    out[length++] = code;
  }
  return TEXT.read(length);
}

/**
 * The word view's text, from an ASCII text view's text, in one pass:
 * - a token (a run of letters and leetspeak symbols, `[a-z0-9@$]`) with a letter next to a symbol
 *   has its symbols read as letters (or dropped, for a symbol with no letter); any other token
 *   keeps them, and they separate words like every other character that is not a letter;
 * - between two words, a gap of such characters is one space, or ` | ` if it holds a sentence
 *   break (`.`, `!`, `?`, `;`); the gap before the first word goes, and the one after the last
 *   is ` |` if it holds a break;
 * - four or more single letters separated by single spaces (a word spelled out) are joined.
 */
export function wordViewText(text: string): string {
  // At most one byte out per character in, plus a ` | ` per break: 3 per character is plenty.
  const out = WORDS.take(3 * text.length + 2);
  let length = 0;
  let gapBreak = false;
  /** Single-letter words in a row, each after a plain space. */
  let spelled = 0;
  let spelledOut = false;
  let index = 0;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (!isTokenCode(code)) {
      if (isSentenceBreak(code)) gapBreak = true;
      index++;
      continue;
    }
    const start = index;
    let letters = isLetter(code);
    let folds = false;
    while (++index < text.length) {
      const next = text.charCodeAt(index);
      if (!isTokenCode(next)) break;
      const letter = isLetter(next);
      if (letter !== isLetter(text.charCodeAt(index - 1))) folds = true;
      letters &&= letter;
    }
    // Only symbols (a number) make no word: they are part of the gap.
    if (!letters && !folds) continue;
    const plainGap = length > 0 && !gapBreak;
    if (length > 0) {
      out[length++] = 0x20;
      if (gapBreak) {
        out[length++] = 0x7c;
        out[length++] = 0x20;
      }
    }
    const wordStart = length;
    for (let k = start; k < index; k++) {
      const c = text.charCodeAt(k);
      // Where a letter touches a symbol, each symbol reads as its letter, or goes.
      const letter = isLetter(c) ? c : (LEET[c] ?? -1);
      if (letter !== -1) out[length++] = letter;
    }
    spelled = length - wordStart !== 1 ? 0 : plainGap ? spelled + 1 : 1;
    if (spelled >= 4) spelledOut = true;
    gapBreak = false;
  }
  if (length > 0 && gapBreak) {
    out[length++] = 0x20;
    out[length++] = 0x7c;
  }
  const words = WORDS.read(length);
  if (!spelledOut) return words;
  SPACED_LETTERS.lastIndex = 0;
  return words.replace(SPACED_LETTERS, (run) => run.replace(/ /g, ''));
}
