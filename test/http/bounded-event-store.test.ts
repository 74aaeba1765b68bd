/** The resumption buffer's byte accounting, as a unit: which events go first and which resumes are refused. */
import { describe, expect, it } from 'vitest';
import type { JSONRPCMessage } from '../../src/jsonrpc/message.ts';
import { BoundedEventStore } from '../../src/ingress/http/bounded-event-store.ts';
import { EventBudget } from '../../src/ingress/http/event-budget.ts';

const note = (text: string): JSONRPCMessage => ({
  jsonrpc: '2.0',
  method: 'notifications/message',
  params: { text },
});

async function replayed(store: BoundedEventStore, after: string): Promise<string[]> {
  const sent: string[] = [];
  await store.replayEventsAfter(after, {
    send: async (_id, message) => {
      sent.push((message as unknown as { params: { text: string } }).params.text);
    },
  });
  return sent;
}

describe('BoundedEventStore', () => {
  it('drops an event larger than the session bound at once, yet a resume after it replays what followed', async () => {
    const store = new BoundedEventStore({ maxEvents: 100, maxBytes: 1_000 }, new EventBudget(1 << 20));
    const huge = await store.storeEvent('s', note('x'.repeat(2_000)));
    await store.storeEvent('s', note('after'));
    expect(store.bytes).toBeLessThanOrEqual(1_000);
    expect(store.resumeGap(huge)).toBe(false);
    expect(await store.getStreamIdForEventId(huge)).toBe('s');
    expect(await replayed(store, huge)).toEqual(['after']);
  });

  it('refuses a resume whose stream lost an event after the client last saw it, and only that stream', async () => {
    const store = new BoundedEventStore({ maxEvents: 100, maxBytes: 400 }, new EventBudget(1 << 20));
    const seen = await store.storeEvent('a', note('a1'));
    await store.storeEvent('a', note('a2 '.repeat(30)));
    const other = await store.storeEvent('b', note('b1'));
    for (let index = 0; index < 5; index++) await store.storeEvent('c', note('c'.repeat(60)));
    expect(store.resumeGap(seen)).toBe(true);
    await expect(replayed(store, seen)).rejects.toMatchObject({ code: 'RESUME_GAP' });
    // Stream b lost its only event, the one its client saw: nothing after it is missing.
    expect(store.resumeGap(other)).toBe(false);
  });

  it('takes no made-up event id for a dropped one', async () => {
    const store = new BoundedEventStore({ maxEvents: 2, maxBytes: 1 << 20 }, new EventBudget(1 << 20));
    for (let index = 0; index < 5; index++) await store.storeEvent('s', note(String(index)));
    for (const id of ['nope', 'other.1', 's.99', 's.x', '.3']) {
      expect(store.resumeGap(id)).toBe(false);
      expect(await store.getStreamIdForEventId(id)).toBeUndefined();
    }
  });

  it('the gateway budget drops the oldest event in the gateway, whichever session holds it, and gets bytes back on clear', async () => {
    const size = (text: string): number => JSON.stringify(note(text)).length;
    // One byte short of holding all five events: exactly the oldest has to go.
    const limit = size('1'.repeat(200)) + size('2'.repeat(10)) + 3 * size('3'.repeat(100)) - 1;
    const budget = new EventBudget(limit);
    const first = new BoundedEventStore({ maxEvents: 100, maxBytes: 1 << 20 }, budget);
    const second = new BoundedEventStore({ maxEvents: 100, maxBytes: 1 << 20 }, budget);
    const oldest = await first.storeEvent('s', note('1'.repeat(200)));
    const kept = await first.storeEvent('s', note('2'.repeat(10)));
    for (let index = 0; index < 3; index++) await second.storeEvent('t', note('3'.repeat(100)));
    expect(budget.bytes).toBeLessThanOrEqual(limit);
    expect(budget.dropped).toBe(1);
    expect(first.resumeGap(oldest)).toBe(false);
    expect(await replayed(first, oldest)).toEqual(['2'.repeat(10)]);
    expect(first.resumeGap(kept)).toBe(false);
    second.clear();
    expect(budget.bytes).toBe(first.bytes);
  });
});
