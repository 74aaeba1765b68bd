/** The command lines a sandboxed child is started with, the limits of a call, and how a limit's death is told. */
import { describe, expect, it } from 'vitest';
import { callLimitsOf } from '../../src/upstream/call-limits.ts';
import { isolatedCommand } from '../../src/upstream/process-isolation.ts';
import { treeCpuMs } from '../../src/upstream/process-cpu.ts';
import {
  confinementOptions,
  executableBind,
  rlimitWrapper,
  sandboxLimitHit,
} from '../../src/upstream/sandbox.ts';
import { CallLimitsSchema } from '../../src/upstream/sandbox-schema.ts';

const BASE = { network: false, mounts: [], installs: [], cwd: '/', rlimits: {} };

/** The option that follows `flag`, and its position, for each time `flag` occurs. */
function pairs(options: string[], flag: string): string[][] {
  return options.flatMap((option, index) => (option === flag ? [options.slice(index + 1, index + 3)] : []));
}

describe('confinementOptions', () => {
  it('unshares the network unless the sandbox asks for it, and drops every capability', () => {
    expect(confinementOptions(BASE)).toContain('--unshare-net');
    expect(confinementOptions({ ...BASE, network: true })).not.toContain('--unshare-net');
    expect(pairs(confinementOptions(BASE), '--cap-drop').map(([what]) => what)).toEqual(['ALL']);
  });

  it('never binds the whole host root, and makes its own root read-only after the mounts', () => {
    const options = confinementOptions({
      ...BASE,
      mounts: [
        { path: '/srv/data', writable: false },
        { path: '/tmp/tenants/acme', writable: true },
      ],
      installs: ['/opt/node'],
      cwd: '/tmp/tenants/acme',
    });
    expect(pairs(options, '--dev-bind')).toEqual([]);
    expect(pairs(options, '--ro-bind').map(([from]) => from)).not.toContain('/');
    expect(pairs(options, '--ro-bind')).toContainEqual(['/srv/data', '/srv/data']);
    expect(pairs(options, '--ro-bind')).toContainEqual(['/opt/node', '/opt/node']);
    expect(pairs(options, '--bind')).toEqual([['/tmp/tenants/acme', '/tmp/tenants/acme']]);
    // /tmp is mounted before a mount below it, and the root is made read-only after them all.
    expect(options.indexOf('--tmpfs')).toBeLessThan(options.indexOf('--bind'));
    expect(options.indexOf('--remount-ro')).toBeGreaterThan(options.lastIndexOf('--ro-bind'));
    expect(options.slice(-2)).toEqual(['--chdir', '/tmp/tenants/acme']);
  });

  it('binds an executable below /tmp after the tmpfs there, so the tmpfs does not hide it', () => {
    const node = '/tmp/checkout/.ci/.node/bin/node';
    const options = confinementOptions({ ...BASE, installs: [node] });
    const bind = options.findIndex((option, index) => option === '--ro-bind' && options[index + 1] === node);
    expect(bind).toBeGreaterThan(options.indexOf('--tmpfs'));
  });

  it('starts the command after the lifetime options, the confinement, and the limits wrapper', () => {
    const sandbox = {
      bwrap: '/usr/bin/bwrap',
      options: ['--unshare-net'],
      wrapper: ['/usr/bin/prlimit', '--nofile=64', '--'],
    };
    expect(isolatedCommand(undefined, '/opt/node/bin/node', ['server.js'], sandbox)).toEqual({
      file: '/usr/bin/bwrap',
      args: [
        '--die-with-parent',
        '--unshare-pid',
        '--unshare-net',
        '--',
        '/usr/bin/prlimit',
        '--nofile=64',
        '--',
        '/opt/node/bin/node',
        'server.js',
      ],
    });
  });

  it('binds an executable outside the system directories as the file alone, never its directory', () => {
    expect(executableBind('/work/main/.ci/.node/node_modules/node/bin/node')).toBe(
      '/work/main/.ci/.node/node_modules/node/bin/node',
    );
    expect(executableBind('/home/me/bin/node')).toBe('/home/me/bin/node');
    expect(executableBind('/usr/bin/python3')).toBeUndefined();
    expect(executableBind('/usr/local/bin/node')).toBeUndefined();
  });
});

describe('rlimitWrapper', () => {
  it('sets each limit with prlimit, CPU soft a second below hard, and execs the command', () => {
    expect(
      rlimitWrapper({ memory: 1024, cpu: 1500, processes: 32, openFiles: 64 }, '/usr/bin/prlimit'),
    ).toEqual(['/usr/bin/prlimit', '--as=1024', '--cpu=2:3', '--nproc=32', '--nofile=64', '--']);
  });

  it('is nothing without limits, and a config error with limits but no prlimit', () => {
    expect(rlimitWrapper({}, undefined)).toEqual([]);
    expect(() => rlimitWrapper({ openFiles: 64 }, undefined)).toThrow(/sandbox.rlimits needs prlimit/);
  });
});

describe('sandboxLimitHit', () => {
  const exit = { code: undefined, signal: undefined, spawnError: undefined };

  it('names the memory limit when the process said it ran out of memory, and the CPU limit on SIGXCPU', () => {
    expect(
      sandboxLimitHit({ memory: 2 * 1024 * 1024 * 1024 }, { ...exit, code: 134, outOfMemory: true }),
    ).toMatch(/^sandbox memory limit \(sandbox.rlimits.memory: 2048 MB of address space\)/);
    // bwrap reports a child killed by signal N as 128 + N.
    expect(sandboxLimitHit({ cpu: 1000 }, { ...exit, code: 128 + 24 })).toMatch(/^sandbox CPU-time limit/);
    expect(sandboxLimitHit({ cpu: 1000 }, { ...exit, signal: 'SIGXCPU' })).toMatch(/^sandbox CPU-time limit/);
  });

  it('blames no limit that was not set, nor a plain crash', () => {
    expect(sandboxLimitHit({}, { ...exit, code: 134, outOfMemory: true })).toBeUndefined();
    expect(sandboxLimitHit({ memory: 1024, cpu: 1000 }, { ...exit, code: 1 })).toBeUndefined();
    expect(sandboxLimitHit({ memory: 1024, cpu: 1000 }, { ...exit, code: 137 })).toBeUndefined();
  });
});

describe('callLimitsOf', () => {
  const settings = {
    timeouts: { startup: 1, call: 60_000, shutdown: 1 },
    limits: CallLimitsSchema.parse({
      maxResultSize: '1mb',
      tools: { slow: { timeout: '5s', cpuLimit: '2s' } },
    }),
  };

  it("takes a tool's own limits before the server's, and names the setting that applies", () => {
    expect(callLimitsOf('fs', settings, 'tools/call', { name: 'slow' })).toEqual({
      timeoutMs: 5_000,
      maxResultBytes: 1024 * 1024,
      maxResultSetting: 'servers.fs.limits.maxResultSize',
      cpuLimit: { ms: 2_000, setting: 'servers.fs.limits.tools.slow.cpuLimit', what: 'tools/call slow' },
    });
    expect(callLimitsOf('fs', settings, 'resources/read', { uri: 'file:///x' })).toEqual({
      timeoutMs: 60_000,
      maxResultBytes: 1024 * 1024,
      maxResultSetting: 'servers.fs.limits.maxResultSize',
    });
  });
});

describe('treeCpuMs', () => {
  it("reads a live process's CPU time, and nothing for a process that does not exist", () => {
    expect(treeCpuMs(process.pid)).toBeGreaterThan(0);
    expect(treeCpuMs(2 ** 22 + 12345)).toBeUndefined();
  });
});
