/** `mcplane stdio` refuses a client message nested deeper than `gateway.http.maxJsonDepth`. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIXTURE, eventually, isRunning } from '../support/harness.ts';

const bin = fileURLToPath(new URL('../../bin/mcplane.js', import.meta.url));

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level++) value = { a: value };
  return value;
}

describe('mcplane stdio', () => {
  it('answers a request nested deeper than maxJsonDepth with -32600 and keeps serving', async () => {
    const config = join(mkdtempSync(join(tmpdir(), 'mcplane-depth-')), 'servers.config.yaml');
    writeFileSync(
      config,
      `gateway:\n  processIsolation: none\n  http: { maxJsonDepth: 16 }\nservers:\n  echo:\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(FIXTURE)}]\ntenants:\n  acme: { name: Acme }\n`,
    );
    const cli = spawn(process.execPath, [bin, 'stdio', '--config', config, '--log-level', 'error'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines: string[] = [];
    cli.stdout
      .setEncoding('utf8')
      .on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', resolve));
    const send = (message: object): void => void cli.stdin.write(`${JSON.stringify(message)}\n`);
    const reply = async (id: number): Promise<Record<string, unknown>> => {
      const find = (): string | undefined => lines.find((line) => line.includes(`"id":${id}`));
      await eventually(() => find() !== undefined);
      return JSON.parse(find() as string) as Record<string, unknown>;
    };
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    await reply(1);
    send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'echo__echo', arguments: { deep: nested(100) } },
    });
    expect(await reply(2)).toMatchObject({
      id: 2,
      error: { code: -32600, message: expect.stringMatching(/deeper than 16 levels/) as unknown },
    });
    send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo__pid', arguments: {} } });
    const pidReply = (await reply(3)) as { result: { content: { text: string }[] } };
    const { pid } = JSON.parse(pidReply.result.content[0]?.text ?? '{}') as { pid: number };
    cli.stdin.end();
    expect(await exited).toBe(0);
    expect(isRunning(pid)).toBe(false);
  });
});
