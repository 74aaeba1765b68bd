/**
 * How children are kept from outliving the gateway (`gateway.processIsolation`).
 *
 * A process group and execa's exit cleanup end a child's whole tree when the gateway exits or
 * stops it; nothing runs when the gateway is killed with SIGKILL (or the OOM killer), and a
 * child's own children then live on. bubblewrap closes that gap: each child runs as
 * `bwrap --die-with-parent --unshare-pid …`, in a PID namespace of its own whose init (bwrap)
 * gets SIGKILL when the gateway dies, however it dies; when a namespace's init dies the kernel
 * kills everything in it, grandchildren included.
 *
 * This is about lifetime only, not a sandbox (a server's `sandbox:` adds confinement on the same
 * spawn path, see sandbox.ts): the child sees the whole filesystem read-write,
 * with a /proc of its own (so the process ids it reads there are its own, which tools that walk
 * /proc rely on). `auto` uses bubblewrap when it works on this machine (probed once), `bwrap`
 * requires it, `none` never uses it.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { GatewayError } from '../errors.ts';

export type ProcessIsolationSetting = 'auto' | 'bwrap' | 'none';

/** How children are started: under bubblewrap (at this path), or directly. */
export type ProcessIsolation =
  { readonly kind: 'bwrap'; readonly bwrap: string } | { readonly kind: 'none'; readonly reason: string };

/** What ties a child's life to the gateway's: bwrap dies with it, and takes its PID namespace along. */
export const LIFETIME_OPTIONS = ['--die-with-parent', '--unshare-pid'] as const;

/** The bubblewrap options of an unsandboxed child: lifetime, not confinement. */
export const BWRAP_OPTIONS = [...LIFETIME_OPTIONS, '--dev-bind', '/', '/', '--proc', '/proc'] as const;

const probed = new Map<string, string | undefined>();

/**
 * Decides how this gateway starts its children. `env` is the gateway's own environment, where
 * `bwrap` is looked up on PATH. Throws CONFIG_INVALID when `bwrap` is required but does not work.
 */
export function resolveProcessIsolation(
  setting: ProcessIsolationSetting,
  env: Readonly<Record<string, string | undefined>>,
): ProcessIsolation {
  if (setting === 'none') return { kind: 'none', reason: 'gateway.processIsolation is none' };
  const bwrap = findOnPath('bwrap', env.PATH);
  const problem = bwrap === undefined ? 'bwrap is not installed (not on PATH)' : probe(bwrap);
  if (bwrap !== undefined && problem === undefined) return { kind: 'bwrap', bwrap };
  if (setting === 'bwrap') {
    throw new GatewayError(
      'CONFIG_INVALID',
      `gateway.processIsolation is bwrap, but ${problem ?? 'it fails'}`,
    );
  }
  return { kind: 'none', reason: problem ?? 'bwrap does not work here' };
}

/**
 * The command line that starts `command` under this isolation. With a `sandbox` (a server's
 * `sandbox:`, see sandbox.ts) bubblewrap also confines it: the same lifetime options, then the
 * sandbox's instead of the whole filesystem, and its resource limits set by a wrapper that
 * execs the command.
 */
export function isolatedCommand(
  isolation: ProcessIsolation | undefined,
  command: string,
  args: readonly string[],
  sandbox?: {
    readonly bwrap: string;
    readonly options: readonly string[];
    readonly wrapper: readonly string[];
  },
): { file: string; args: string[] } {
  if (sandbox) {
    return {
      file: sandbox.bwrap,
      args: [...LIFETIME_OPTIONS, ...sandbox.options, '--', ...sandbox.wrapper, command, ...args],
    };
  }
  if (isolation?.kind !== 'bwrap') return { file: command, args: [...args] };
  return { file: isolation.bwrap, args: [...BWRAP_OPTIONS, '--', command, ...args] };
}

/**
 * Sends `signal` to every process inside the namespace that bwrap at `bwrapPid` started, but
 * not to bwrap itself: bwrap does not forward signals, and a bwrap that dies of SIGTERM takes
 * its namespace down with SIGKILL, which would cut the child's graceful shutdown short. Returns
 * how many processes were signalled (0 when none could be found).
 */
export function signalInside(bwrapPid: number, signal: NodeJS.Signals): number {
  // bwrap (outside) → bwrap as the namespace's init → the command and whatever it started;
  // orphans inside are re-parented to that init, so its descendants are the whole namespace.
  let signalled = 0;
  for (const init of childrenOf(bwrapPid)) {
    for (const pid of descendantsOf(init)) {
      try {
        process.kill(pid, signal);
        signalled += 1;
      } catch {
        // Exited meanwhile.
      }
    }
  }
  return signalled;
}

function descendantsOf(pid: number): number[] {
  const found: number[] = [];
  const queue = childrenOf(pid);
  // Bounded: a process tree cannot be larger than the system's pid space, and each pid is
  // visited once.
  const seen = new Set<number>();
  while (queue.length > 0) {
    const next = queue.shift() as number;
    if (seen.has(next)) continue;
    seen.add(next);
    found.push(next);
    queue.push(...childrenOf(next));
  }
  return found;
}

/** The children of `pid`, from /proc/<pid>/task/<tid>/children (empty where /proc lacks it). */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
        .split(' ')
        .filter((field) => field !== '')
        .map(Number),
    );
  } catch {
    return [];
  }
}

/** The first executable `name` in the directories of `path` (a PATH value). */
export function findOnPath(name: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/**
 * Runs one trivial child under bubblewrap, once per binary for the life of the gateway: user
 * namespaces may be disabled, or a container may forbid them. Returns why it failed, if it did.
 */
function probe(bwrap: string): string | undefined {
  if (!probed.has(bwrap)) {
    const result = spawnSync(bwrap, [...BWRAP_OPTIONS, '--', process.execPath, '-e', ''], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 10_000,
      encoding: 'utf8',
    });
    const detail =
      result.error?.message ?? (result.stderr.trim().split('\n')[0] || `exit code ${result.status}`);
    probed.set(bwrap, result.status === 0 ? undefined : `${bwrap} does not work here (${detail})`);
  }
  return probed.get(bwrap);
}
