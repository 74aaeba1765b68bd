import { describe, expect, it } from 'vitest';
import { applyServerConfigPatch, processOverride } from '../../src/store/server-config-values.ts';

describe('tenant server config values', () => {
  it('a patch over the current config keeps what it does not name and drops what it sets to null', () => {
    const current = {
      env: { DATABASE_URL: { secret: 'pg://u:p@h/db' }, MODE: 'a', OLD: 'x' },
      args: ['--one'],
    };
    expect(applyServerConfigPatch(current, { env: { MODE: 'b', OLD: null } })).toEqual({
      env: { DATABASE_URL: { secret: 'pg://u:p@h/db' }, MODE: 'b' },
      args: ['--one'],
    });
    expect(applyServerConfigPatch(current, { args: null }).args).toBeNull();
    expect(applyServerConfigPatch(undefined, { env: { A: '1' } })).toEqual({ env: { A: '1' }, args: null });
  });

  it('the process override is plain text, and lists every secret value to scrub', () => {
    const override = processOverride({
      env: { DATABASE_URL: 'pg://u:p@h/db', LOG_LEVEL: 'debug', REGION: { secret: 'eu-1' } },
      args: ['--token', 'tok-1', '--read-only', { secret: 'marked' }],
    });
    expect(override).toEqual({
      env: { DATABASE_URL: 'pg://u:p@h/db', LOG_LEVEL: 'debug', REGION: 'eu-1' },
      args: ['--token', 'tok-1', '--read-only', 'marked'],
      secrets: ['pg://u:p@h/db', 'eu-1', 'tok-1', 'marked'],
    });
    expect(processOverride({ env: {}, args: null }).args).toBeUndefined();
  });
});
