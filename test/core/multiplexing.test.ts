/**
 * Many sessions over few processes: every session gets exactly its own responses, progress and
 * cancellations, with its own ids (value and JSON type), whatever the interleaving.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.ts';
import { localPrincipal } from '../../src/identity/principal.ts';
import type { JSONRPCMessage, RequestId } from '../../src/jsonrpc/message.ts';
import type { ClientSession } from '../../src/session/client-session.ts';
import { fixtureServer, startGateway } from '../support/harness.ts';

const cancelLog = join(mkdtempSync(join(tmpdir(), 'mcplane-mux-')), 'cancelled.jsonl');
let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway({
    servers: {
      echo: fixtureServer({
        env: { FIXTURE_CANCEL_LOG: cancelLog },
        pool: { min: 2, max: 2, maxInflight: 256 },
      }),
    },
  });
});
afterAll(async () => {
  await gateway.close();
});

type Wire = { session: ClientSession; received: JSONRPCMessage[] };

async function openSession(tenant = 'acme'): Promise<Wire> {
  const session = gateway.connect(localPrincipal(tenant));
  const received: JSONRPCMessage[] = [];
  session.output = (message) => received.push(message);
  session.receive({
    jsonrpc: '2.0',
    id: 'init',
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  });
  await until(() => received.some((message) => 'id' in message && message.id === 'init'));
  received.length = 0;
  return { session, received };
}

async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for messages');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const responseIds = (wire: Wire): RequestId[] =>
  wire.received.flatMap((message) =>
    'id' in message && !('method' in message) ? [message.id as RequestId] : [],
  );

// Ids that clash between sessions and between JSON types: 1 and "1" are different requests.
const clashingId = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom('1', '2', 'a', 'b'));

type Call = { id: RequestId; ms: number; progress: boolean; cancel: boolean };

const callsArb = fc
  .uniqueArray(clashingId, { minLength: 1, maxLength: 4, selector: (id) => `${typeof id}:${String(id)}` })
  .chain((ids) =>
    fc.tuple(
      ...ids.map((id) =>
        fc.record({
          id: fc.constant<RequestId>(id),
          ms: fc.integer({ min: 0, max: 40 }),
          progress: fc.boolean(),
          cancel: fc.boolean(),
        }),
      ),
    ),
  );

describe('the session multiplexer', () => {
  it('routes each response, progress and cancellation to its own session among 100 sessions on 2 processes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(callsArb, { minLength: 100, maxLength: 100 }),
        fc.array(fc.nat(), { minLength: 400, maxLength: 400 }),
        async (plans, picks) => {
          const wires = await Promise.all(plans.map(() => openSession()));
          // Each session's actions in order (a cancel follows its call); sessions interleave at random.
          const queues: (() => void)[][] = plans.map((calls, index) => {
            const wire = wires[index] as Wire;
            return calls.flatMap((call) => {
              const send = (): void =>
                wire.session.receive({
                  jsonrpc: '2.0',
                  id: call.id,
                  method: 'tools/call',
                  params: {
                    name: 'echo__slow',
                    arguments: { ms: call.ms + 20, steps: 2, owner: index },
                    ...(call.progress ? { _meta: { progressToken: `p-${String(call.id)}` } } : {}),
                  },
                });
              const cancel = (): void =>
                wire.session.receive({
                  jsonrpc: '2.0',
                  method: 'notifications/cancelled',
                  params: { requestId: call.id, reason: 'test' },
                });
              return call.cancel ? [send, cancel] : [send];
            });
          });
          const sends = interleave(queues, picks);
          for (const send of sends) send();

          const expected = plans.map((calls) => calls.filter((call) => !call.cancel).map((call) => call.id));
          await until(() =>
            wires.every((wire, index) => responseIds(wire).length >= (expected[index] as RequestId[]).length),
          );
          await new Promise((resolve) => setTimeout(resolve, 80));

          wires.forEach((wire, index) => {
            const calls = plans[index] as Call[];
            // Exactly its own uncancelled ids come back, with their JSON types intact.
            expect(sortIds(responseIds(wire))).toEqual(sortIds(expected[index] as RequestId[]));
            for (const message of wire.received) {
              if ('result' in message) expect(message.result).toMatchObject({ content: [{ text: 'done' }] });
              if ('method' in message && message.method === 'notifications/progress') {
                const token = (message.params as { progressToken: string }).progressToken;
                expect(calls.some((call) => call.progress && `p-${String(call.id)}` === token)).toBe(true);
              }
              expect('error' in message).toBe(false);
            }
            // Every uncancelled call that asked for progress got some, under its own token.
            const tokens = new Set(
              wire.received.flatMap((message) =>
                'method' in message && message.method === 'notifications/progress'
                  ? [(message.params as { progressToken: string }).progressToken]
                  : [],
              ),
            );
            for (const call of calls) {
              if (call.progress && !call.cancel) expect(tokens.has(`p-${String(call.id)}`)).toBe(true);
            }
          });
          await Promise.all(wires.map((wire) => wire.session.close()));
        },
      ),
      { numRuns: 3 },
    );
  });

  it('forwards a cancellation upstream with the rewritten id and answers nothing', async () => {
    const wire = await openSession();
    wire.session.receive({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'echo__slow', arguments: { ms: 5_000, steps: 1 } },
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    wire.session.receive({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7 } });
    await until(() => existsSync(cancelLog) && readFileSync(cancelLog, 'utf8').trim() !== '');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(responseIds(wire)).toEqual([]);
    const upstreamIds = readFileSync(cancelLog, 'utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { requestId: unknown }).requestId);
    // The server saw its own id space, never the client's 7.
    expect(upstreamIds.every((id) => typeof id === 'number')).toBe(true);
    await wire.session.close();
  });
});

function sortIds(ids: RequestId[]): string[] {
  return ids.map((id) => `${typeof id}:${String(id)}`).sort();
}

/** Merges per-session queues into one order, keeping each queue's own order; `picks` chooses the queue. */
function interleave(queues: (() => void)[][], picks: number[]): (() => void)[] {
  const pending = queues.map((queue) => [...queue]).filter((queue) => queue.length > 0);
  const order: (() => void)[] = [];
  let turn = 0;
  while (pending.length > 0) {
    const index = (picks[turn++ % picks.length] ?? 0) % pending.length;
    const queue = pending[index] as (() => void)[];
    order.push(queue.shift() as () => void);
    if (queue.length === 0) pending.splice(index, 1);
  }
  return order;
}
