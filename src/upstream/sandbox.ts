/**
 * Confinement of a server that asks for `sandbox:` (docs/sandbox.md). Its processes run under
 * the same bubblewrap as process isolation (one spawn path, process-isolation.ts), with more:
 * a root of its own that holds only /usr, the libraries, a few files of /etc, Node's binary and
 * the server's own executable, read-only; a private /tmp; the listed mounts and, for a tenant pool,
 * the tenant's own directory; no network unless asked; new PID, IPC and UTS namespaces; no
 * capabilities; and resource limits set by prlimit before the server is exec'd.
 *
 * Nothing here decides whether to sandbox: a server that asks is sandboxed or refused at load
 * ({@link resolveSandboxing}), never run unsandboxed.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import { findOnPath, LIFETIME_OPTIONS } from './process-isolation.ts';
import type { Rlimits, SandboxConfig } from './sandbox-schema.ts';
import type { ChildExit } from './stdio-child.ts';
import { constants } from 'node:os';

/** The tools a gateway with sandboxed servers found on this machine, at load. */
export type SandboxTools = { readonly bwrap: string; readonly prlimit: string | undefined };

/** One process's confinement, resolved from its server's `sandbox:` (and its tenant). */
export type Confinement = {
  readonly network: boolean;
  readonly mounts: readonly { readonly path: string; readonly writable: boolean }[];
  /** Host files the command needs to run (its executable, Node's binary): bound read-only. */
  readonly installs: readonly string[];
  /** Where the process starts, inside the sandbox. */
  readonly cwd: string;
  readonly rlimits: Rlimits;
};

/** The root's system directories: bound read-only when real, recreated when a symlink (merged /usr). */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** What dynamic linking, name resolution, TLS and time zones read of /etc; nothing else of it. */
const ETC_FILES = [
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/pki',
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/nsswitch.conf',
  '/etc/gai.conf',
  '/etc/host.conf',
  '/etc/passwd',
  '/etc/group',
  '/etc/localtime',
  '/etc/mime.types',
  '/etc/os-release',
];

/** The bubblewrap options that confine one process (after the lifetime options, before `--`). */
export function confinementOptions(confinement: Confinement): string[] {
  return [
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    ...(confinement.network ? [] : ['--unshare-net']),
    // A new session: the child cannot push input into the gateway's terminal (TIOCSTI).
    '--new-session',
    // bwrap started by root keeps every capability for the child unless told otherwise.
    '--cap-drop',
    'ALL',
    ...systemBinds(),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    // Before the executables and the mounts: either may lie below /tmp (a checkout or a Node
    // installed there), and a tmpfs mounted after them would hide them.
    '--tmpfs',
    '/tmp',
    ...confinement.installs.flatMap((dir) => ['--ro-bind', dir, dir]),
    ...confinement.mounts.flatMap((mount) => [
      mount.writable ? '--bind' : '--ro-bind',
      mount.path,
      mount.path,
    ]),
    // The root bwrap built is a tmpfs; nothing may be written to it once the mounts are in place.
    '--remount-ro',
    '/',
    '--chdir',
    confinement.cwd,
  ];
}

/**
 * The argv prefix that sets the limits and execs the command: prlimit's own options, no shell,
 * so nothing of the config is ever interpreted. Empty when no limit is set.
 */
export function rlimitWrapper(rlimits: Rlimits, prlimit: string | undefined): string[] {
  const options = [
    ...(rlimits.memory === undefined ? [] : [`--as=${rlimits.memory}`]),
    // soft:hard, a second apart: at the soft limit the kernel sends SIGXCPU, which names the
    // cause; with both equal it sends SIGKILL, which does not.
    ...(rlimits.cpu === undefined ? [] : [`--cpu=${cpuSeconds(rlimits.cpu)}:${cpuSeconds(rlimits.cpu) + 1}`]),
    ...(rlimits.processes === undefined ? [] : [`--nproc=${rlimits.processes}`]),
    ...(rlimits.openFiles === undefined ? [] : [`--nofile=${rlimits.openFiles}`]),
  ];
  if (options.length === 0) return [];
  if (prlimit === undefined) throw new GatewayError('CONFIG_INVALID', 'sandbox.rlimits needs prlimit');
  return [prlimit, ...options, '--'];
}

function cpuSeconds(ms: number): number {
  return Math.ceil(ms / 1000);
}

let systemBindsMemo: string[] | undefined;

function systemBinds(): string[] {
  systemBindsMemo ??= [
    ...SYSTEM_DIRS.flatMap((dir) => {
      try {
        const stat = lstatSync(dir);
        if (stat.isSymbolicLink()) return ['--symlink', readlinkSync(dir), dir];
        return stat.isDirectory() ? ['--ro-bind', dir, dir] : [];
      } catch {
        return [];
      }
    }),
    ...ETC_FILES.flatMap((path) => ['--ro-bind-try', path, path]),
  ];
  return systemBindsMemo;
}

/**
 * The executable itself, to bind it read-only, unless a system directory already holds it. The
 * file alone, not its directory or install prefix: a `node` in ~/bin or in a checkout must not
 * bring the home directory or the checkout along. Node runs from its binary alone; a runtime
 * that needs more of its install (Python's lib/) gets it from `mounts`.
 */
export function executableBind(executable: string): string | undefined {
  const system = SYSTEM_DIRS.some((root) => executable.startsWith(`${root}/`));
  return system ? undefined : executable;
}

/**
 * The command as the sandbox runs it: resolved on the child's PATH (outside: inside, the PATH's
 * directories may not exist) to its real file, and the install it needs.
 */
export function resolveSandboxCommand(
  command: string,
  path: string | undefined,
  cwd: string,
): { command: string; installs: string[] } {
  const found = command.includes('/') ? resolve(cwd, command) : findOnPath(command, path);
  if (found === undefined || !existsSync(found)) return { command, installs: [] };
  const real = realpathSync(found);
  const installs = [executableBind(real), executableBind(realpathSync(process.execPath))].filter(
    (dir): dir is string => dir !== undefined,
  );
  return { command: real, installs: [...new Set(installs)] };
}

/** A tenant's directory under a `tenantDir` template, created 0700 (and kept 0700) before its process starts. */
export function ensureTenantDir(template: string, tenantId: string): string {
  // Tenant ids are lowercase letters, digits and dashes (config schema): no `/`, no `..`.
  const dir = template.replaceAll('{tenant}', tenantId);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

/** Whether `path` is `dir` or below it. */
function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

const probed = new Map<string, string | undefined>();

/**
 * Checks at load that every server asking for a sandbox can have one here: bubblewrap works with
 * the sandbox's options (user and network namespaces may be forbidden in a container), prlimit
 * exists when limits are set, mounts exist, and the server's cwd is inside what it can see.
 * Throws CONFIG_INVALID naming each server and how to fix it; undefined when no server asks.
 */
export function resolveSandboxing(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
): SandboxTools | undefined {
  const sandboxed = Object.entries(config.servers).flatMap(([name, server]) =>
    server.sandbox ? [{ name, sandbox: server.sandbox, cwd: server.cwd }] : [],
  );
  if (sandboxed.length === 0) return undefined;
  const names = sandboxed.map(({ name }) => `servers.${name}.sandbox`).join(', ');
  const bwrap = findOnPath('bwrap', env.PATH);
  const problem = bwrap === undefined ? 'bwrap is not installed (not on PATH)' : probe(bwrap);
  if (bwrap === undefined || problem !== undefined) {
    throw new GatewayError(
      'CONFIG_INVALID',
      `${names} asks for a sandbox, but ${problem}. Install bubblewrap (Debian: apt-get install bubblewrap) where user namespaces work, or remove the sandbox; a sandboxed server never runs unsandboxed.`,
    );
  }
  const prlimit = findOnPath('prlimit', env.PATH);
  for (const { name, sandbox, cwd } of sandboxed) {
    checkServer(name, sandbox, cwd, prlimit);
  }
  return { bwrap, prlimit };
}

function checkServer(
  name: string,
  sandbox: SandboxConfig,
  cwd: string | undefined,
  prlimit: string | undefined,
): void {
  const at = `servers.${name}.sandbox`;
  if (Object.values(sandbox.rlimits).some((value) => value !== undefined) && prlimit === undefined) {
    throw new GatewayError(
      'CONFIG_INVALID',
      `${at}.rlimits needs prlimit (util-linux), which is not on PATH; install util-linux or remove the limits`,
    );
  }
  sandbox.mounts.forEach((mount, index) => {
    if (!existsSync(mount.path)) {
      throw new GatewayError('CONFIG_INVALID', `${at}.mounts[${index}]: ${mount.path} does not exist`);
    }
  });
  if (cwd !== undefined) {
    const dir = resolve(cwd);
    const visible = sandbox.mounts.some((mount) => within(dir, mount.path));
    if (!visible) {
      throw new GatewayError(
        'CONFIG_INVALID',
        `servers.${name}.cwd (${dir}) is not inside any of ${at}.mounts, so the sandboxed server could not start there; mount it or drop cwd`,
      );
    }
  }
}

/** Runs `node -e ''` confined as a sandbox without network is, once per bwrap binary. */
function probe(bwrap: string): string | undefined {
  if (!probed.has(bwrap)) {
    const node = realpathSync(process.execPath);
    const installs = [executableBind(node)].filter((file): file is string => file !== undefined);
    const options = confinementOptions({ network: false, mounts: [], installs, cwd: '/', rlimits: {} });
    const result = spawnSync(bwrap, [...LIFETIME_OPTIONS, ...options, '--', node, '-e', ''], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 10_000,
      encoding: 'utf8',
    });
    const detail =
      result.error?.message ?? (result.stderr.trim().split('\n')[0] || `exit code ${result.status}`);
    probed.set(bwrap, result.status === 0 ? undefined : `${bwrap} cannot confine a process here (${detail})`);
  }
  return probed.get(bwrap);
}

/**
 * Which of its resource limits ended a sandboxed process, when that can be told: memory when
 * the process said it could not allocate (RLIMIT_AS makes allocations fail, and the runtime
 * then aborts), CPU seconds when it died of SIGXCPU. bubblewrap reports a child killed by signal
 * N as exit code 128 + N.
 */
export function sandboxLimitHit(rlimits: Rlimits, exit: ChildExit): string | undefined {
  const signal =
    exit.signal ?? (exit.code !== undefined && exit.code > 128 ? signalName(exit.code - 128) : undefined);
  if (rlimits.memory !== undefined && exit.outOfMemory === true) {
    return `sandbox memory limit (sandbox.rlimits.memory: ${Math.round(rlimits.memory / (1024 * 1024))} MB of address space): it ran out of memory`;
  }
  if (rlimits.cpu !== undefined && signal === 'SIGXCPU') {
    return `sandbox CPU-time limit (sandbox.rlimits.cpu: ${cpuSeconds(rlimits.cpu)} s)`;
  }
  return undefined;
}

function signalName(number: number): string | undefined {
  return Object.entries(constants.signals).find(([, value]) => value === number)?.[0];
}
