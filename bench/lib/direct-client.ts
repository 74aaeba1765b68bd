/**
 * The baseline the gateway is measured against: the least a client can do to talk MCP to a
 * stdio server. One child, NDJSON both ways (spec 2025-11-25, "Transports" §stdio), requests of
 * every virtual session multiplexed over it by JSON-RPC id, and nothing else.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export type RpcReply = {
  readonly id: number;
  readonly result?: Record<string, unknown>;
  readonly error?: { code: number; message: string };
};

type Waiting = {
  readonly resolve: (reply: RpcReply) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
};

export class DirectClient {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting = new Map<number, Waiting>();
  readonly #exited: Promise<void>;
  readonly #killOnExit = (): void => void this.#child.kill('SIGKILL');
  #rest = '';
  #nextId = 1;
  #exitCode: number | null | undefined;

  private constructor(command: string, args: readonly string[]) {
    this.#child = spawn(command, [...args], { stdio: ['pipe', 'pipe', 'pipe'], env: process.env });
    // If the benchmark dies, the child goes with it.
    process.once('exit', this.#killOnExit);
    this.#child.stdout.setEncoding('utf8');
    this.#child.stdout.on('data', (chunk: string) => this.#onData(chunk));
    this.#child.stderr.resume();
    this.#child.stdin.on('error', () => {});
    this.#exited = new Promise((resolve) => {
      this.#child.once('exit', (code) => {
        this.#exitCode = code;
        process.off('exit', this.#killOnExit);
        for (const waiting of this.#waiting.values()) waiting.reject(new Error(`child exited (${code})`));
        this.#waiting.clear();
        resolve();
      });
    });
  }

  /** Spawns the server and runs the initialize handshake (spec 2025-11-25, "Lifecycle"). */
  static async start(command: string, args: readonly string[], timeoutMs = 10_000): Promise<DirectClient> {
    const client = new DirectClient(command, args);
    try {
      const reply = await client.request(
        'initialize',
        {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'mcplane-bench-direct', version: '0.0.0' },
        },
        timeoutMs,
      );
      if (reply.error) throw new Error(`initialize failed: ${reply.error.message}`);
      client.notify('notifications/initialized');
      return client;
    } catch (error) {
      await client.close();
      throw error;
    }
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  request(method: string, params: Record<string, unknown>, timeoutMs = 10_000): Promise<RpcReply> {
    if (this.#exitCode !== undefined) return Promise.reject(new Error('child has exited'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.#waiting.set(id, { resolve, reject, timer });
      this.#child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  notify(method: string): void {
    this.#child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method })}\n`);
  }

  /** Closes stdin (the fixture exits on end of input), then kills it if it lingers. */
  async close(timeoutMs = 2_000): Promise<void> {
    if (this.#exitCode === undefined) {
      this.#child.stdin.end();
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
      await this.#exited;
      clearTimeout(timer);
    }
  }

  #onData(chunk: string): void {
    const lines = (this.#rest + chunk).split('\n');
    this.#rest = lines.pop() ?? '';
    for (const line of lines) if (line.length > 0) this.#onLine(line);
  }

  #onLine(line: string): void {
    let message: RpcReply & { method?: string };
    try {
      message = JSON.parse(line) as RpcReply & { method?: string };
    } catch {
      return;
    }
    if (message.method !== undefined || typeof message.id !== 'number') return;
    const waiting = this.#waiting.get(message.id);
    if (!waiting) return;
    this.#waiting.delete(message.id);
    clearTimeout(waiting.timer);
    waiting.resolve(message);
  }
}
