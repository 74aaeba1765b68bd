/** Warm spares of a session-mode server: kept up to `pool.min`, whatever happens to them. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.ts';
import { connectClient, eventually, fixtureServer, isRunning, startGateway } from '../support/harness.ts';

const scratch = mkdtempSync(join(tmpdir(), 'mcplane-spares-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let gateway: Gateway | undefined;
afterEach(async () => {
  const pids = gateway?.pids() ?? [];
  await gateway?.close();
  gateway = undefined;
  for (const pid of pids) expect(isRunning(pid)).toBe(false);
});

describe('warm spares', () => {
  it('a spare killed with SIGKILL is replaced at once, and readiness recovers without a new session', async () => {
    gateway = await startGateway({
      servers: { own: fixtureServer({ mode: 'session', pool: { min: 1, max: 3 } }) },
    });
    expect(gateway.ready).toBe(true);
    const [spare] = gateway.pids();
    expect(spare).toBeDefined();

    process.kill(spare as number, 'SIGKILL');
    await eventually(() => !isRunning(spare as number), 10_000);
    await eventually(() => gateway?.status().servers.own?.spares === 1, 15_000);

    const [replacement] = gateway.pids();
    expect(replacement).toBeDefined();
    expect(replacement).not.toBe(spare);
    expect(isRunning(replacement as number)).toBe(true);
    expect(gateway.ready).toBe(true);
    expect(gateway.sessionCount).toBe(0);
  });

  it('a session-mode server that cannot start is left out of lists and fails calls with why, without a start per request', async () => {
    const startLog = join(scratch, 'starts.log');
    gateway = await startGateway({
      servers: {
        broken: fixtureServer({
          mode: 'session',
          env: { FIXTURE_FAIL_STARTUP: '1', FIXTURE_START_LOG: startLog },
          pool: { min: 1, max: 4 },
        }),
        echo: fixtureServer(),
      },
    });
    // Ten sessions, each opening, listing and calling: thirty chances to start the server.
    for (let round = 0; round < 10; round++) {
      const { client } = await connectClient(gateway);
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names).toContain('echo__echo');
      expect(names.some((name) => name.startsWith('broken__'))).toBe(false);
      await expect(client.callTool({ name: 'broken__echo', arguments: {} })).rejects.toThrow(
        /failed to start/,
      );
      await client.close();
    }
    // Starts back off (100 ms, doubling), whoever asks: a handful, not one per request.
    const starts = readFileSync(startLog, 'utf8').split('\n').filter(Boolean).length;
    expect(starts).toBeGreaterThan(0);
    expect(starts).toBeLessThan(15);
    expect(gateway.ready).toBe(false);
  });
});
