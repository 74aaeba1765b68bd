/**
 * One stdio MCP server process: spawned without a shell, with an allowlisted environment, in its
 * own process group; its stdout framed into JSON-RPC lines, its stderr sent to the log with the
 * secrets the gateway gave it redacted.
 *
 * execa's `killDescendants` puts the child in its own process group and signals the whole group,
 * so grandchildren (a server started through a shell script, `npx`, `uvx`) go with it; its
 * `cleanup` ends the group when the gateway itself exits. Neither runs when the gateway is
 * killed with SIGKILL: for that the child runs under bubblewrap where it can (see
 * process-isolation.ts).
 */
import { execa, type ResultPromise } from 'execa';
import type { Logger } from 'pino';
import { LineFramer, type OversizedLine } from './line-framer.ts';
import { isolatedCommand, signalInside, type ProcessIsolation } from './process-isolation.ts';
import type { Rlimits } from './sandbox-schema.ts';
import { secretRedactor } from './secret-redaction.ts';

export type ChildSpec = {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string | undefined;
  readonly maxMessageBytes: number;
  /** Values the gateway itself passed to the child (its configured env): hidden in logged stderr. */
  readonly secrets?: readonly string[];
  /** Run over every stderr line after `secrets` are hidden: the guard's secrets detector. */
  readonly scrubStderr?: (text: string) => string;
  /** Whether the child runs under bubblewrap, so that it cannot outlive the gateway. */
  readonly isolation?: ProcessIsolation;
  /** The server's `sandbox:`, resolved for this process: it runs confined, under bubblewrap whatever `isolation` says. */
  readonly sandbox?: ChildSandbox;
};

export type ChildSandbox = {
  readonly bwrap: string;
  /** bubblewrap's confinement options (sandbox.ts). */
  readonly options: readonly string[];
  /** The argv that sets the resource limits and execs the command (prlimit), or none. */
  readonly wrapper: readonly string[];
  readonly rlimits: Rlimits;
};

export type ChildExit = {
  readonly code: number | undefined;
  readonly signal: string | undefined;
  /** Why the process could not start, when it could not. */
  readonly spawnError: string | undefined;
  /** The child said on stderr that it could not allocate memory (its runtime's own words). */
  readonly outOfMemory?: boolean;
};

/** What runtimes print when an allocation fails: V8, glibc's perror, C++, Python, the JVM. */
const OUT_OF_MEMORY =
  /out of memory|Cannot allocate memory|std::bad_alloc|MemoryError|OutOfMemoryError|failed to reserve/i;

export type StdioChildEvents = {
  line: (text: string) => void;
  oversized: (info: OversizedLine) => void;
  exit: (exit: ChildExit) => void;
};

const MAX_STDERR_LINE = 8 * 1024;

export class StdioChild {
  readonly pid: number | undefined;
  readonly #subprocess: ResultPromise<{ buffer: false; killDescendants: true }>;
  readonly #log: Logger;
  /** Under bubblewrap `pid` is bwrap's, and the server runs in a PID namespace below it. */
  readonly #isolated: boolean;
  #exit: ChildExit | undefined;
  readonly #exited: Promise<ChildExit>;
  #outOfMemory = false;

  constructor(spec: ChildSpec, log: Logger, events: StdioChildEvents) {
    this.#isolated = spec.isolation?.kind === 'bwrap' || spec.sandbox !== undefined;
    const { file, args } = isolatedCommand(spec.isolation, spec.command, spec.args, spec.sandbox);
    this.#subprocess = execa(file, args, {
      env: spec.env,
      extendEnv: false,
      cwd: spec.cwd,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      encoding: 'buffer',
      buffer: false,
      reject: false,
      killDescendants: true,
      cleanup: true,
      windowsHide: true,
    }) as ResultPromise<{ buffer: false; killDescendants: true }>;
    this.pid = this.#subprocess.pid;
    this.#log = log.child({ pid: this.pid });

    const framer = new LineFramer(spec.maxMessageBytes, events);
    this.#subprocess.stdout.on('data', (chunk: Buffer) => framer.push(chunk));
    const byValue = secretRedactor(spec.secrets ?? []);
    const scrub = spec.scrubStderr;
    this.#pipeStderr(scrub ? (text) => scrub(byValue(text)) : byValue);
    // A write after the child died raises EPIPE on stdin; the exit handler reports the death.
    this.#subprocess.stdin.on('error', () => {});

    this.#exited = this.#subprocess.then((result) => {
      const exit: ChildExit = {
        code: result.exitCode,
        signal: result.signal,
        spawnError:
          result.failed && result.exitCode === undefined && !result.signal ? result.shortMessage : undefined,
        ...(this.#outOfMemory ? { outOfMemory: true } : {}),
      };
      this.#exit = exit;
      // Anything left in the group (a grandchild) is an orphan now: end it.
      this.#subprocess.kill('SIGKILL');
      events.exit(exit);
      return exit;
    });
  }

  get exited(): boolean {
    return this.#exit !== undefined;
  }

  /** Writes one message line. Returns false when the child is gone. */
  write(line: string): boolean {
    const stdin = this.#subprocess.stdin;
    if (this.#exit || !stdin.writable) return false;
    // Many sessions' requests arrive in one turn of the event loop, each from its own socket's
    // callback; they go to the child joined, in one write (one syscall) once the loop has
    // handled its I/O, instead of one write each. (A nextTick would flush after every callback.)
    if (this.#lines.length === 0) setImmediate(this.#flush);
    this.#lines.push(line);
    return true;
  }

  /** Lines waiting for this turn's write, in order. */
  #lines: string[] = [];

  readonly #flush = (): void => {
    const lines = this.#lines;
    if (lines.length === 0) return;
    this.#lines = [];
    const stdin = this.#subprocess.stdin;
    if (this.#exit || !stdin.writable) return;
    stdin.write(lines.length === 1 ? `${lines[0] as string}\n` : `${lines.join('\n')}\n`);
  };

  /**
   * The stop ladder (spec 2025-11-25, "Lifecycle" §shutdown for stdio): close stdin, wait; SIGTERM
   * to the group, wait; SIGKILL to the group.
   */
  async stop(stepMs: number): Promise<ChildExit> {
    if (this.#exit) return this.#exit;
    this.#flush();
    this.#subprocess.stdin.end();
    if (await this.#exitsWithin(stepMs)) return this.#exited;
    this.#log.debug('child did not exit after stdin closed; sending SIGTERM');
    this.#terminate();
    if (await this.#exitsWithin(stepMs)) return this.#exited;
    this.#log.warn('child ignored SIGTERM; sending SIGKILL');
    this.#subprocess.kill('SIGKILL');
    return this.#exited;
  }

  /**
   * SIGTERM to the group; under bubblewrap to the processes inside its namespace instead, since
   * bwrap would die of it without passing it on and take the namespace down with SIGKILL.
   */
  #terminate(): void {
    if (this.#isolated && this.pid !== undefined && signalInside(this.pid, 'SIGTERM') > 0) return;
    this.#subprocess.kill('SIGTERM');
  }

  /** Ends the process group at once; for a child that is broken rather than retiring. */
  kill(): void {
    if (!this.#exit) this.#subprocess.kill('SIGKILL');
  }

  #exitsWithin(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      timer.unref();
      void this.#exited.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  #pipeStderr(redact: (text: string) => string): void {
    const framer = new LineFramer(MAX_STDERR_LINE, {
      line: (text) => {
        if (OUT_OF_MEMORY.test(text)) this.#outOfMemory = true;
        this.#log.info({ stream: 'stderr' }, redact(text));
      },
      oversized: (info) => this.#log.info({ stream: 'stderr', bytes: info.bytes }, redact(info.head) + '…'),
    });
    this.#subprocess.stderr.on('data', (chunk: Buffer) => framer.push(chunk));
  }
}
