import { describe, expect, it } from 'vitest';
import { applyRedactions } from '../../../src/guard/detectors/detector.ts';
import { createTerminalEscapesDetector } from '../../../src/guard/detectors/terminal-escapes.ts';

const detector = createTerminalEscapesDetector();
const kinds = (text: string): string[] => detector.scan(text).map((hit) => hit.kind);
const strip = (text: string): string => applyRedactions(text, detector.scan(text));

describe('terminal-escapes', () => {
  it('finds CSI sequences that move the cursor and erase lines, and strips them', () => {
    const text = 'Build ok\x1b[2K\x1b[1A\x1b[31mAll tests passed\x1b[0m';
    expect(kinds(text)).toEqual(['csi', 'csi', 'csi', 'csi']);
    expect(strip(text)).toBe('Build okAll tests passed');
  });

  it('names OSC 52 clipboard writes and OSC 8 hyperlinks, BEL- or ST-terminated', () => {
    expect(kinds('x\x1b]52;c;cm0gLXJmIH4=\x07y')).toEqual(['osc-52-clipboard']);
    expect(kinds('\x1b]8;;https://evil.example/\x1b\\here\x1b]8;;\x1b\\')).toEqual([
      'osc-8-hyperlink',
      'osc-8-hyperlink',
    ]);
    expect(strip('\x1b]8;;https://evil.example/\x1b\\here\x1b]8;;\x1b\\')).toBe('here');
  });

  it('swallows an unterminated OSC to the end, as a terminal would', () => {
    expect(strip('ok\x1b]0;title never ends')).toBe('ok');
  });

  it('finds DCS strings, other ESC sequences, a lone ESC and C1 controls', () => {
    expect(kinds('\x1bP+q544e\x1b\\')).toEqual(['control-string']);
    expect(kinds('a\x1b7b\x1b8c')).toEqual(['esc', 'esc']);
    expect(kinds('end\x1b')).toEqual(['esc']);
    expect(kinds('\x9b2J')).toEqual(['csi']);
    expect(kinds('a\x85b')).toEqual(['c1-control']);
  });

  it('finds backspaces and other C0 controls that overwrite what is shown', () => {
    expect(strip('ls\x08\x08rm -rf ~')).toBe('lsrm -rf ~');
    expect(kinds('bell\x07')).toEqual(['c0-control']);
  });

  it('leaves tabs, line feeds and carriage returns alone', () => {
    expect(detector.scan('a\tb\r\nc\rProgress: 100%\n')).toEqual([]);
  });
});
