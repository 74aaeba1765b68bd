/** Choosing how children start: bubblewrap where it works, directly otherwise, or a clear refusal. */
import { describe, expect, it } from 'vitest';
import { isolatedCommand, resolveProcessIsolation } from '../../src/upstream/process-isolation.ts';

const NO_BWRAP = { PATH: '/nonexistent-dir' };

describe('resolveProcessIsolation', () => {
  it('auto without bwrap on PATH runs children directly and says why', () => {
    expect(resolveProcessIsolation('auto', NO_BWRAP)).toEqual({
      kind: 'none',
      reason: 'bwrap is not installed (not on PATH)',
    });
  });

  it('bwrap without bwrap is a configuration error naming the setting', () => {
    expect(() => resolveProcessIsolation('bwrap', NO_BWRAP)).toThrow(
      /gateway.processIsolation is bwrap, but bwrap is not installed/,
    );
  });

  it('none never looks for bwrap, and starts the command as it is', () => {
    const isolation = resolveProcessIsolation('none', process.env);
    expect(isolation.kind).toBe('none');
    expect(isolatedCommand(isolation, 'node', ['server.js'])).toEqual({ file: 'node', args: ['server.js'] });
  });

  it('bwrap runs the command after --, in its own PID namespace, dying with the gateway', () => {
    expect(isolatedCommand({ kind: 'bwrap', bwrap: '/usr/bin/bwrap' }, 'node', ['server.js'])).toEqual({
      file: '/usr/bin/bwrap',
      args: [
        '--die-with-parent',
        '--unshare-pid',
        '--dev-bind',
        '/',
        '/',
        '--proc',
        '/proc',
        '--',
        'node',
        'server.js',
      ],
    });
  });
});
