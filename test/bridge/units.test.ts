/** The bridge's small parts: backoff, the bounded queue, failure classification, pending requests. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Backoff } from '../../src/bridge/backoff.ts';
import { OutboundQueue } from '../../src/bridge/outbound-queue.ts';
import { PendingRequests } from '../../src/bridge/pending-requests.ts';
import { actionFor, classifySendFailure, type FailedSend } from '../../src/bridge/send-failure.ts';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('Backoff', () => {
  it('doubles from 250 ms up to 30 s, each delay between half and all of its step', () => {
    const low = new Backoff(undefined, () => 0);
    const high = new Backoff(undefined, () => 0.999_999);
    const lows = Array.from({ length: 10 }, () => low.next());
    const highs = Array.from({ length: 10 }, () => high.next());
    expect(lows.slice(0, 4)).toEqual([125, 250, 500, 1000]);
    expect(highs.slice(0, 4)).toEqual([250, 500, 1000, 2000]);
    expect(highs.at(-1)).toBe(30_000);
    expect(lows.at(-1)).toBe(15_000);
  });

  it('starts over after a reset', () => {
    const backoff = new Backoff(undefined, () => 0);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(125);
  });
});

describe('OutboundQueue', () => {
  const entry = (seq: number, queuedAt = 0) => ({
    seq,
    queuedAt,
    message: { jsonrpc: '2.0' as const, id: seq, method: 'ping' },
  });
  const queueOf = (limit: number, dropped: [number, string][] = []): OutboundQueue =>
    new OutboundQueue({ limit, timeoutMs: 100, onDropped: (gone, cause) => dropped.push([gone.seq, cause]) });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('pushes out the oldest entries past its limit', () => {
    const dropped: [number, string][] = [];
    const queue = queueOf(2, dropped);
    queue.add(entry(1));
    queue.add(entry(2));
    queue.add(entry(3));
    expect(dropped).toEqual([[1, 'overflow']]);
    expect(queue.takeAll().map((kept) => kept.seq)).toEqual([2, 3]);
    queue.clear();
  });

  it('puts a returned entry back in arrival order', () => {
    const queue = queueOf(10);
    queue.add(entry(2));
    queue.add(entry(3));
    queue.add(entry(1));
    expect(queue.takeAll().map((kept) => kept.seq)).toEqual([1, 2, 3]);
    queue.clear();
  });

  it('expires entries older than its deadline on its own', () => {
    vi.useFakeTimers({ now: 1_000 });
    const dropped: [number, string][] = [];
    const queue = queueOf(10, dropped);
    queue.add(entry(1, 1_000));
    vi.advanceTimersByTime(50);
    queue.add(entry(2, Date.now()));
    vi.advanceTimersByTime(75);
    expect(dropped).toEqual([[1, 'expired']]);
    expect(queue.size).toBe(1);
    queue.clear();
  });
});

describe('classifySendFailure', () => {
  const fetchFailed = (code: string): TypeError =>
    new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });

  it('reads a refused connection as unreachable and a reset one as dropped', () => {
    expect(classifySendFailure(fetchFailed('ECONNREFUSED'))).toMatchObject({ kind: 'unreachable' });
    expect(classifySendFailure(fetchFailed('ECONNRESET'))).toMatchObject({ kind: 'dropped' });
  });

  it('reads the HTTP status of both SDK transports', () => {
    expect(classifySendFailure(new StreamableHTTPError(404, 'gone'))).toMatchObject({
      kind: 'http',
      status: 404,
    });
    expect(classifySendFailure(new Error('Error POSTing to endpoint (HTTP 405): no'))).toMatchObject({
      kind: 'http',
      status: 405,
    });
  });

  it('finds the socket error inside an AggregateError', () => {
    const cause = new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]);
    expect(classifySendFailure(new TypeError('fetch failed', { cause }))).toMatchObject({
      kind: 'unreachable',
    });
  });
});

describe('actionFor: what a failed send leads to', () => {
  const initialize = { jsonrpc: '2.0' as const, id: 0, method: 'initialize', params: {} };
  const call = { jsonrpc: '2.0' as const, id: 5, method: 'tools/call', params: {} };
  const answer = { jsonrpc: '2.0' as const, id: 9, result: {} };
  const http = (status: number) => ({ kind: 'http' as const, status, reason: `HTTP ${status}` });
  const base: FailedSend = {
    failure: http(404),
    message: call,
    upstream: { kind: 'streamable-http', hasSession: true },
    initialized: true,
    stale: false,
  };

  it.each([405, 404, 400])('a first initialize refused with %i falls back to legacy HTTP+SSE', (status) => {
    const first = {
      ...base,
      failure: http(status),
      message: initialize,
      upstream: { kind: 'streamable-http' as const, hasSession: false },
      initialized: false,
    };
    expect(actionFor(first)).toBe('fallback');
  });

  it.each([401, 403, 500])('a first initialize refused with %i fails without a fallback', (status) => {
    const first = {
      ...base,
      failure: http(status),
      message: initialize,
      upstream: { kind: 'streamable-http' as const, hasSession: false },
      initialized: false,
    };
    expect(actionFor(first)).toBe('fail');
  });

  it('a 404 for a request of an initialized session re-initializes; for an answer it drops it', () => {
    expect(actionFor(base)).toBe('reinitialize');
    expect(actionFor({ ...base, message: answer })).toBe('drop');
    expect(actionFor({ ...base, upstream: { kind: 'streamable-http', hasSession: false } })).toBe('fail');
  });

  it('an unreachable remote means wait; a broken connection fails the request', () => {
    expect(actionFor({ ...base, failure: { kind: 'unreachable', reason: 'ECONNREFUSED' } })).toBe('wait');
    expect(actionFor({ ...base, failure: { kind: 'dropped', reason: 'ECONNRESET' } })).toBe('fail');
  });
});

describe('PendingRequests', () => {
  it('fails a request whose stream ended without an answer and without an event id', () => {
    vi.useFakeTimers();
    const failed: unknown[] = [];
    const pending = new PendingRequests({
      resumeBudgetMs: 1000,
      fail: (id, reason) => failed.push([id, reason]),
    });
    pending.add(1);
    pending.streamEnded(1);
    vi.advanceTimersByTime(100);
    expect(failed).toEqual([[1, 'the remote closed the response stream without answering']]);
  });

  it('gives a resumable stream its budget, and none while a resumed stream is open', () => {
    vi.useFakeTimers();
    const failed: unknown[] = [];
    const pending = new PendingRequests({ resumeBudgetMs: 1000, fail: (id) => failed.push(id) });
    pending.add('a');
    pending.resumptionToken('a', 'event-1');
    pending.streamEnded('a');
    vi.advanceTimersByTime(900);
    const ended = pending.resumeOpened('event-1');
    vi.advanceTimersByTime(5000);
    expect(failed).toEqual([]);
    ended?.();
    vi.advanceTimersByTime(1100);
    expect(failed).toEqual(['a']);
  });

  it('does not fail a request that was answered', () => {
    vi.useFakeTimers();
    const failed: unknown[] = [];
    const pending = new PendingRequests({ resumeBudgetMs: 1000, fail: (id) => failed.push(id) });
    pending.add(1);
    pending.streamEnded(1);
    expect(pending.settle(1)).toBe('pending');
    vi.advanceTimersByTime(5000);
    expect(failed).toEqual([]);
  });

  it('answers nothing for a request the client cancelled', () => {
    vi.useFakeTimers();
    const failed: unknown[] = [];
    const pending = new PendingRequests({ resumeBudgetMs: 1000, fail: (id) => failed.push(id) });
    pending.add(1);
    pending.cancelled(1);
    pending.streamEnded(1);
    vi.advanceTimersByTime(5000);
    expect(failed).toEqual([]);
    expect(pending.settle(1)).toBe('unknown');
  });

  it('fails what was delivered on an older session', () => {
    const failed: unknown[] = [];
    const pending = new PendingRequests({ resumeBudgetMs: 1000, fail: (id) => failed.push(id) });
    pending.add(1);
    pending.delivered(1, 1);
    pending.add(2);
    pending.failDeliveredBefore(2, 'gone');
    expect(failed).toEqual([1]);
    expect(pending.has(2)).toBe(true);
  });
});
