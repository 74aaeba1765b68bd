/**
 * The dashboard's scripts and styles, served from this gateway (the machine may have no
 * network; the CSP allows only this origin): htmx and Chart.js as their packages ship them
 * (prebuilt, so no build step), and the dashboard's own ui.js and ui.css. Read once, on first
 * use; an unknown asset is 404.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';

const require = createRequire(import.meta.url);
const OWN = fileURLToPath(new URL('./assets/', import.meta.url));

const FILES: Readonly<Record<string, { readonly path: () => string; readonly type: string }>> = {
  'htmx.min.js': {
    path: () => join(dirname(require.resolve('htmx.org')), 'htmx.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'chart.umd.min.js': {
    path: () => join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'ui.js': { path: () => join(OWN, 'ui.js'), type: 'text/javascript; charset=utf-8' },
  'ui.css': { path: () => join(OWN, 'ui.css'), type: 'text/css; charset=utf-8' },
};

const cache = new Map<string, Promise<Buffer>>();

export async function serveAsset(c: Context, name: string): Promise<Response> {
  const file = FILES[name];
  if (!file) return c.text('No such asset\n', 404);
  let bytes = cache.get(name);
  if (!bytes) {
    bytes = readFile(file.path());
    cache.set(name, bytes);
  }
  return new Response(new Uint8Array(await bytes), {
    headers: { 'content-type': file.type, 'cache-control': 'public, max-age=3600' },
  });
}
