/**
 * The gateway configs shipped for containers (deploy/docker, deploy/kubernetes), read the way the
 * gateway reads them, and checked against the image they run in: the image holds the repository
 * at /app with production dependencies only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/load-config.ts';
import type { Config } from '../../src/config/schema.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const IMAGE_APP_DIR = '/app/';

export function repoPath(relative: string): string {
  return `${REPO}${relative}`;
}

/** Parses and validates `text` as `mcplane serve` would, with `env` as its environment. */
export function gatewayConfig(text: string, source: string, env: Record<string, string>): Config {
  return parseConfig(text, { source, env });
}

/**
 * Image paths (`/app/…`) in server commands and arguments that the image would not have: the file
 * is not in the repository, or it belongs to a package that `npm ci --omit=dev` leaves out.
 */
export function imagePathProblems(config: Config): string[] {
  const manifest = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const production = new Set(Object.keys(manifest.dependencies ?? {}));
  const problems: string[] = [];
  for (const [name, server] of Object.entries(config.servers)) {
    for (const word of [server.command, ...server.args]) {
      if (!word.startsWith(IMAGE_APP_DIR)) continue;
      const relative = word.slice(IMAGE_APP_DIR.length);
      if (!existsSync(repoPath(relative))) problems.push(`${name}: ${word} is not in the repository`);
      const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(relative)?.[1];
      if (pkg !== undefined && !production.has(pkg))
        problems.push(`${name}: ${pkg} is not a production dependency, so the image lacks it`);
    }
  }
  return problems;
}

/** Every absolute `*_PATH` value a server or a tenant override sets: files servers write. */
export function serverStatePaths(config: Config): string[] {
  const envs = [
    ...Object.values(config.servers).map((server) => server.env),
    ...Object.values(config.tenants).flatMap((tenant) =>
      Object.values(tenant.overrides).map((override) => override.env ?? {}),
    ),
  ];
  return envs.flatMap((env) =>
    Object.entries(env)
      .filter(([key, value]) => key.endsWith('_PATH') && value.startsWith('/'))
      .map(([, value]) => value),
  );
}

/** The most a shutdown's stop ladder takes: children stop in parallel, two steps of `timeouts.shutdown` each. */
export function stopLadderMs(config: Config): number {
  return 2 * Math.max(0, ...Object.values(config.servers).map((server) => server.timeouts.shutdown));
}
