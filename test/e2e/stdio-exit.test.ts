/** `mcplane stdio` ends when its client closes stdin: it exits 0 and takes its children with it. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIXTURE, eventually, isRunning } from '../support/harness.ts';

const bin = fileURLToPath(new URL('../../bin/mcplane.js', import.meta.url));

describe('mcplane stdio', () => {
  it('exits 0 and stops its children when the client closes stdin', async () => {
    const config = join(mkdtempSync(join(tmpdir(), 'mcplane-exit-')), 'servers.config.yaml');
    writeFileSync(
      config,
      // The test checks the pid the fixture reports, which is only the host's outside bubblewrap.
      `gateway: { processIsolation: none }\nservers:\n  echo:\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(FIXTURE)}]\ntenants:\n  acme: { name: Acme }\n`,
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
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    // A client waits for the InitializeResult before its next request (spec "Lifecycle").
    await eventually(() => lines.some((line) => line.includes('"id":1')));
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo__pid', arguments: {} } });
    await eventually(() => lines.some((line) => line.includes('"id":2')));
    const reply = JSON.parse(lines.find((line) => line.includes('"id":2')) as string) as {
      result: { content: { text: string }[] };
    };
    const { pid } = JSON.parse(reply.result.content[0]?.text ?? '{}') as { pid: number };
    cli.stdin.end();
    expect(await exited).toBe(0);
    expect(isRunning(pid)).toBe(false);
  });
});
