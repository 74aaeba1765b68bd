/**
 * The path-like and URL-like prefixes of a call's arguments: where a call reaches, coarsely. A
 * baseline keeps the prefixes a principal has used, and a call reaching outside all of them is
 * one of the anomaly components (a `read_file` of `/etc/shadow` from a principal that has only
 * read below `/data/acme`).
 *
 * A prefix is the first segments of the *directory* part (the last segment is taken for a file
 * name unless the text ends with `/`), after normalising `.` and `..`, so that
 * `/data/acme/../../etc/shadow` is seen as `/etc`, not as `/data/acme`:
 *
 * | argument                                 | prefix                       |
 * | ---------------------------------------- | ---------------------------- |
 * | `/data/acme/reports/q3.pdf`              | `/data/acme`                 |
 * | `/etc/shadow`                            | `/etc`                       |
 * | `~/.ssh/id_rsa`                          | `~/.ssh`                     |
 * | `C:\Users\me\notes.txt`                  | `c:/Users/me`                |
 * | `file:///data/acme/x.txt`                | `/data/acme` (as the path)   |
 * | `https://api.example.com/v1/users/7`     | `https://api.example.com/v1` |
 * | `https://user:pw@api.example.com/?q=1`   | `https://api.example.com`    |
 *
 * Paths keep two directory segments, URLs their origin and one: enough to tell `/data/acme` from
 * `/data/globex` and one API from another, few enough that a principal's usual set stays small.
 * A URL's user info, query and fragment are never kept (they may hold credentials).
 */
import { posix } from 'node:path';

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;
const DRIVE = /^[a-z]:[\\/]/i;
/** Path segments kept below the root; URL path segments kept after the origin. */
const PATH_SEGMENTS = 2;
const URL_SEGMENTS = 1;
/**
 * Bounds on the walk of one call's arguments, and on a prefix's length (a longer one is cut: it
 * stays a usable key, and a baseline of 32 prefixes stays a few KB).
 */
export const PREFIX_LIMITS = {
  depth: 6,
  strings: 64,
  prefixes: 8,
  length: 4_096,
  prefixLength: 200,
} as const;

/** The prefix of one string argument, or undefined when it looks like neither a path nor a URL. */
export function prefixOf(value: string): string | undefined {
  if (value.length === 0 || value.length > PREFIX_LIMITS.length || hasControl(value)) return undefined;
  if (URL_LIKE.test(value)) return urlPrefix(value);
  if (DRIVE.test(value)) {
    const path = value.replaceAll('\\', '/');
    return `${path.slice(0, 1).toLowerCase()}:${pathPrefix(path.slice(2), '/')}`;
  }
  if (value.startsWith('~/')) return pathPrefix(value.slice(1), '~/');
  if (value.startsWith('./') || value.startsWith('../')) return pathPrefix(value, '');
  if (value.startsWith('/') && value.length > 1 && /\s/.test(value.charAt(1))) return undefined;
  if (value.startsWith('/')) return pathPrefix(value, '/');
  return undefined;
}

/** A line break or other control character: free text, not a path (and never a safe prefix). */
function hasControl(value: string): boolean {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** `root` + the first directory segments of `path`, normalised. */
function pathPrefix(path: string, root: string): string {
  const normalized = posix.normalize(path);
  const segments = normalized.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (!normalized.endsWith('/')) segments.pop();
  const kept = segments.slice(0, PATH_SEGMENTS);
  if (root === '') return kept.length === 0 ? '.' : kept.join('/');
  if (root === '~/') return kept.length === 0 ? '~' : `~/${kept.join('/')}`;
  return `/${kept.join('/')}`;
}

function urlPrefix(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol === 'file:') return pathPrefix(decodePath(url.pathname), '/');
  const origin = `${url.protocol.toLowerCase()}//${url.host.toLowerCase()}`;
  const segments = url.pathname.split('/').filter((segment) => segment !== '');
  if (!url.pathname.endsWith('/')) segments.pop();
  const kept = segments.slice(0, URL_SEGMENTS);
  return kept.length === 0 ? origin : `${origin}/${kept.join('/')}`;
}

function decodePath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

/**
 * Whether two prefixes lie on one line: equal, or one below the other segment-wise. A call below
 * a usual prefix (`/data/acme` when `/data` is usual) or above it (listing `/data` when
 * `/data/acme` is usual) is not a new place; a sibling (`/data/globex`) is. The bare root `/`
 * only matches itself.
 */
export function sameLine(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/** The distinct prefixes of every string in a call's arguments, within {@link PREFIX_LIMITS}. */
export function argumentPrefixes(args: unknown): string[] {
  const found = new Set<string>();
  let strings = 0;
  const visit = (value: unknown, depth: number): void => {
    if (found.size >= PREFIX_LIMITS.prefixes || strings >= PREFIX_LIMITS.strings) return;
    if (typeof value === 'string') {
      strings += 1;
      const prefix = prefixOf(value);
      if (prefix !== undefined) found.add(prefix.slice(0, PREFIX_LIMITS.prefixLength));
      return;
    }
    if (depth >= PREFIX_LIMITS.depth || typeof value !== 'object' || value === null) return;
    for (const item of Array.isArray(value) ? value : Object.values(value)) visit(item, depth + 1);
  };
  visit(args, 0);
  return [...found];
}
