/**
 * The Dockerfile, .dockerignore and docker-compose.yml, checked without a Docker engine: hadolint
 * when the machine has it (neither npm nor Debian packages it), the rules read from the
 * Dockerfile's syntax tree, the baked config validated as the image would load it, and the
 * health check commands run for real against a local HTTP server.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError } from '../../src/config/config-error.ts';
import { Duration } from '../../src/config/durations.ts';
import {
  gatewayConfig,
  imagePathProblems,
  repoPath,
  serverStatePaths,
  stopLadderMs,
} from './container-config.ts';
import { copyFrom, dockerfileProblems, execForm, stages } from './dockerfile-check.ts';
import { parseEnvFile } from './pod-environment.ts';

const DOCKERFILE = readFileSync(repoPath('Dockerfile'), 'utf8');
const final = (): ReturnType<typeof stages>[number] =>
  stages(DOCKERFILE).at(-1) as ReturnType<typeof stages>[number];

function hadolint(): string | undefined {
  try {
    return execFileSync('hadolint', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  } catch {
    return undefined;
  }
}

/** The final stage's ENV, as `KEY=value` pairs (both ENV forms). */
function imageEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const instruction of final().instructions.filter((i) => i.getKeyword() === 'ENV')) {
    for (const word of instruction.getArguments().map((argument) => argument.getValue())) {
      const equals = word.indexOf('=');
      if (equals > 0) env[word.slice(0, equals)] = word.slice(equals + 1);
    }
  }
  return env;
}

/** Build-context sources of the final stage's COPYs (not `--from` ones), with their destinations. */
function contextCopies(): { sources: string[]; destination: string }[] {
  return final()
    .instructions.filter((i) => i.getKeyword() === 'COPY')
    .filter((copy) => copyFrom(copy) === undefined)
    .map((copy) => copy.getArguments().map((argument) => argument.getValue()))
    .map((words) => ({ sources: words.slice(0, -1), destination: words.at(-1) ?? '' }));
}

describe('the Dockerfile', () => {
  it.skipIf(!hadolint())('passes hadolint', () => {
    expect(() => execFileSync('hadolint', [repoPath('Dockerfile')], { encoding: 'utf8' })).not.toThrow();
  });

  it('follows every rule of the issue: multi-stage node:24 slim, non-root, tini, bubblewrap, health check, volume', () => {
    expect(dockerfileProblems(DOCKERFILE)).toEqual([]);
    expect(stages(DOCKERFILE).map((stage) => [stage.name, stage.image])).toEqual([
      ['deps', 'node:24-bookworm-slim'],
      ['runtime', 'node:24-bookworm-slim'],
    ]);
    expect(execForm(final(), 'ENTRYPOINT')).toEqual(['/usr/bin/tini', '--']);
  });

  it('a Dockerfile that breaks a rule is reported, rule by rule', () => {
    const broken = (from: string | RegExp, to: string): string[] => {
      const text = DOCKERFILE.replace(from, to);
      expect(text).not.toBe(DOCKERFILE);
      return dockerfileProblems(text);
    };
    expect(broken(/^USER .*$/m, '')).toEqual(['the final stage runs as root (no USER)']);
    expect(broken(/^USER .*$/m, 'USER root')).toEqual(['the final stage runs as root (no USER)']);
    expect(broken(/^CMD .*$/m, 'CMD ["npm", "start"]')).toEqual([
      'CMD does not run `node bin/mcplane.js serve`',
      'CMD goes through a package manager',
      'CMD does not pass --host 0.0.0.0',
      'CMD does not pass --config',
    ]);
    expect(broken(/^CMD .*$/m, 'CMD node bin/mcplane.js serve')).toEqual(['CMD is not in exec form']);
    expect(broken(/^ENTRYPOINT .*$/m, '')).toEqual(['ENTRYPOINT is not tini in exec form']);
    expect(broken('tini bubblewrap', 'tini')).toEqual(['the final stage does not install bubblewrap']);
    expect(broken(/^HEALTHCHECK[\s\S]*?\n\n/m, '')).toEqual(['no HEALTHCHECK on /health']);
    expect(broken(/^VOLUME .*$/m, '')).toEqual(['no VOLUME at /var/lib/mcplane']);
    expect(broken('FROM node:24-bookworm-slim AS runtime', 'FROM node:24-bookworm AS runtime')).toEqual([
      'FROM node:24-bookworm is neither node:24…-slim nor an earlier stage',
    ]);
    expect(
      dockerfileProblems('FROM node:24-slim\nUSER 1000\nCMD ["node", "bin/mcplane.js", "serve"]\n'),
    ).toEqual(['the build is not multi-stage (at least two FROMs)']);
  });

  it('the image holds only what .dockerignore lets in, and every COPY source is let in', () => {
    const patterns = readFileSync(repoPath('.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(patterns[0]).toBe('*');
    const included = patterns.filter((pattern) => pattern.startsWith('!')).map((pattern) => pattern.slice(1));
    const letIn = (path: string): boolean =>
      included.some((allowed) => path === allowed || path.startsWith(`${allowed}/`));
    for (const { sources } of contextCopies())
      for (const source of sources) {
        expect(letIn(source), source).toBe(true);
        expect(() => readFileSync(repoPath(source.replace(/\/$/, '')))).not.toThrow(/ENOENT/);
      }
    for (const secret of [
      '.env',
      'node_modules',
      '.git',
      'deploy/kubernetes/overlays/production/secrets.env',
    ])
      expect(letIn(secret), secret).toBe(false);
  });

  it('the baked config is the one CMD loads, validates with the image environment, and names files the image has', () => {
    const cmd = execForm(final(), 'CMD') ?? [];
    const configPath = cmd[cmd.indexOf('--config') + 1];
    const baked = contextCopies().find((copy) => copy.destination === configPath);
    expect(baked?.sources).toEqual(['deploy/docker/servers.config.yaml']);

    const operator = parseEnvFile(readFileSync(repoPath('.env.example'), 'utf8'));
    const env: Record<string, string> = { ...imageEnv(), ...operator, MCPLANE_KEY_PEPPER: 'a'.repeat(32) };
    const text = readFileSync(repoPath('deploy/docker/servers.config.yaml'), 'utf8');
    const config = gatewayConfig(text, 'servers.config.yaml', env);
    expect(config.gateway.http.allowedHosts).toContain(operator.MCPLANE_PUBLIC_HOST);
    expect(imagePathProblems(config)).toEqual([]);

    // The store, and every file a server writes, lands on the volume.
    expect(imageEnv().MCPLANE_STORE_URL).toBe('sqlite:/var/lib/mcplane/mcplane.db');
    for (const path of serverStatePaths(config)) expect(path).toMatch(/^\/var\/lib\/mcplane\//);

    // The example's placeholders are refused: nobody runs on a pepper copied from the docs.
    expect(() => gatewayConfig(text, 'servers.config.yaml', { ...imageEnv(), ...operator })).toThrow(
      ConfigError,
    );
    expect(() => gatewayConfig(text, 'servers.config.yaml', { ...imageEnv(), ...operator })).toThrow(
      /pepper/,
    );
    // And a container without a public host set does not start open to any Host header.
    const { MCPLANE_PUBLIC_HOST: _host, ...withoutHost } = env;
    expect(() => gatewayConfig(text, 'servers.config.yaml', withoutHost)).toThrow(/MCPLANE_PUBLIC_HOST/);
  });
});

/** Bare package names the gateway's sources import (static, side-effect and dynamic imports). */
function importedPackages(): Set<string> {
  const files = ['bin', 'src'].flatMap((dir) =>
    (readdirSync(repoPath(dir), { recursive: true }) as string[])
      .filter((name) => /\.[cm]?[jt]s$/.test(name))
      .map((name) => repoPath(`${dir}/${name}`)),
  );
  const names = new Set<string>();
  for (const file of files)
    // Type-only imports are erased before Node runs the file, so they need nothing installed.
    for (const match of readFileSync(file, 'utf8')
      .replace(/\b(?:import|export)\s+type\b[^;]*;/g, '')
      .matchAll(/(?:\bfrom|\bimport\(?)\s*'([^'.][^']*)'/g)) {
      const specifier = match[1] ?? '';
      if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
      names.add(
        specifier.startsWith('@')
          ? specifier.split('/').slice(0, 2).join('/')
          : (specifier.split('/')[0] ?? ''),
      );
    }
  return names;
}

describe('the image has what the gateway imports', () => {
  it('bin/ and src/ import only production dependencies, which is all `npm ci --omit=dev` installs', () => {
    const manifest = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const imported = importedPackages();
    expect(imported).toContain('@modelcontextprotocol/sdk');
    expect([...imported].filter((name) => !(name in manifest.dependencies))).toEqual([]);
  });
});

describe('the health checks', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  /** A local /health that answers `status`, on 127.0.0.1 and a free port. */
  async function healthServer(status: number): Promise<number> {
    server = createServer((request, response) => {
      response.writeHead(request.url === '/health' ? status : 404).end();
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return (server?.address() as AddressInfo).port;
  }

  /** Runs an exec-form health check command and returns its exit code. */
  function run(command: string[], port: number): Promise<number | null> {
    const [program, ...rest] = command;
    expect(program).toBe('node');
    const child = spawn(process.execPath, rest, {
      env: { ...process.env, MCPLANE_PORT: String(port) },
      stdio: 'ignore',
    });
    return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  const dockerfileCheck = (): string[] => {
    const content = final()
      .instructions.find((i) => i.getKeyword() === 'HEALTHCHECK')
      ?.getArgumentsContent();
    return JSON.parse(content?.slice(content.indexOf('[')) ?? '[]') as string[];
  };
  const composeCheck = (): string[] => {
    const compose = parse(readFileSync(repoPath('docker-compose.yml'), 'utf8')) as ComposeFile;
    const test = compose.services.mcplane?.healthcheck?.test ?? [];
    expect(test[0]).toBe('CMD');
    return test.slice(1);
  };

  it.each([
    ['the Dockerfile', dockerfileCheck],
    ['docker-compose.yml', composeCheck],
  ])(
    "%s's health check passes on a 200 from /health and fails on a 503 or a closed port",
    async (_name, command) => {
      expect(await run(command(), await healthServer(200))).toBe(0);
      await new Promise((resolve) => server?.close(resolve));
      expect(await run(command(), await healthServer(503))).toBe(1);
      const closed = (server?.address() as AddressInfo).port;
      await new Promise((resolve) => server?.close(resolve));
      server = undefined;
      expect(await run(command(), closed)).toBe(1);
    },
  );
});

type ComposeService = {
  image?: string;
  build?: unknown;
  depends_on?: Record<string, { condition?: string }>;
  env_file?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[] };
  volumes?: string[];
  stop_grace_period?: string;
};
type ComposeFile = {
  services: Record<string, ComposeService | undefined>;
  volumes?: Record<string, unknown>;
};

describe('docker-compose.yml', () => {
  const compose = (): ComposeFile =>
    parse(readFileSync(repoPath('docker-compose.yml'), 'utf8')) as ComposeFile;

  it('runs mcplane with PostgreSQL and Redis, each with a health check, mcplane starting after both are healthy', () => {
    const { services } = compose();
    expect(Object.keys(services).sort()).toEqual(['mcplane', 'postgres', 'redis']);
    for (const [name, service] of Object.entries(services))
      expect(service?.healthcheck?.test?.length, `${name} healthcheck`).toBeGreaterThan(1);
    expect(services.mcplane?.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    const env = services.mcplane?.environment ?? {};
    expect(env.DATABASE_URL).toMatch(
      /^postgres:\/\/mcplane:\$\{POSTGRES_PASSWORD:\?[^}]*\}@postgres:5432\/mcplane$/,
    );
    expect(env.MCPLANE_STORE_URL).toBe(env.DATABASE_URL);
    expect(env.REDIS_URL).toBe('redis://redis:6379');
  });

  it('takes the master key and the pepper from a git-ignored env file, never from the compose file', () => {
    const { services } = compose();
    expect(services.mcplane?.env_file).toEqual(['.env']);
    const text = readFileSync(repoPath('docker-compose.yml'), 'utf8');
    expect(text).not.toMatch(/MCPLANE_MASTER_KEY|MCPLANE_KEY_PEPPER/);
    expect(text).not.toMatch(/POSTGRES_PASSWORD: (?!\$\{)/);
    const example = parseEnvFile(readFileSync(repoPath('.env.example'), 'utf8'));
    expect(Object.keys(example)).toEqual(
      expect.arrayContaining([
        'MCPLANE_MASTER_KEY',
        'MCPLANE_KEY_PEPPER',
        'POSTGRES_PASSWORD',
        'MCPLANE_PUBLIC_HOST',
      ]),
    );
    for (const key of ['MCPLANE_MASTER_KEY', 'MCPLANE_KEY_PEPPER', 'POSTGRES_PASSWORD'])
      expect(example[key]).toBe('REPLACE_ME');
    expect(() => execFileSync('git', ['check-ignore', '-q', '.env'], { cwd: repoPath('') })).not.toThrow();
  });

  it('mounts the config directory, keeps state on named volumes, and gives the drain time to finish', () => {
    const { services, volumes } = compose();
    const mcplane = services.mcplane ?? {};
    // A bind mount of the file itself would keep showing the replaced file after an edit.
    expect(mcplane.volumes).toContain('./deploy/docker:/etc/mcplane:ro');
    expect(mcplane.volumes).toContain('mcplane-data:/var/lib/mcplane');
    for (const service of Object.values(services))
      for (const mount of service?.volumes ?? []) {
        const source = mount.split(':')[0] ?? '';
        if (!source.startsWith('.')) expect(Object.keys(volumes ?? {})).toContain(source);
      }
    const text = readFileSync(repoPath('deploy/docker/servers.config.yaml'), 'utf8');
    const config = gatewayConfig(text, 'servers.config.yaml', {
      MCPLANE_PUBLIC_URL: 'http://localhost:8080',
      MCPLANE_PUBLIC_HOST: 'localhost',
      MCPLANE_KEY_PEPPER: 'a'.repeat(32),
    });
    const grace = Duration.parse(mcplane.stop_grace_period);
    expect(grace).toBeGreaterThanOrEqual(config.gateway.http.shutdownGrace + stopLadderMs(config) + 1_000);
  });
});
