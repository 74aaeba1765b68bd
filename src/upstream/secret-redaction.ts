/**
 * Child stderr is free-form and goes to the gateway's log, so a child that prints its
 * environment (many do on a startup error) would put its tenant's secrets there. The gateway
 * knows which values it passed to the child, so it replaces each of them with `[redacted]`
 * before logging a line. Values shorter than {@link MIN_SECRET_LENGTH} are left alone: replacing
 * "1" or "true" everywhere would mangle the logs and hide nothing worth hiding.
 */

export const MIN_SECRET_LENGTH = 6;
export const REDACTED = '[redacted]';

/** A function that hides every occurrence of `secrets` (also in JSON-escaped form) in a line. */
export function secretRedactor(secrets: Iterable<string>): (text: string) => string {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    needles.add(secret);
    // A child that prints its env as JSON escapes quotes, backslashes and control characters.
    needles.add(JSON.stringify(secret).slice(1, -1));
  }
  // Longest first, so a secret that contains another is hidden whole.
  const ordered = [...needles].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const needle of ordered) if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    return out;
  };
}
