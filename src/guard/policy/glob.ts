/**
 * Globs for policy match fields. `*` matches any run of characters, `/` and `:` included (so
 * `file:///data/*` matches every file below /data), `?` matches exactly one character, and `\`
 * makes the next character literal (`\*` is a star). Everything else matches itself; matching is
 * case-sensitive and covers the whole value.
 *
 * A glob is compiled once, to the cheapest test that is exact: `*` alone, a literal, a literal
 * prefix or suffix, or a regular expression.
 */

/** A compiled glob or list of globs: true when the value matches any of them. */
export type Matcher = (value: string) => boolean;

const ANY: Matcher = () => true;

/** Compiles one glob. */
export function compileGlob(glob: string): Matcher {
  const parts = tokens(glob);
  const [first, second] = parts;
  if (parts.every((part) => typeof part === 'string')) {
    const text = parts.join('');
    return (value) => value === text;
  }
  if (parts.length === 1 && first === STAR) return ANY;
  if (parts.length === 2 && typeof first === 'string' && second === STAR) {
    return (value) => value.startsWith(first);
  }
  if (parts.length === 2 && first === STAR && typeof second === 'string') {
    return (value) => value.endsWith(second);
  }
  const source = parts
    .map((part) => (part === STAR ? '[^]*' : part === ONE ? '[^]' : escapeRegExp(part)))
    .join('');
  const pattern = new RegExp(`^${source}$`, 'u');
  return (value) => pattern.test(value);
}

/** Compiles a glob or a list of globs; a value matches the list when it matches any one. */
export function compileGlobs(globs: string | readonly string[]): Matcher {
  const list = typeof globs === 'string' ? [globs] : globs;
  const matchers = list.map(compileGlob);
  if (matchers.length === 1) return matchers[0] as Matcher;
  if (list.includes('*')) return ANY;
  return (value) => matchers.some((matches) => matches(value));
}

const STAR = Symbol('*');
const ONE = Symbol('?');
type Token = string | typeof STAR | typeof ONE;

/** Literal runs and wildcards, with adjacent stars merged (`**` is the same as `*`). */
function tokens(glob: string): Token[] {
  const out: Token[] = [];
  let literal = '';
  const flush = (): void => {
    if (literal !== '') out.push(literal);
    literal = '';
  };
  for (let index = 0; index < glob.length; index++) {
    const char = glob[index] as string;
    if (char === '\\' && index + 1 < glob.length) {
      literal += glob[++index];
    } else if (char === '*') {
      flush();
      if (out.at(-1) !== STAR) out.push(STAR);
    } else if (char === '?') {
      flush();
      out.push(ONE);
    } else {
      literal += char;
    }
  }
  flush();
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
