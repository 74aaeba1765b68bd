/**
 * A request the gateway cannot serialize for a server (params nested past what JSON.stringify
 * can walk) fails at once with a clear error and leaves nothing behind on the process: no
 * pending entry, no timer holding the params until the call timeout. The HTTP and stdio faces
 * refuse such nesting at the door (test/http/memory-bounds.test.ts); this drives the core
 * directly over the in-memory transport, which has no such door, to reach the multiplexer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.ts';
import { connectClient, fixtureServer, isRunning, startGateway } from '../support/harness.ts';

let gateway: Gateway | undefined;
afterEach(async () => {
  const pids = gateway?.pids() ?? [];
  await gateway?.close();
  gateway = undefined;
  expect(pids.filter((pid) => isRunning(pid))).toEqual([]);
});

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let level = 0; level < depth; level++) value = { a: value };
  return value;
}

describe('requests that cannot be serialized', () => {
  it('a request whose params cannot be serialized fails at once with -32602 and leaves no call pending on the process', async () => {
    gateway = await startGateway({
      // The real faces refuse such nesting at the door (maxJsonDepth); in-process, the pipeline's
      // guards and anomaly features would walk it first. The multiplexer is the subject here.
      gateway: { guards: { enabled: false }, anomaly: { enabled: false } },
      servers: { fixture: fixtureServer({ pool: { min: 1, max: 1 }, timeouts: { call: '60s' } }) },
    });
    const { client, session } = await connectClient(gateway);
    await expect(
      client.callTool({ name: 'fixture__echo', arguments: { deep: nested(20_000) } }),
    ).rejects.toMatchObject({ code: -32602 });
    const [process] = await (gateway.servers.get('fixture') ?? { processesFor: async () => [] }).processesFor(
      session,
    );
    expect(process?.inflight).toBe(0);
    // The process is untouched and keeps serving.
    await expect(
      client.callTool({ name: 'fixture__echo', arguments: { text: 'still here' } }),
    ).resolves.toMatchObject({ content: [{ type: 'text' }] });
  });
});
