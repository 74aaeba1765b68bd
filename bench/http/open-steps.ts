/**
 * A session open, step by step, in a steady state: one connection opens sessions one after
 * another (initialize, notifications/initialized, tools/list, then DELETE), the first 100
 * untimed, and prints the p50 of each step in ms. `npm run bench:http`'s open table times 50
 * opens of a process that has just served the call load, so its p50 moves with the GC; this is
 * the figure to compare two checkouts by, alternated.
 *
 *   node bench/http/open-steps.ts [bare | mcplane] [checkout]
 */
import { endpoint, send } from './mcp-http-client.ts';
import { startBare, startMcplane, type Subject } from './subjects.ts';

const UNTIMED = 100;
const TIMED = 300;
const INITIALIZE = {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'bench', version: '1' },
};

const which = process.argv[2] ?? 'mcplane';
const root = process.argv[3];
const subject: Subject =
  which === 'bare'
    ? await startBare()
    : await startMcplane('shared', { min: 1, max: 1 }, [], root === undefined ? {} : { root, name: root });
const to = endpoint(subject.url, 1);
const steps = {
  initialize: [] as number[],
  initialized: [] as number[],
  'tools/list': [] as number[],
  DELETE: [] as number[],
};
try {
  for (let i = 0; i < UNTIMED + TIMED; i++) {
    const t0 = performance.now();
    const { sessionId } = await send(to, { method: 'initialize', params: INITIALIZE });
    if (sessionId === undefined) throw new Error('initialize gave no session id');
    const t1 = performance.now();
    await send(to, { method: 'notifications/initialized', notification: true }, sessionId);
    const t2 = performance.now();
    await send(to, { method: 'tools/list' }, sessionId);
    const t3 = performance.now();
    await send(to, { method: 'DELETE' }, sessionId, 'DELETE');
    const t4 = performance.now();
    if (i < UNTIMED) continue;
    steps.initialize.push(t1 - t0);
    steps.initialized.push(t2 - t1);
    steps['tools/list'].push(t3 - t2);
    steps.DELETE.push(t4 - t3);
  }
} finally {
  await subject.stop();
  to.agent.destroy();
}
const p50 = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1] ?? NaN;
const open = p50(
  steps.initialize.map((value, i) => value + (steps.initialized[i] ?? 0) + (steps['tools/list'][i] ?? 0)),
);
console.log(
  [
    subject.name,
    ...Object.entries(steps).map(([step, values]) => `${step} ${p50(values).toFixed(3)}`),
    `open (first three) ${open.toFixed(3)} ms p50`,
  ].join('  '),
);
