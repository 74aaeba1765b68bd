/**
 * The secrets detector as a scrubber of text the gateway logs but did not write: a child's
 * stderr. The values the gateway passed a child are redacted by value first
 * (upstream/secret-redaction.ts); this catches what the child built or fetched itself and printed,
 * by its shape (cloud keys, tokens, private keys, mcplane keys, long high-entropy tokens), each
 * replaced by `[redacted:<kind>]`.
 */
import { createSecretsDetector } from './detectors/secrets.ts';
import { DEFAULT_ENTROPY } from './guard-profiles.ts';

export function secretScrubber(): (text: string) => string {
  const detector = createSecretsDetector({ entropy: DEFAULT_ENTROPY });
  return (text) => {
    const hits = detector.scan(text);
    if (hits.length === 0) return text;
    let out = '';
    let at = 0;
    for (const hit of hits) {
      out += text.slice(at, hit.start) + hit.replacement;
      at = hit.end;
    }
    return out + text.slice(at);
  };
}
