/**
 * `terminal-escapes`: ANSI/VT control sequences and control characters. A client that prints a
 * tool result to a terminal executes them: OSC 52 writes the clipboard, OSC 8 turns text into a
 * hyperlink to anywhere, CSI sequences move the cursor and erase lines so what the user sees is
 * not what the model read, and backspaces overwrite text in place.
 *
 * Covered (ECMA-48): CSI (`ESC [` or C1 U+009B), OSC (`ESC ]` or U+009D, to BEL or ST or, when
 * unterminated, to the end of the text, as a terminal would swallow it), DCS/SOS/PM/APC strings
 * (`ESC P`, `ESC X`, `ESC ^`, `ESC _` and their C1 forms), every other `ESC` sequence, a lone
 * ESC, the remaining C1 controls U+0080–U+009F, and C0 controls other than TAB, LF and CR (a
 * lone CR is left alone: progress bars in logs use it). Redaction strips the span.
 */
import { scanWindow, type Detector, type DetectorHit } from './detector.ts';

// Each branch is a run of one character class followed by a fixed terminator: linear.
const ESCAPES = new RegExp(
  [
    String.raw`(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?`, // CSI
    String.raw`(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?`, // OSC
    String.raw`(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?`, // DCS, SOS, PM, APC
    String.raw`\x1b[\x20-\x2f]*[\x30-\x7e]?`, // other ESC sequences, or a lone ESC
    String.raw`[\x80-\x8f\x91-\x97\x99\x9a\x9c]+`, // other C1 controls
    String.raw`[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]+`, // C0 controls but TAB, LF, CR (and ESC above)
  ].join('|'),
  'g',
);

/**
 * Every branch above starts with a C0 control (ESC included), DEL or a C1 control, so a text
 * without one, most text, is passed by one native scan of a single character class.
 */
// eslint-disable-next-line no-control-regex -- control characters are what this detector finds
const MAYBE_ESCAPE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/;

/** OSC numbers worth naming in the audit log. */
const OSC_KINDS: Record<string, string> = { '8': 'osc-8-hyperlink', '52': 'osc-52-clipboard' };

export function createTerminalEscapesDetector(): Detector {
  return {
    name: 'terminal-escapes',
    scan(text: string): DetectorHit[] {
      const window = scanWindow(text);
      const hits: DetectorHit[] = [];
      if (!MAYBE_ESCAPE.test(window)) return hits;
      for (const match of window.matchAll(ESCAPES)) {
        const sequence = match[0];
        const kind = classify(sequence);
        hits.push({
          start: match.index,
          end: match.index + sequence.length,
          kind,
          detail: DETAIL[kind] ?? kind,
          replacement: '',
        });
      }
      return hits;
    },
  };
}

function classify(sequence: string): string {
  const first = sequence.charCodeAt(0);
  const second = sequence.charCodeAt(1);
  if (first === 0x9b || (first === 0x1b && second === 0x5b)) return 'csi';
  if (first === 0x9d || (first === 0x1b && second === 0x5d)) {
    const number = /^\d+/.exec(sequence.slice(first === 0x9d ? 1 : 2))?.[0];
    return (number !== undefined && OSC_KINDS[number]) || 'osc';
  }
  if (first === 0x1b)
    return sequence.length > 1 && 'PX^_'.includes(sequence.charAt(1)) ? 'control-string' : 'esc';
  if (first === 0x90 || first === 0x98 || first === 0x9e || first === 0x9f) return 'control-string';
  if (first >= 0x80) return 'c1-control';
  return 'c0-control';
}

const DETAIL: Record<string, string> = {
  csi: 'an ANSI CSI sequence (cursor, colour or erase)',
  osc: 'an OSC sequence (operating system command)',
  'osc-8-hyperlink': 'an OSC 8 terminal hyperlink',
  'osc-52-clipboard': 'an OSC 52 clipboard write',
  'control-string': 'a DCS/SOS/PM/APC control string',
  esc: 'an ESC sequence',
  'c1-control': 'C1 control characters',
  'c0-control': 'C0 control characters',
};
