/**
 * Matching a URI against an RFC 6570 template, for routing `resources/read` of a URI that no
 * server listed but whose template one server declared (e.g. `file:///{path}`).
 * Level 1 expressions match one path segment; `{+var}`, `{#var}` and `{/var*}` forms match
 * anything; query expressions (`{?q}`) match an optional query string.
 */

const cache = new Map<string, RegExp>();

export function matchesTemplate(template: string, uri: string): boolean {
  let pattern = cache.get(template);
  if (!pattern) {
    pattern = compile(template);
    if (cache.size > 10_000) cache.clear();
    cache.set(template, pattern);
  }
  return pattern.test(uri);
}

function compile(template: string): RegExp {
  let source = '';
  let last = 0;
  for (const match of template.matchAll(/\{([^}]*)\}/g)) {
    source += escape(template.slice(last, match.index));
    const expression = match[1] ?? '';
    const operator = expression[0];
    if (operator === '?' || operator === '&') source += '(?:[?&].*)?';
    else if (operator === '+' || operator === '#' || operator === '/' || expression.endsWith('*'))
      source += '.*';
    else source += '[^/?#]+';
    last = (match.index ?? 0) + match[0].length;
  }
  source += escape(template.slice(last));
  return new RegExp(`^${source}$`);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
