/**
 * One arm of `bench/metering.ts`, in a process of its own: the gateway core in-process on a
 * SQLite store in a temporary file, the SDK client over an in-memory transport, `calls`
 * tools/call echo at concurrency 10; metering on (every call an event, written in batches, CPU
 * sampled every second) or off. Prints one JSON line: calls/s, this process's CPU per call
 * (gateway, store writes and client together), the main thread's alone (the event loop that
 * serves the calls; a SQLite store writes usage on a thread of its own), and the events written.
 *
 *   node bench/metering/arm.ts <on|off> <calls>
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ConfigSchema } from '../../src/config/schema.ts';
import { createGateway } from '../../src/gateway.ts';
import { localPrincipal } from '../../src/identity/principal.ts';
import { bindTransport } from '../../src/ingress/transport-binding.ts';
import { silentLogger } from '../../src/log.ts';
import { openStore } from '../../src/store/open-store.ts';
import { FIXTURE } from '../http/subjects.ts';

const arm = process.argv[2] ?? 'off';
const calls = Number(process.argv[3] ?? 20_000);
const dir = mkdtempSync(join(tmpdir(), 'mcplane-bench-metering-'));
const store = await openStore(`sqlite:${join(dir, 'mcplane.db')}`);
const config = ConfigSchema.parse({
  gateway: {
    processIsolation: 'none',
    metrics: { enabled: false },
    logs: { calls: 'off' },
    metering: { enabled: arm === 'on', costSampleInterval: '1s' },
  },
  servers: {
    fx: {
      command: process.execPath,
      args: [FIXTURE],
      pool: { min: 1, max: 1, maxInflight: 1000 },
      cost: { perCall: 0.001, perCpuSecond: 0.1 },
    },
  },
  tenants: { t: { name: 'Benchmark tenant' } },
});
const gateway = await createGateway(config, { log: silentLogger(), env: process.env, store });
const session = gateway.connect(localPrincipal('t'));
const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
await bindTransport(session, serverSide, gateway.log);
const client = new Client({ name: 'bench', version: '1' });
await client.connect(clientSide);

async function run(count: number): Promise<void> {
  let left = count;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (left-- > 0) await client.callTool({ name: 'fx__echo', arguments: { text: 'x' } });
    }),
  );
}

await run(2_000);
const cpu = process.cpuUsage();
const threadCpu = process.threadCpuUsage();
const started = performance.now();
await run(calls);
const seconds = (performance.now() - started) / 1000;
const used = process.cpuUsage(cpu);
const usedByThread = process.threadCpuUsage(threadCpu);
await client.close();
const stats = gateway.meter?.stats();
await gateway.close();
const written = gateway.meter?.stats().written ?? 0;
await store.close();
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    arm,
    callsPerSecond: calls / seconds,
    cpuMicrosPerCall: (used.user + used.system) / calls,
    threadCpuMicrosPerCall: (usedByThread.user + usedByThread.system) / calls,
    written,
    droppedDuringRun: stats?.dropped ?? 0,
  }),
);
