import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { keysCommand } from '../../src/cli/keys-command.ts';
import { createApiKeyAuthenticator } from '../../src/identity/api-key-authenticator.ts';
import { API_KEY_SCAN_PATTERN } from '../../src/identity/api-key-format.ts';
import { verifyApiKeyHash } from '../../src/identity/api-key-hash.ts';
import { configWith, PEPPER } from './config-fixture.ts';

function run(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = keysCommand(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
  });
  return { code, stdout, stderr };
}

function printedKey(stdout: string): string {
  const keys = stdout.match(API_KEY_SCAN_PATTERN) ?? [];
  expect(keys).toHaveLength(1);
  return keys[0] as string;
}

describe('mcplane keys new', () => {
  it('prints the key once and a YAML entry whose hmac hash verifies it', () => {
    const { code, stdout, stderr } = run(['new', '--tenant', 'acme'], { MCPLANE_KEY_PEPPER: PEPPER });
    expect(code).toBe(0);
    expect(stderr).toContain('shown once');
    const key = printedKey(stdout);
    const entries = parse(stdout) as { id: string; hash: string }[];
    expect(entries).toHaveLength(1);
    const [entry] = entries as [{ id: string; hash: string }];
    expect(entry.hash).toMatch(/^hmac-sha256:/);
    expect(verifyApiKeyHash(key, entry.hash, PEPPER)).toBe(true);
    expect(`${stdout}${stderr}`.split(key)).toHaveLength(2);
  });

  it('the printed entry pasted into a config lets the printed key in, with its expiry and scopes', () => {
    const args = [
      'new',
      '--tenant',
      'acme',
      '--expires',
      '2099-01-01T00:00:00Z',
      '--scopes',
      'tools:call, resources:read',
    ];
    const { stdout } = run(args, { MCPLANE_KEY_PEPPER: PEPPER });
    const apiKeys = parse(stdout) as unknown[];
    expect(apiKeys[0]).toMatchObject({
      expiresAt: '2099-01-01T00:00:00Z',
      scopes: ['tools:call', 'resources:read'],
    });
    const config = configWith({
      auth: { apiKeys: { pepper: PEPPER } },
      tenants: { acme: { name: 'Acme', apiKeys } },
    });
    expect(createApiKeyAuthenticator(config).authenticate(printedKey(stdout))).toMatchObject({
      tenantId: 'acme',
      scopes: ['tools:call', 'resources:read'],
    });
  });

  it('without a pepper the hash is sha256 and a note says why a pepper is better', () => {
    const { code, stdout, stderr } = run(['new', '--tenant', 'acme']);
    expect(code).toBe(0);
    const [entry] = parse(stdout) as [{ hash: string }];
    expect(entry.hash).toMatch(/^sha256:/);
    expect(verifyApiKeyHash(printedKey(stdout), entry.hash)).toBe(true);
    expect(stderr).toContain('MCPLANE_KEY_PEPPER is not set');
  });

  it('a named pepper variable must be set, and the pepper must be long enough', () => {
    const unset = run(['new', '--tenant', 'acme', '--pepper-env', 'MY_PEPPER']);
    expect([unset.code, unset.stdout]).toEqual([2, '']);
    expect(unset.stderr).toContain('MY_PEPPER is not set');
    const short = run(['new', '--tenant', 'acme'], { MCPLANE_KEY_PEPPER: 'short' });
    expect([short.code, short.stdout]).toEqual([2, '']);
  });

  it.each([
    [[]],
    [['new']],
    [['rotate', '--tenant', 'acme']],
    [['new', '--tenant', 'Not A Tenant']],
    [['new', '--tenant', 'acme', '--expires', 'tomorrow']],
    [['new', '--tenant', 'acme', '--expires', '2001-01-01T00:00:00Z']],
    [['new', '--tenant', 'acme', '--scopes', 'a,,b']],
    [['new', '--tenant', 'acme', '--bogus']],
  ])('bad arguments %j exit 2 with usage and print no key', (args) => {
    const { code, stdout, stderr } = run(args);
    expect([code, stdout]).toEqual([2, '']);
    expect(stderr).toContain('Usage: mcplane keys new');
  });
});
