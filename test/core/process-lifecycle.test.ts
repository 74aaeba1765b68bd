/**
 * Children live and die under the gateway's control: crashes fail only their own calls at once
 * and are replaced; garbage and oversized output is survived; nothing outlives the gateway.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.ts';
import {
  GRANDCHILD_FIXTURE,
  connectClient,
  eventually,
  fixtureServer,
  isRunning,
  startGateway,
  textJson,
} from '../support/harness.ts';

let gateway: Gateway | undefined;
let seenPids: number[] = [];

afterEach(async () => {
  seenPids.push(...(gateway?.pids() ?? []));
  await gateway?.close();
  gateway = undefined;
  // No process outlives a test.
  for (const pid of seenPids) expect(isRunning(pid), `pid ${pid} still running`).toBe(false);
  seenPids = [];
});

const singleProcess = { min: 1, max: 1, maxInflight: 8 };

describe('upstream processes', () => {
  it('fails a call at once when its process is killed with SIGKILL, and serves the next call from a fresh process', async () => {
    gateway = await startGateway({ servers: { echo: fixtureServer({ pool: singleProcess }) } });
    const { client } = await connectClient(gateway);
    const { pid } = textJson<{ pid: number }>(await client.callTool({ name: 'echo__pid', arguments: {} }));
    seenPids.push(pid);
    const slow = client.callTool({ name: 'echo__slow', arguments: { ms: 20_000, steps: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await expect(slow).rejects.toThrow(/exited/);
    expect(Date.now() - killedAt).toBeLessThan(2_000);
    const next = textJson<{ pid: number }>(await client.callTool({ name: 'echo__pid', arguments: {} }));
    expect(next.pid).not.toBe(pid);
  });

  it('survives garbage on stdout and still answers every call', async () => {
    gateway = await startGateway({ servers: { echo: fixtureServer({ env: { FIXTURE_GARBAGE: '1' } }) } });
    const { client } = await connectClient(gateway);
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, index) =>
        client.callTool({ name: 'echo__echo', arguments: { text: `n${index}` } }),
      ),
    );
    expect(results.map((result) => textJson<{ arguments: { text: string } }>(result).arguments.text)).toEqual(
      ['n0', 'n1', 'n2', 'n3', 'n4'],
    );
  });

  it('fails only the request whose response is over the size limit', async () => {
    gateway = await startGateway({
      gateway: { maxMessageSize: '64kb' },
      servers: { echo: fixtureServer({ pool: singleProcess }) },
    });
    const { client } = await connectClient(gateway);
    const [big, small] = await Promise.allSettled([
      client.callTool({ name: 'echo__big', arguments: { bytes: 300_000 } }),
      client.callTool({ name: 'echo__echo', arguments: { text: 'still here' } }),
    ]);
    expect(big.status).toBe('rejected');
    expect(String((big as PromiseRejectedResult).reason)).toMatch(/exceeded the 65536-byte limit/);
    expect(small.status).toBe('fulfilled');
    const after = await client.callTool({ name: 'echo__big', arguments: { bytes: 1_000 } });
    expect(JSON.stringify(after)).toContain('x'.repeat(1_000));
  });

  it('ends the whole process group, grandchildren included, when the gateway closes', async () => {
    const pidfile = join(mkdtempSync(join(tmpdir(), 'mcplane-gc-')), 'grandchild.pid');
    gateway = await startGateway({
      servers: {
        wrapped: fixtureServer({
          command: 'bash',
          args: [GRANDCHILD_FIXTURE],
          env: { FIXTURE_GRANDCHILD_PIDFILE: pidfile },
          pool: singleProcess,
        }),
      },
    });
    const { client } = await connectClient(gateway);
    await client.callTool({ name: 'wrapped__echo', arguments: {} });
    const grandchild = Number(readFileSync(pidfile, 'utf8').trim());
    const [shell] = gateway.pids();
    expect(isRunning(grandchild)).toBe(true);
    await gateway.close();
    gateway = undefined;
    await eventually(() => !isRunning(grandchild) && !isRunning(shell as number));
  });

  it('stops a child that ignores SIGTERM with SIGKILL', async () => {
    gateway = await startGateway({
      servers: { stubborn: fixtureServer({ env: { FIXTURE_IGNORE_SIGTERM: '1' }, pool: singleProcess }) },
    });
    const [pid] = gateway.pids();
    const closing = Date.now();
    await gateway.close();
    gateway = undefined;
    expect(isRunning(pid as number)).toBe(false);
    // Two ladder steps of 500 ms each, then SIGKILL.
    expect(Date.now() - closing).toBeGreaterThanOrEqual(900);
  });

  it('keeps serving the other servers when one fails to start', async () => {
    gateway = await startGateway({
      servers: {
        broken: fixtureServer({
          env: { FIXTURE_FAIL_STARTUP: '1' },
          pool: { ...singleProcess, queue: { timeout: '1s' } },
        }),
        echo: fixtureServer(),
      },
    });
    const { client } = await connectClient(gateway);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain('echo__echo');
    expect(names.some((name) => name.startsWith('broken__'))).toBe(false);
    await expect(client.callTool({ name: 'broken__echo', arguments: {} })).rejects.toThrow(
      /failed to start|exited/,
    );
  });

  it('replaces a process that crashes after N calls and fails only the call that crashed it', async () => {
    gateway = await startGateway({
      servers: { echo: fixtureServer({ env: { FIXTURE_CRASH_AFTER: '2' }, pool: singleProcess }) },
    });
    const { client } = await connectClient(gateway);
    await client.callTool({ name: 'echo__echo', arguments: {} });
    await expect(client.callTool({ name: 'echo__echo', arguments: {} })).rejects.toThrow(/exited/);
    const again = await client.callTool({ name: 'echo__echo', arguments: { text: 'back' } });
    expect(textJson<{ arguments: { text: string } }>(again).arguments.text).toBe('back');
  });
});
