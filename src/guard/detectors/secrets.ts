/**
 * `secrets`: credentials in text. Specific formats first, each with a kind that names it in the
 * redaction (`[redacted:<kind>]`) and the audit log; then generic high-entropy tokens
 * (entropy.ts). A specific match always wins over a generic one on the same characters.
 *
 * Formats: AWS access key ids (AKIA/ASIA/ABIA/ACCA) and secret keys next to their name, PEM
 * private keys (a GCP service-account `private_key` is named as such), Azure storage and
 * Service Bus keys and SAS signatures, GitHub (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_),
 * GitLab, Slack tokens and webhooks, Stripe, Google API keys, OpenAI, Anthropic, npm tokens,
 * JWTs, passwords in URLs, and mcplane's own API keys, whose CRC32 is checked so a look-alike is
 * not reported (api-key-format.ts). AWS's documented example keys (`…EXAMPLE`) are not secrets.
 */
import { API_KEY_SCAN_PATTERN, parseApiKey } from '../../identity/api-key-format.ts';
import { scanWindow, withoutOverlaps, type Detector, type DetectorHit } from './detector.ts';
import { looksRandom, MAX_TOKEN_LENGTH, type EntropyOptions } from './entropy.ts';

type Rule = {
  readonly kind: string;
  readonly detail: string;
  /** Global, and with the `d` flag when the secret is capture group 1 rather than the match. */
  readonly pattern: RegExp;
  /** Substrings one of which every match contains: a text without any skips the pattern. */
  readonly hints: readonly string[];
  /** A match that fails this is not a secret (a checksum, a documented example). */
  readonly accept?: (secret: string) => boolean;
};

const notExample = (secret: string): boolean => !/EXAMPLE/.test(secret);
const PLACEHOLDER_PASSWORDS = new Set([
  'password',
  'pass',
  'passwd',
  'secret',
  'changeme',
  'pwd',
  'xxx',
  'xxxx',
]);

const RULES: readonly Rule[] = [
  {
    kind: 'mcplane-api-key',
    hints: ['mcpl_'],
    detail: 'an mcplane API key',
    pattern: API_KEY_SCAN_PATTERN,
    accept: (secret) => parseApiKey(secret) !== undefined,
  },
  {
    kind: 'aws-access-key',
    hints: ['AKIA', 'ASIA', 'ABIA', 'ACCA'],
    detail: 'an AWS access key id',
    pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9])/g,
    accept: notExample,
  },
  {
    kind: 'aws-secret-key',
    hints: ['secret', 'Secret', 'SECRET'],
    detail: 'an AWS secret access key',
    pattern:
      /(?:aws_?secret_?(?:access_?)?key|secret_?access_?key)["']?\s{0,4}[:=]\s{0,4}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/dgi,
    accept: notExample,
  },
  {
    kind: 'azure-key',
    hints: ['AccountKey=', 'SharedAccessKey='],
    detail: 'an Azure account or shared access key',
    pattern: /\b(?:AccountKey|SharedAccessKey)=([A-Za-z0-9+/]{20,200}={0,2})/dg,
  },
  {
    kind: 'azure-sas-signature',
    hints: ['sig='],
    detail: 'an Azure SAS signature',
    pattern: /[?&]sig=([A-Za-z0-9%+/=]{30,200})/dg,
  },
  {
    kind: 'github-token',
    hints: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
    detail: 'a GitHub token',
    pattern:
      /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})(?![A-Za-z0-9_])/g,
  },
  {
    kind: 'gitlab-token',
    hints: ['glpat-'],
    detail: 'a GitLab token',
    pattern: /(?<![A-Za-z0-9])glpat-[A-Za-z0-9_-]{20}(?![A-Za-z0-9_-])/g,
  },
  {
    kind: 'slack-token',
    hints: ['xox'],
    detail: 'a Slack token',
    pattern: /(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,250}/g,
  },
  {
    kind: 'slack-webhook',
    hints: ['hooks.slack.com'],
    detail: 'a Slack webhook URL',
    pattern: /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]{4,20}\/B[A-Z0-9]{4,20}\/[A-Za-z0-9]{16,40}/g,
  },
  {
    kind: 'stripe-key',
    hints: ['_live_', '_test_'],
    detail: 'a Stripe secret or restricted key',
    pattern: /(?<![A-Za-z0-9])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}/g,
  },
  {
    kind: 'stripe-webhook-secret',
    hints: ['whsec_'],
    detail: 'a Stripe webhook secret',
    pattern: /(?<![A-Za-z0-9])whsec_[A-Za-z0-9]{32,}/g,
  },
  {
    kind: 'google-api-key',
    hints: ['AIza'],
    detail: 'a Google API key',
    pattern: /(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g,
  },
  {
    kind: 'anthropic-key',
    hints: ['sk-ant-'],
    detail: 'an Anthropic API key',
    pattern: /(?<![A-Za-z0-9])sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{80,120}/g,
  },
  {
    kind: 'openai-key',
    hints: ['sk-'],
    detail: 'an OpenAI API key',
    pattern:
      /(?<![A-Za-z0-9])sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,200}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})/g,
  },
  {
    kind: 'npm-token',
    hints: ['npm_'],
    detail: 'an npm access token',
    pattern: /(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g,
  },
  {
    kind: 'jwt',
    hints: ['eyJ'],
    detail: 'a JSON Web Token',
    pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,4096}\.eyJ[A-Za-z0-9_-]{5,8192}\.[A-Za-z0-9_-]{0,1024}/g,
  },
  {
    kind: 'url-password',
    hints: ['://'],
    detail: 'a password in a URL',
    // Anchored at `://` (the scheme is a look-behind), so only URLs are candidates.
    pattern: /(?<=\b[a-z][a-z0-9+.-]{1,20}):\/\/[^\s:/@]{1,128}:([^\s:/@<>${}*]{3,128})@/dgi,
    accept: (secret) => !PLACEHOLDER_PASSWORDS.has(secret.toLowerCase()),
  },
];

const PEM_BEGIN = /-----BEGIN ([A-Z0-9]+(?: [A-Z0-9]+){0,4})-----/g;
const PEM_END = /-----END ([A-Z0-9]+(?: [A-Z0-9]+){0,4})-----/g;
/** The body of an unterminated PEM block: base64, headers, line breaks and JSON's `\n` escapes. */
const PEM_BODY = /(?:[A-Za-z0-9+/=\s\\:,]|-(?!----))*/y;
/** A real PEM block is a few KB (an RSA-4096 key is 3.3 KB, a PGP key block a little more). */
const PEM_MAX_BODY = 64 * 1024;
const SSH_PUBLIC_KEY =
  /\b(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp\d{3}|sk-ssh-ed25519@openssh\.com) AAAA[A-Za-z0-9+/=]{16,}/g;

type Span = { readonly start: number; readonly end: number };

export function createSecretsDetector(options: { entropy: EntropyOptions }): Detector {
  return {
    name: 'secrets',
    scan(text: string): DetectorHit[] {
      const window = scanWindow(text);
      const hits: DetectorHit[] = [];
      const masked: Span[] = [];
      for (const rule of RULES) collectRule(window, rule, hits, masked);
      collectPem(window, hits, masked);
      for (const match of window.matchAll(SSH_PUBLIC_KEY)) masked.push(span(match));
      const specific = withoutOverlaps(hits);
      collectHighEntropy(window, options.entropy, [...specific, ...masked], specific);
      return withoutOverlaps(specific);
    },
  };
}

function span(match: RegExpMatchArray): Span {
  return { start: match.index ?? 0, end: (match.index ?? 0) + match[0].length };
}

function collectRule(text: string, rule: Rule, hits: DetectorHit[], masked: Span[]): void {
  if (!rule.hints.some((hint) => text.includes(hint))) return;
  for (const match of text.matchAll(rule.pattern)) {
    const at = match.indices?.[1] ?? [match.index, match.index + match[0].length];
    const secret = text.slice(at[0], at[1]);
    if (rule.accept && !rule.accept(secret)) {
      // A checksum-failing look-alike or a documented example: not reported, and not handed to
      // the generic test either, which would call it random.
      masked.push(span(match));
      continue;
    }
    hits.push({
      start: at[0],
      end: at[1],
      kind: rule.kind,
      detail: rule.detail,
      replacement: `[redacted:${rule.kind}]`,
    });
  }
}

/** PEM blocks: private keys are secrets; public keys and certificates are masked from the generic test. */
function collectPem(text: string, hits: DetectorHit[], masked: Span[]): void {
  if (!text.includes('-----BEGIN ')) return;
  // Every END marker in one pass, so pairing stays linear however many BEGINs there are.
  const ends = new Map<string, number[]>();
  for (const end of text.matchAll(PEM_END)) {
    const label = end[1] ?? '';
    const list = ends.get(label) ?? [];
    list.push(end.index);
    ends.set(label, list);
  }
  let reached = 0;
  for (const begin of text.matchAll(PEM_BEGIN)) {
    if (begin.index < reached) continue;
    const label = begin[1] ?? '';
    const bodyStart = begin.index + begin[0].length;
    const endAt = firstAtOrAfter(ends.get(label), bodyStart);
    let end: number;
    if (endAt !== undefined && endAt - bodyStart <= PEM_MAX_BODY) {
      end = endAt + `-----END ${label}-----`.length;
    } else {
      PEM_BODY.lastIndex = bodyStart;
      PEM_BODY.exec(text);
      end = PEM_BODY.lastIndex;
    }
    reached = end;
    if (!/PRIVATE KEY(?: BLOCK)?$/.test(label)) {
      masked.push({ start: begin.index, end });
      continue;
    }
    const gcp = /"private_key"\s{0,4}:\s{0,4}"$/.test(text.slice(Math.max(0, begin.index - 24), begin.index));
    const kind = gcp ? 'gcp-service-account-key' : 'private-key';
    const detail = gcp ? 'a GCP service-account private key' : 'a PEM private key';
    hits.push({ start: begin.index, end, kind, detail, replacement: `[redacted:${kind}]` });
  }
}

/** The first value ≥ `from` in an ascending list (binary search). */
function firstAtOrAfter(sorted: readonly number[] | undefined, from: number): number | undefined {
  if (!sorted) return undefined;
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] as number) < from) low = middle + 1;
    else high = middle;
  }
  return sorted[low];
}

function collectHighEntropy(
  text: string,
  options: EntropyOptions,
  taken: readonly Span[],
  hits: DetectorHit[],
): void {
  const sorted = [...taken].sort((a, b) => a.start - b.start);
  for (const [start, end] of tokenRuns(text, options.minLength)) {
    const token = text.slice(start, end);
    if (text.startsWith('base64,', start - 7)) continue;
    if (overlapsAny(sorted, start, start + token.length)) continue;
    if (!looksRandom(token, options)) continue;
    hits.push({
      start,
      end: start + token.length,
      kind: 'high-entropy',
      detail: `a high-entropy token of ${token.length} characters`,
      replacement: '[redacted:high-entropy]',
    });
  }
}

function overlapsAny(sorted: readonly Span[], start: number, end: number): boolean {
  // Few spans per text; a linear walk is cheaper than a search structure.
  for (const taken of sorted) {
    if (taken.start >= end) return false;
    if (taken.end > start) return true;
  }
  return false;
}

function isTokenCode(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2b ||
    code === 0x2f ||
    code === 0x5f ||
    code === 0x2d
  );
}

/**
 * Candidate tokens: maximal runs of `[A-Za-z0-9+/_-]` with at most two `=` of padding, so
 * `key=value` splits at the sign, between `minLength` and MAX_TOKEN_LENGTH characters.
 */
function tokenRuns(text: string, minLength: number): [number, number][] {
  const runs: [number, number][] = [];
  let index = 0;
  while (index < text.length) {
    if (!isTokenCode(text.charCodeAt(index))) {
      index++;
      continue;
    }
    const start = index;
    while (index < text.length && isTokenCode(text.charCodeAt(index))) index++;
    let end = index;
    while (end < text.length && end - index < 2 && text.charCodeAt(end) === 0x3d) end++;
    if (index - start >= minLength && index - start <= MAX_TOKEN_LENGTH) runs.push([start, end]);
    index = end;
  }
  return runs;
}
