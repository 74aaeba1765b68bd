import { afterEach, describe, expect, it } from 'vitest';
import { CallDeadlines } from '../../src/upstream/call-deadlines.ts';

type Entry = { readonly name: string; readonly deadline: number };

const live = new Set<CallDeadlines<Entry>>();
afterEach(() => {
  for (const deadlines of live) deadlines.stop();
  live.clear();
});

/** Entries in flight, a log of what expired (and when), and the sweep over them. */
function setup(): { inFlight: Map<string, Entry>; expired: string[]; deadlines: CallDeadlines<Entry> } {
  const inFlight = new Map<string, Entry>();
  const expired: string[] = [];
  const deadlines = new CallDeadlines<Entry>(
    () => inFlight.values(),
    (entry) => {
      inFlight.delete(entry.name);
      expired.push(entry.name);
    },
  );
  live.add(deadlines);
  return { inFlight, expired, deadlines };
}

function add(setupResult: ReturnType<typeof setup>, name: string, timeoutMs: number): void {
  const entry = { name, deadline: performance.now() + timeoutMs };
  setupResult.inFlight.set(name, entry);
  setupResult.deadlines.watch(entry.deadline);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('call deadlines', () => {
  it('expires each entry once its own deadline passes, shortest first, and leaves answered ones alone', async () => {
    const state = setup();
    add(state, 'long', 150);
    add(state, 'short', 40);
    add(state, 'answered', 60);
    state.inFlight.delete('answered');
    await sleep(90);
    expect(state.expired).toEqual(['short']);
    await sleep(120);
    expect(state.expired).toEqual(['short', 'long']);
    expect(state.inFlight.size).toBe(0);
  });

  it('never expires an entry before its deadline', async () => {
    const state = setup();
    const started = performance.now();
    let expiredAfter = 0;
    const deadlines = new CallDeadlines<Entry>(
      () => state.inFlight.values(),
      (entry) => {
        state.inFlight.delete(entry.name);
        expiredAfter = performance.now() - started;
      },
    );
    live.add(deadlines);
    const entry = { name: 'x', deadline: started + 50 };
    state.inFlight.set('x', entry);
    deadlines.watch(entry.deadline);
    await sleep(120);
    expect(expiredAfter).toBeGreaterThanOrEqual(50);
  });

  it('after stop, nothing expires', async () => {
    const state = setup();
    add(state, 'a', 20);
    state.deadlines.stop();
    await sleep(60);
    expect(state.expired).toEqual([]);
  });
});
