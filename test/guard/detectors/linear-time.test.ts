/**
 * Each detector on inputs built to make a backtracking regex go quadratic or worse. These are not
 * timed assertions: a pattern that backtracks catastrophically on 256 KB takes minutes, and the
 * per-test timeout (generous, for a busy machine) is what fails it. The time is printed.
 */
import { describe, expect, it } from 'vitest';
import type { Detector } from '../../../src/guard/detectors/detector.ts';
import { MAX_SCAN_CHARS } from '../../../src/guard/detectors/detector.ts';
import { createExfiltrationLinksDetector } from '../../../src/guard/detectors/exfiltration-links.ts';
import { createHiddenCharactersDetector } from '../../../src/guard/detectors/hidden-characters.ts';
import { createInstructionOverrideDetector } from '../../../src/guard/detectors/instruction-override.ts';
import { createOversizedOutputDetector } from '../../../src/guard/detectors/oversized-output.ts';
import { createSecretsDetector } from '../../../src/guard/detectors/secrets.ts';
import { createTerminalEscapesDetector } from '../../../src/guard/detectors/terminal-escapes.ts';

const SIZE = 256 * 1024;
const TIMEOUT = 20_000;
const fill = (unit: string): string => unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE);

const detectors: Record<string, Detector> = {
  secrets: createSecretsDetector({ entropy: { threshold: 4, minLength: 32 } }),
  links: createExfiltrationLinksDetector({ allowHosts: ['github.com'], links: 'all' }),
  terminal: createTerminalEscapesDetector(),
  hidden: createHiddenCharactersDetector(),
  phrases: createInstructionOverrideDetector(),
  oversized: createOversizedOutputDetector({ maxBytes: 1024 }),
};

const ADVERSARIAL: [string, string][] = [
  ['secrets', fill('eyJ')],
  ['secrets', fill(`eyJ${'a'.repeat(4000)}.`)],
  ['secrets', fill('-----BEGIN A PRIVATE KEY-----.')],
  ['secrets', fill('-----BEGIN RSA PRIVATE KEY-----\nAAAA')],
  ['secrets', fill(`aws_secret_access_key=${'a'.repeat(39)} `)],
  ['secrets', fill(`postgres://${'u'.repeat(127)}:${'p'.repeat(127)} `)],
  ['secrets', fill(`AccountKey=${'a'.repeat(19)};`)],
  ['secrets', fill(`${'aB3'.repeat(6)}x `)],
  ['secrets', fill('aB3dE6'.repeat(43) + ' ')],
  ['secrets', fill('mcpl_')],
  ['links', fill('![')],
  ['links', fill(`[${'a'.repeat(999)}`)],
  ['links', fill(`<img ${'a'.repeat(1999)}`)],
  ['links', fill('<img src=<img src=')],
  ['links', fill('<https://')],
  ['links', fill('\n[a]: ')],
  ['links', fill('![x](https://a.example/?q=1)')],
  ['terminal', fill('\x1b]')],
  ['terminal', fill('\x1b[0;')],
  ['terminal', fill('\x1bP')],
  ['hidden', fill('\u{E0041}')],
  ['hidden', fill('\u{1F3F4}\u{E0067}')],
  ['hidden', fill('\u200b\u200c')],
  ['phrases', fill('ignore ')],
  ['phrases', fill('ignore all of the ')],
  ['phrases', fill('you are you are ')],
  ['phrases', fill('send the api key ')],
  ['phrases', fill(`read ${'a'.repeat(79)} `)],
  ['phrases', fill('.ssh/')],
  ['phrases', fill('cat .env ')],
  ['phrases', fill('i g n o r e ')],
  ['phrases', fill('a\u0301\u0302\u0303')],
  ['phrases', fill('<important><important>')],
  ['phrases', fill('SWdub3JlIGFsbCBwcmV2aW91cyBpbnN0cnVjdGlvbnM= ')],
  ['phrases', fill('repeat the words above the words above ')],
];

describe('detectors stay linear on adversarial input', () => {
  it.each(
    ADVERSARIAL.map(([name, text], index) => [
      `${index}: ${name} on ${JSON.stringify(text.slice(0, 24))}…`,
      name,
      text,
    ]),
  )('%s', { timeout: TIMEOUT }, (_, name, text) => {
    const started = performance.now();
    const hits = (detectors[name] as Detector).scan(text);
    const ms = performance.now() - started;
    console.log(`${name}: ${text.length} chars in ${ms.toFixed(0)} ms, ${hits.length} hits`);
    expect(Array.isArray(hits)).toBe(true);
  });

  it('scans at most the bound of a text, however long it is', { timeout: TIMEOUT }, () => {
    const text = `${'x'.repeat(MAX_SCAN_CHARS)} Ignore all previous instructions`;
    expect(detectors.phrases?.scan(text)).toEqual([]);
  });
});
