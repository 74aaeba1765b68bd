/**
 * The attacks of issue 6 ("Memory an authenticated client can make the gateway hold"), each
 * bounded in count and in time. Each returns a line saying what the gateway answered, so the
 * table shows the attack really ran (and how the gateway refused it).
 */
import { callBody, exchange, openSession, unread, type Unread } from './raw-http.ts';

const MB = 1_000_000;

export type Attack = {
  readonly name: string;
  /** Runs the attack; returns what the gateway answered. Leaves nothing open unless said. */
  run(url: URL): Promise<string>;
};

/** Runs `work` for indices 0..count-1, `concurrency` at a time, until done or the deadline passes. */
async function bounded(
  count: number,
  concurrency: number,
  deadlineMs: number,
  work: (index: number) => Promise<void>,
): Promise<number> {
  const deadline = Date.now() + deadlineMs;
  let next = 0;
  let done = 0;
  const lane = async (): Promise<void> => {
    while (next < count && Date.now() < deadline) {
      const index = next++;
      await work(index);
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return done;
}

function tally(statuses: number[]): string {
  const counts = new Map<number, number>();
  for (const status of statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
  return [...counts].map(([status, count]) => `${count}× ${status}`).join(', ');
}

export const bigResponses: Attack = {
  name: '300 × 1 MB responses in one session',
  async run(url) {
    const sessionId = await openSession(url);
    let complete = 0;
    await bounded(300, 1, 300_000, async () => {
      const answer = await exchange(url, { sessionId, body: callBody('fx__big', { bytes: MB }) });
      if (answer.status === 200 && answer.text.length > MB) complete++;
    });
    return `${complete}/300 answered in full`;
  },
};

export const deepRequests: Attack = {
  name: '100 deeply nested 2 MB requests',
  async run(url) {
    const sessionId = await openSession(url);
    const levels = Math.floor((2 * MB) / 6);
    const statuses: number[] = [];
    await bounded(100, 4, 300_000, async (index) => {
      const body =
        `{"jsonrpc":"2.0","id":${index + 1},"method":"tools/call","params":{"name":"fx__echo","arguments":` +
        '{"a":'.repeat(levels) +
        '0' +
        '}'.repeat(levels) +
        '}}';
      statuses.push((await exchange(url, { sessionId, body })).status);
    });
    return tally(statuses);
  },
};

/** Holds unread streams for a while, then drops them, as a client that finally goes away. */
async function dropAfter(streams: Unread[], holdMs: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, holdMs));
  for (const stream of streams) stream.destroy();
}

export const unreadPostStreams: Attack = {
  name: '100 unread 1 MB responses (a POST stream each)',
  async run(url) {
    const sessionId = await openSession(url);
    const streams: Unread[] = [];
    await bounded(100, 10, 120_000, async () => {
      streams.push(
        await unread(url, { method: 'POST', sessionId, body: callBody('fx__big', { bytes: MB }) }),
      );
    });
    const opened = tally(streams.map((stream) => stream.status));
    await dropAfter(streams, 3_000);
    return `${opened}, none read`;
  },
};

export const unreadLegacyStream: Attack = {
  name: '100 unread 1 MB responses (one legacy /sse stream)',
  async run(url) {
    const sse = await unread(new URL('/sse', url), {
      method: 'GET',
      headers: { accept: 'text/event-stream' },
    });
    const opening = await sse.readUntil((text) => /event: endpoint\ndata: (\S+)\n\n/.test(text), 10_000);
    const endpoint = new URL(/event: endpoint\ndata: (\S+)\n\n/.exec(opening)?.[1] ?? '', url);
    const post = (message: Record<string, unknown>): Promise<number> =>
      exchange(endpoint, { body: JSON.stringify({ jsonrpc: '2.0', ...message }) }).then(
        (answer) => answer.status,
      );
    const params = {
      protocolVersion: '2024-11-05',
      capabilities: {},
      clientInfo: { name: 'bench', version: '0' },
    };
    await post({ id: 0, method: 'initialize', params });
    await post({ method: 'notifications/initialized' });
    const statuses: number[] = [];
    await bounded(100, 1, 120_000, async (index) => {
      statuses.push(
        await post({
          id: index + 1,
          method: 'tools/call',
          params: { name: 'fx__big', arguments: { bytes: MB } },
        }),
      );
    });
    // 202: accepted for the stream; 404: the gateway had closed the stream and its session.
    const accepted = tally(statuses);
    // The calls finish after their 202s; until the session is gone (its stream closed), a ping is
    // still accepted. Read nothing meanwhile, at most 30 s.
    const deadline = Date.now() + 30_000;
    let ping = 202;
    while (ping === 202 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      ping = await post({ id: 'ping', method: 'ping' });
    }
    return `${accepted}; then ping ${ping}; ${await closure(sse)}`;
  },
};

/** Whether the gateway closed an unread stream: the client reads on for a while and sees it end. */
async function closure(stream: Unread): Promise<string> {
  const { closed, bytes } = await stream.drain(10_000);
  stream.destroy();
  const received = `${(bytes / MB).toFixed(1)} MB reached the client`;
  return closed ? `stream closed by the gateway, ${received}` : `stream still open, ${received}`;
}

export const unreadGetStream: Attack = {
  name: '100 unread 1 MB notifications (one GET stream)',
  async run(url) {
    const sessionId = await openSession(url);
    const stream = await unread(url, { method: 'GET', sessionId, headers: { accept: 'text/event-stream' } });
    const uri = `fixture://item/${'u'.repeat(MB)}`;
    const subscribe = JSON.stringify({
      jsonrpc: '2.0',
      id: 'sub',
      method: 'resources/subscribe',
      params: { uri },
    });
    const subscribed = await exchange(url, { sessionId, body: subscribe });
    const touched = await exchange(url, { sessionId, body: callBody('fx__touch', { uri, times: 100 }) });
    const sent = `GET ${stream.status}, subscribe ${subscribed.status}, touch ${touched.status}`;
    return `${sent}; ${await closure(stream)}`;
  },
};

export const idleSessions: Attack = {
  name: '2,000 idle sessions (initialize only)',
  async run(url) {
    const statuses: number[] = [];
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'idle', version: '0' } },
    });
    await bounded(2_000, 20, 300_000, async () => {
      statuses.push((await exchange(url, { body })).status);
    });
    // The sessions are left behind, as the Inspector CLI and mcp-remote leave theirs: they stay
    // until gateway.http.sessionIdleTimeout, so "after" is measured with all of them open.
    return `${tally(statuses)}; left open`;
  },
};

export const ATTACKS: readonly Attack[] = [
  bigResponses,
  deepRequests,
  unreadPostStreams,
  unreadLegacyStream,
  unreadGetStream,
  idleSessions,
];
