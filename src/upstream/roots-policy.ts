/**
 * What a server is told when it asks for roots (`roots/list`). Roots name directories on the
 * machine where the server runs, which for a gateway is the gateway's host, not the client's: a
 * client's roots handed to a server widen what it may touch (server-filesystem replaces its
 * allowed directories with them), and a process shared between sessions keeps what it was told
 * for everyone after. So the gateway answers itself, from config, unless the server is set to
 * `roots: session` (allowed only for a process of one session's own).
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RootsSetting } from '../config/schema.ts';

export type Root = { readonly uri: string; readonly name?: string };

export type RootsPolicy =
  /** The gateway answers with this list (`none` is the empty one). */
  | { readonly kind: 'fixed'; readonly roots: readonly Root[] }
  /** The client of the session the process is dedicated to answers. */
  | { readonly kind: 'session' };

/** Compiles the config setting; paths become `file://` URIs resolved against `baseDir` (the child's cwd). */
export function rootsPolicy(setting: RootsSetting, baseDir: string): RootsPolicy {
  if (setting === 'session') return { kind: 'session' };
  if (setting === 'none') return { kind: 'fixed', roots: [] };
  const roots = setting.map((entry) => {
    const { uri, name } = typeof entry === 'string' ? { uri: entry, name: undefined } : entry;
    return { uri: rootUri(uri, baseDir), ...(name === undefined ? {} : { name }) };
  });
  return { kind: 'fixed', roots };
}

function rootUri(location: string, baseDir: string): string {
  if (/^file:\/\//i.test(location)) return location;
  return pathToFileURL(isAbsolute(location) ? location : resolve(baseDir, location)).href;
}
