import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.ts';
import { loadConfig, parseConfig } from '../../src/config/load-config.ts';
import { problemsIn, yaml } from './problems.ts';

const VALID = new URL('./fixtures/valid.yaml', import.meta.url).pathname;

function parse(text: string) {
  return parseConfig(text, { source: 'test.yaml', env: {} });
}

describe('parseConfig', () => {
  it('accepts a minimal config and fills in the defaults', () => {
    const config = parse(yaml('servers:', '  echo:', '    command: node'));
    expect(config.servers.echo?.pool.max).toBe(4);
    expect(config.servers.echo?.mode).toBe('shared');
    expect(config.tenants).toEqual({});
  });

  it('durations accept 30s and 5m', () => {
    const config = parse(
      yaml(
        'servers:',
        '  echo:',
        '    command: node',
        '    pool: { idleTimeout: 5m }',
        '    timeouts: { call: 30s }',
      ),
    );
    expect(config.servers.echo?.pool.idleTimeout).toBe(300_000);
    expect(config.servers.echo?.timeouts.call).toBe(30_000);
  });

  it('retention runs hourly and keeps 90 days by default; periods take days, per tier', () => {
    const defaults = parse(yaml('servers: {}')).gateway.retention;
    expect(defaults).toEqual({ every: 3_600_000, tiers: {}, default: 90 * 86_400_000 });
    const set = parse(
      yaml(
        'gateway:',
        '  retention: { every: 5m, tiers: { free: 7d, pro: 365d }, default: 30d }',
        'servers: {}',
      ),
    ).gateway.retention;
    expect(set).toEqual({
      every: 300_000,
      tiers: { free: 7 * 86_400_000, pro: 365 * 86_400_000 },
      default: 30 * 86_400_000,
    });
  });

  it('a retention period of zero, in years or past 100 years, or a run interval outside 1s..24h, is refused at its path', () => {
    const problems = problemsIn(
      yaml(
        'gateway:',
        '  retention:',
        '    every: 2h',
        '    tiers: { free: 0d, pro: 2y, gold: 36501d }',
        '    default: 0',
        'servers: {}',
      ),
    );
    expect(problems.map((problem) => problem.path)).toEqual([
      'gateway.retention.tiers.free',
      'gateway.retention.tiers.pro',
      'gateway.retention.tiers.gold',
      'gateway.retention.default',
    ]);
    for (const every of ['500ms', '25h', '1d'])
      expect(
        problemsIn(yaml('gateway:', `  retention: { every: ${every} }`, 'servers: {}')).map((p) => p.path),
      ).toEqual(['gateway.retention.every']);
  });

  it('limits lease 1% of a budget by default; a lease fraction below 0, over 0.1 or not a number is refused at its path', () => {
    expect(parse(yaml('servers: {}')).gateway.limits.leaseFraction).toBe(0.01);
    expect(
      parse(yaml('gateway:', '  limits: { leaseFraction: 0 }', 'servers: {}')).gateway.limits.leaseFraction,
    ).toBe(0);
    for (const fraction of ['-0.01', '0.2', 'half'])
      expect(
        problemsIn(yaml('gateway:', `  limits: { leaseFraction: ${fraction} }`, 'servers: {}')).map(
          (p) => p.path,
        ),
      ).toEqual(['gateway.limits.leaseFraction']);
    // It moved from gateway.redis: the old place is refused, not silently ignored.
    expect(
      problemsIn(yaml('gateway:', '  redis: { leaseFraction: 0.01 }', 'servers: {}')).map((p) => p.path),
    ).toEqual(['gateway.redis.leaseFraction']);
  });

  it('tracing spans notable stages by default, or all; another value or an unknown key is refused at its path', () => {
    expect(parse(yaml('servers: {}')).gateway.tracing.stageSpans).toBe('notable');
    expect(
      parse(yaml('gateway:', '  tracing: { stageSpans: all }', 'servers: {}')).gateway.tracing.stageSpans,
    ).toBe('all');
    for (const value of ['none', 'true', '1'])
      expect(
        problemsIn(yaml('gateway:', `  tracing: { stageSpans: ${value} }`, 'servers: {}')).map((p) => p.path),
      ).toEqual(['gateway.tracing.stageSpans']);
    // Sampling is OTEL_TRACES_SAMPLER's: a sampler here is refused, not silently ignored.
    expect(
      problemsIn(yaml('gateway:', '  tracing: { sampler: always_on }', 'servers: {}')).map((p) => p.path),
    ).toEqual(['gateway.tracing.sampler']);
  });

  it('an invalid pool reports its YAML path and line', () => {
    const problems = problemsIn(
      yaml('servers:', '  echo:', '    command: node', '    pool:', '      min: 5', '      max: 2'),
    );
    expect(problems).toEqual([
      { path: 'servers.echo.pool.min', line: 5, column: 12, message: 'pool.min must not exceed pool.max' },
    ]);
  });

  it('every problem is reported at once', () => {
    const problems = problemsIn(
      yaml(
        'servers:',
        '  echo:',
        '    command: node',
        '    mode: everywhere',
        '    pool: { idleTimeout: 5 minutes }',
        '    colour: blue',
        '  second:',
        '    args: []',
      ),
    );
    expect(problems.map(({ path, line }) => `${line} ${path}`)).toEqual([
      '4 servers.echo.mode',
      '5 servers.echo.pool.idleTimeout',
      '6 servers.echo.colour',
      '7 servers.second.command',
    ]);
    expect(problems.find((p) => p.path === 'servers.echo.colour')?.message).toBe('unknown key "colour"');
    expect(problems.find((p) => p.path === 'servers.second.command')?.message).toBe('missing required key');
  });

  it('a missing required key is placed at its nearest existing parent', () => {
    const [problem] = problemsIn(yaml('servers:', '  echo:', '    args: [x]'));
    expect(problem).toMatchObject({ path: 'servers.echo.command', line: 2, column: 3 });
  });

  it('a union names the kinds of value it accepts instead of "Invalid input"', () => {
    const [problem] = problemsIn(
      yaml('servers:', '  echo:', '    command: node', '    pool: { idleTimeout: true }'),
    );
    expect(problem).toMatchObject({
      path: 'servers.echo.pool.idleTimeout',
      message: 'expected number or string',
    });
  });

  it('a list with a wrong item reports the item, not the whole union', () => {
    const problems = problemsIn(
      yaml(
        'servers:',
        '  echo: { command: node }',
        'tenants:',
        '  acme:',
        '    name: Acme',
        '    servers: [echo, 7]',
      ),
    );
    expect(problems).toMatchObject([{ path: 'tenants.acme.servers.1', line: 6, column: 21 }]);
  });

  it('a tenant naming an unknown server is refused', () => {
    const problems = problemsIn(
      yaml(
        'servers:',
        '  echo: { command: node }',
        'tenants:',
        '  acme:',
        '    name: Acme',
        '    servers: [echo, nope]',
      ),
    );
    expect(problems).toEqual([
      { path: 'tenants.acme.servers.1', line: 6, column: 21, message: 'unknown server "nope"' },
    ]);
  });

  it('a badly named server is refused at its key', () => {
    const [problem] = problemsIn(yaml('servers:', '  Echo_Server:', '    command: node'));
    expect(problem).toMatchObject({ path: 'servers.Echo_Server', line: 2, column: 3 });
    expect(problem?.message).toMatch(/lowercase letters/);
  });

  it('a reserved _meta prefix is refused', () => {
    const [problem] = problemsIn(
      yaml('gateway:', '  metaPrefix: io.modelcontextprotocol.gw', 'servers:', '  echo: { command: node }'),
    );
    expect(problem).toMatchObject({ path: 'gateway.metaPrefix', line: 2, column: 15 });
    expect(problem?.message).toMatch(/reserved by MCP/);
  });

  it('a namespace separator holding a dot is refused: the dot names the owner of a shared server', () => {
    const [problem] = problemsIn(
      yaml('gateway:', '  namespaceSeparator: "."', 'servers:', '  echo: { command: node }'),
    );
    expect(problem).toMatchObject({ path: 'gateway.namespaceSeparator', line: 2 });
    expect(problem?.message).toMatch(/must not contain "\."/);
    expect(() =>
      parse(yaml('gateway:', '  namespaceSeparator: "::"', 'servers:', '  echo: { command: node }')),
    ).not.toThrow();
  });

  it("a server named mcplane is refused: it is the gateway's own management server, which guards may name", () => {
    const [problem] = problemsIn(yaml('servers:', '  mcplane:', '    command: node'));
    expect(problem).toMatchObject({ path: 'servers.mcplane', line: 2 });
    expect(problem?.message).toMatch(/management server/);
    const guarded = parse(
      yaml(
        'gateway:',
        '  guards: { servers: { mcplane: { detectors: { secrets: { output: flag } } } } }',
        'servers:',
        '  echo: { command: node }',
      ),
    );
    expect(guarded.gateway.guards.servers.mcplane).toBeDefined();
  });

  it('roots: session is refused for a shared or tenant server, saying it needs mode: session', () => {
    const problems = problemsIn(
      yaml(
        'servers:',
        '  shared: { command: node, roots: session }',
        '  pooled: { command: node, mode: tenant, roots: session }',
        '  own: { command: node, mode: session, roots: session }',
      ),
    );
    expect(problems.map(({ path, line }) => `${line} ${path}`)).toEqual([
      '2 servers.shared.roots',
      '3 servers.pooled.roots',
    ]);
    expect(problems[0]?.message).toMatch(/needs mode: session \(this server is mode: shared\)/);
  });

  it('roots default to none; a fixed list takes file:// URIs, paths and {uri, name}, and refuses other schemes', () => {
    const config = parse(
      yaml(
        'servers:',
        '  plain: { command: node }',
        "  fixed: { command: node, roots: ['file:///srv/data', docs, { uri: /srv/logs, name: logs }] }",
      ),
    );
    expect(config.servers.plain?.roots).toBe('none');
    expect(config.servers.fixed?.roots).toEqual([
      'file:///srv/data',
      'docs',
      { uri: '/srv/logs', name: 'logs' },
    ]);
    const [problem] = problemsIn(
      yaml('servers:', "  web: { command: node, roots: ['https://example.com/'] }"),
    );
    expect(problem).toMatchObject({ path: 'servers.web.roots.0' });
    expect(problem?.message).toMatch(/file:\/\/ URI or a path/);
  });

  it('session limits have gateway defaults and a per-tenant override', () => {
    const config = parse(
      yaml(
        'gateway: { sessionLimits: { perPrincipal: 5 } }',
        'servers: { echo: { command: node } }',
        'tenants: { acme: { name: Acme, sessionLimits: { perTenant: 3 } } }',
      ),
    );
    expect(config.gateway.sessionLimits).toEqual({ perTenant: 1_000, perPrincipal: 5 });
    expect(config.tenants.acme?.sessionLimits).toEqual({ perTenant: 3 });
  });

  it('a YAML syntax error names its line', () => {
    const problems = problemsIn(
      yaml('servers:', '  echo:', '    command: node', '    args: [one, two', 'tenants: {}'),
    );
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]?.line).toBeGreaterThanOrEqual(4);
    expect(problems[0]?.message).not.toMatch(/\n/);
  });

  it('a duplicate key is a syntax error at the second occurrence', () => {
    const [problem] = problemsIn(yaml('servers:', '  echo: { command: a }', '  echo: { command: b }'));
    expect(problem).toMatchObject({ line: 3, column: 3, message: 'Map keys must be unique' });
  });

  it('a file with two YAML documents is refused', () => {
    const [problem] = problemsIn(yaml('servers: {}', '---', 'servers: {}'));
    expect(problem).toMatchObject({ line: 2, column: 1 });
    expect(problem?.message).toMatch(/single YAML document/);
  });

  it('an empty file is refused as a whole', () => {
    const [problem] = problemsIn('');
    expect(problem).toMatchObject({ path: '', line: 1, column: 1 });
  });

  it('a YAML alias that contains itself is refused rather than looping', () => {
    const problems = problemsIn(
      yaml('servers:', '  echo:', '    command: node', '    args: &loop [a, *loop]'),
    );
    expect(problems.map((p) => p.path)).toContain('servers.echo.args.1');
  });

  it('a YAML alias bomb is refused instead of expanded', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const name of 'bcdefg') {
      const previous = String.fromCharCode(name.charCodeAt(0) - 1);
      levels.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(', ')}]`);
    }
    const [problem] = problemsIn(yaml(...levels));
    expect(problem?.message).toMatch(/alias count/i);
  });

  it('the loaded config is frozen', () => {
    const config = parse(yaml('servers:', '  echo:', '    command: node', '    args: [a]'));
    const echo = config.servers.echo;
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (echo as { command: string }).command = 'sh';
    }).toThrow(TypeError);
    expect(() => echo?.args.push('b')).toThrow(TypeError);
    expect(Object.isFrozen(echo?.pool.queue)).toBe(true);
  });

  it('formats one line per problem with source, position and path', () => {
    try {
      parseConfig(yaml('servers:', '  echo:', '    mode: x'), { source: 'conf/servers.yaml', env: {} });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('CONFIG_INVALID');
      expect((error as ConfigError).format().split('\n')).toEqual([
        'conf/servers.yaml:2:3 servers.echo.command: missing required key',
        'conf/servers.yaml:3:11 servers.echo.mode: Invalid option: expected one of "shared"|"tenant"|"session"',
      ]);
    }
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcplane-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the example config', async () => {
    const config = await loadConfig(VALID, {});
    expect(Object.keys(config.servers)).toEqual(['echo', 'memory']);
    expect(config.tenants.acme?.servers).toEqual(['echo', 'memory']);
  });

  it('a missing file is a ConfigError that says so', async () => {
    const file = join(dir, 'absent.yaml');
    const error = await loadConfig(file, {}).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).format()).toBe(`${file}: no such file`);
  });

  it('a directory is not a config file', async () => {
    const error = await loadConfig(dir, {}).catch((thrown: unknown) => thrown);
    expect((error as ConfigError).format()).toBe(`${dir}: is a directory, not a config file`);
  });

  it('reads variables from the environment it is given', async () => {
    const file = join(dir, 'servers.yaml');
    await writeFile(file, yaml('servers:', '  echo:', '    command: ${ECHO_BIN}'));
    const config = await loadConfig(file, { ECHO_BIN: '/usr/bin/echo' });
    expect(config.servers.echo?.command).toBe('/usr/bin/echo');
  });
});
