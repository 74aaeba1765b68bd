import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.ts';
import { problemsIn, yaml } from './problems.ts';

const SECRET = 's3cr3t-t0ken-value';

function echoWith(...serverLines: string[]): string {
  return yaml('servers:', '  echo:', '    command: node', ...serverLines.map((line) => `    ${line}`));
}

describe('${VAR} in config values', () => {
  it('is replaced by the variable from the environment', () => {
    const config = parseConfig(echoWith('env:', '  TOKEN: "Bearer ${API_TOKEN}"'), {
      source: 'test.yaml',
      env: { API_TOKEN: SECRET },
    });
    expect(config.servers.echo?.env).toEqual({ TOKEN: `Bearer ${SECRET}` });
  });

  it('an unset ${VAR} is refused with its path and without any secret', () => {
    const problems = problemsIn(echoWith('env:', '  TOKEN: "${API_TOKEN}:${MISSING}"'), {
      API_TOKEN: SECRET,
    });
    expect(problems).toEqual([
      {
        path: 'servers.echo.env.TOKEN',
        line: 5,
        column: 14,
        message: 'environment variable MISSING is not set',
      },
    ]);
    expect(JSON.stringify(problems)).not.toContain(SECRET);
  });

  it('every unset variable is reported together with the schema problems', () => {
    const problems = problemsIn(
      yaml(
        'servers:',
        '  echo:',
        '    command: ${ECHO_BIN}',
        '    mode: nowhere',
        '    env: { A: "${FIRST}", B: "${SECOND}" }',
      ),
    );
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'servers.echo.command: environment variable ECHO_BIN is not set',
      'servers.echo.mode: Invalid option: expected one of "shared"|"tenant"|"session"',
      'servers.echo.env.A: environment variable FIRST is not set',
      'servers.echo.env.B: environment variable SECOND is not set',
    ]);
  });

  it('an empty variable is a value, not a missing one', () => {
    const config = parseConfig(echoWith('env: { FLAG: "${EMPTY}" }'), {
      source: 'test.yaml',
      env: { EMPTY: '' },
    });
    expect(config.servers.echo?.env).toEqual({ FLAG: '' });
  });

  it('$${ is a literal', () => {
    const config = parseConfig(echoWith('args: ["$${HOME}", "cost: $5", "$${X} and ${X}"]'), {
      source: 'test.yaml',
      env: { X: 'x' },
    });
    expect(config.servers.echo?.args).toEqual(['${HOME}', 'cost: $5', '${X} and x']);
  });

  it('an unterminated or malformed reference is refused', () => {
    const problems = problemsIn(echoWith('args: ["${HOME", "${not-a-name}"]'), { HOME: '/home/me' });
    expect(problems.map((p) => p.path)).toEqual(['servers.echo.args.0', 'servers.echo.args.1']);
    expect(problems[0]?.message).toMatch(/without a closing/);
    expect(problems[1]?.message).toMatch(/must name an environment variable/);
  });

  it('keys are not interpolated', () => {
    const [problem] = problemsIn(echoWith('env: { "${NAME}": v }'), { NAME: 'A' });
    expect(problem).toMatchObject({
      path: 'servers.echo.env.${NAME}',
      message: 'not an environment variable name',
    });
  });

  it('only own variables count, not properties every object has', () => {
    const [problem] = problemsIn(echoWith('args: ["${constructor}", "${__proto__}"]'));
    expect(problem?.message).toBe('environment variable constructor is not set');
  });

  it('a schema message about a substituted value names the variable instead of the value', () => {
    const problems = problemsIn(
      yaml(
        'servers:',
        '  echo: { command: node }',
        'tenants:',
        '  acme:',
        '    name: Acme',
        '    servers: ["${SERVER}"]',
      ),
      { SERVER: SECRET },
    );
    expect(problems).toEqual([
      { path: 'tenants.acme.servers.0', line: 6, column: 15, message: 'unknown server "${SERVER}"' },
    ]);
    expect(JSON.stringify(problems)).not.toContain(SECRET);
  });
});
