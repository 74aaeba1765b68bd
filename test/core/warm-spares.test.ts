/** Warm spares of a session-mode server: kept up to `pool.min`, whatever happens to them. */
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.ts';
import { eventually, fixtureServer, isRunning, startGateway } from '../support/harness.ts';

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
});
