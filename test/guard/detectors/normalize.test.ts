import { describe, expect, it } from 'vitest';
import { textView, wordView } from '../../../src/guard/detectors/normalize.ts';

describe('text folding', () => {
  it('lower-cases, collapses white space and drops invisible characters', () => {
    expect(textView('  Hello\u200b\u200b   WORLD\t\n!').text).toBe('hello world !');
  });

  it('folds compatibility forms, accents and look-alike letters to plain Latin', () => {
    expect(textView('\uff28\u0435llo \u{1D42F}isit caf\u00e9 \ufb01le').text).toBe('hello visit cafe file');
  });

  it('decodes tag characters to the ASCII they mirror', () => {
    expect(textView('a\u{E0062}\u{E0043}').text).toBe('abc');
  });

  it('maps every folded character back to its place in the original', () => {
    const original = 'X \u200bY\uff3a';
    const view = textView(original);
    expect(view.text).toBe('x yz');
    expect([...view.start]).toEqual([0, 1, 3, 4]);
    expect([...view.end]).toEqual([1, 2, 4, 5]);
  });

  it('builds words: leetspeak inside words, numbers and punctuation as separators, sentence breaks kept', () => {
    expect(wordView(textView('H4x0r says: ignore*previous* rules. Version 2.0 (2024)!')).text).toBe(
      'haxor says ignore previous rules | version |',
    );
  });

  it('joins letter-spaced words', () => {
    expect(wordView(textView('i g n o r e this; a b c')).text).toBe('ignore this | a b c');
  });
});
