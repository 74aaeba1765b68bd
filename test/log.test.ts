/**
 * The gateway's log buffers lines (src/log.ts): a line still reaches stderr within the flush
 * interval while the process runs on, and every line reaches it when the process exits, by
 * `process.exit` or by an uncaught exception. Its unredacted child skips the redact paths and
 * nothing else.
 */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger, LOG_FLUSH_MS, REDACTED, unredacted } from '../src/log.ts';

const LOG_MODULE = fileURLToPath(new URL('../src/log.ts', import.meta.url));

/** Runs `body` in a node process that has `log` (createLogger()); resolves to its stderr lines as they came. */
function run(body: string): Promise<{ lines: { at: number; msg: string }[]; code: number | null }> {
  const script = `import { createLogger } from ${JSON.stringify(LOG_MODULE)}; const log = createLogger(); ${body}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const started = performance.now();
  const lines: { at: number; msg: string }[] = [];
  let rest = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) {
      if (!part.startsWith('{')) continue;
      lines.push({ at: performance.now() - started, msg: (JSON.parse(part) as { msg: string }).msg });
    }
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ lines, code })));
}

describe('the buffered log', () => {
  it('writes a line out within the flush interval while the process runs on', async () => {
    const { lines } = await run(
      `log.info('first'); setTimeout(() => { log.info('last'); process.exit(0); }, ${10 * LOG_FLUSH_MS});`,
    );
    expect(lines.map((line) => line.msg)).toEqual(['first', 'last']);
    const [first, last] = lines.map((line) => line.at) as [number, number];
    // 'first' came out long before the process logged 'last' and exited, not with it.
    expect(last - first).toBeGreaterThan(5 * LOG_FLUSH_MS);
  });

  it('writes every line on process.exit, and after an uncaught exception', async () => {
    const exited = await run(`for (let i = 0; i < 3; i++) log.info('line ' + i); process.exit(3);`);
    expect(exited.code).toBe(3);
    expect(exited.lines.map((line) => line.msg)).toEqual(['line 0', 'line 1', 'line 2']);
    const crashed = await run(
      `log.error('before the crash'); setImmediate(() => { throw new Error('boom'); });`,
    );
    expect(crashed.code).toBe(1);
    expect(crashed.lines.map((line) => line.msg)).toEqual(['before the crash']);
  });
});

describe('the unredacted child', () => {
  it('writes to the same place at the same level without the redact paths, made once per logger', () => {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString('utf8'));
        done();
      },
    });
    const log = createLogger({ level: 'info', destination });
    const plain = unredacted(log);
    expect(unredacted(log)).toBe(plain);
    expect(unredacted(createLogger({ destination }))).not.toBe(plain);
    log.info({ token: 'a-secret' }, 'parent');
    plain.info({ code: 'UNAUTHENTICATED', token: 'shown' }, 'child');
    plain.debug({ code: 'below the level' }, 'child');
    const lines = chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ msg: 'parent', token: REDACTED, name: 'mcplane' });
    expect(lines[1]).toMatchObject({
      msg: 'child',
      code: 'UNAUTHENTICATED',
      token: 'shown',
      name: 'mcplane',
    });
  });
});
