/**
 * How part 1 drives a running `mcplane serve`: the two configs it alternates (they differ only
 * in one server's env), swapping the file the way editors save, triggering a reload by
 * `POST /admin/v1/reload` or SIGHUP, and probing with the fixture's `env` tool until new calls
 * reach the new config. Also reads the start log every fixture appends its pid to.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FIXTURE } from '../../test/support/harness.ts';
import { send, type Endpoint } from '../http/mcp-http-client.ts';
import { since } from '../lib/stats.ts';
import { failureOf } from './paced-load.ts';
import type { ServeProcess } from './serve-process.ts';

export const GENERATIONS = ['a', 'b'] as const;
export type Generation = (typeof GENERATIONS)[number];

export type ReloadFiles = { readonly dir: string; readonly live: string; readonly startLog: string };

export type ReloadSettings = { readonly drainTimeoutMs: number };

/** The config for one generation, as JSON (which is YAML, so no YAML writer is needed). */
export function configFor(
  files: ReloadFiles,
  generation: Generation,
  member: { id: string; hash: string },
  settings: ReloadSettings,
): string {
  const config = {
    gateway: {
      // Host pids: the start log's pids are looked up in /proc (bubblewrap would namespace them).
      processIsolation: 'none',
      drainTimeout: `${settings.drainTimeoutMs}ms`,
      // The benchmark triggers every reload itself; a watch would reload each write a second time.
      reload: { watch: false },
      store: { url: `sqlite:${path.join(files.dir, 'mcplane.db')}` },
    },
    servers: {
      fx: {
        command: process.execPath,
        args: [FIXTURE],
        env: { FIXTURE_START_LOG: files.startLog, BENCH_GENERATION: generation },
        pool: { min: 1, max: 2, maxInflight: 64 },
        timeouts: { startup: '10s', call: '10s', shutdown: '1s' },
      },
    },
    tenants: { bench: { name: 'Benchmark tenant', apiKeys: [member] } },
  };
  return JSON.stringify(config, null, 2);
}

/** Replaces the config file the way editors save: a new file renamed over the old one. */
export function writeConfig(files: ReloadFiles, content: string): void {
  const aside = `${files.live}.next`;
  writeFileSync(aside, content);
  renameSync(aside, files.live);
}

export function startedPids(files: ReloadFiles): number[] {
  try {
    return readFileSync(files.startLog, 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map(Number);
  } catch {
    return [];
  }
}

/** Calls that are not part of the paced load, with why any failed. */
export type Probe = { sent: number; failed: number; readonly failures: Map<string, number> };

export const newProbe = (): Probe => ({ sent: 0, failed: 0, failures: new Map() });

/**
 * Calls `fx__env` until it reports `generation` or `waitMs` passes; resolves with how long
 * that took, or undefined.
 */
export async function waitForGeneration(
  to: Endpoint,
  session: string,
  generation: Generation,
  probe: Probe,
  timing: { readonly waitMs: number; readonly everyMs: number },
): Promise<number | undefined> {
  const start = process.hrtime.bigint();
  const deadline = Date.now() + timing.waitMs;
  while (Date.now() < deadline) {
    probe.sent++;
    const params = { name: 'fx__env', arguments: { names: ['BENCH_GENERATION'] } };
    const exchange = await send(to, { method: 'tools/call', params }, session).catch(
      (error: unknown) => error as Error,
    );
    const failure = exchange instanceof Error ? `request failed: ${exchange.message}` : failureOf(exchange);
    if (failure !== undefined) {
      probe.failed++;
      probe.failures.set(failure, (probe.failures.get(failure) ?? 0) + 1);
    } else if (!(exchange instanceof Error)) {
      const content = exchange.answer?.result?.content as { text?: string }[] | undefined;
      const reported = JSON.parse(content?.[0]?.text ?? '{}') as { values?: Record<string, unknown> };
      if (reported.values?.BENCH_GENERATION === generation) return since(start);
    }
    await sleep(timing.everyMs);
  }
  return undefined;
}

/** `POST /admin/v1/reload`; resolves with what was wrong, or undefined when it applied a change to fx. */
export async function postReload(serve: ServeProcess, adminKey: string): Promise<string | undefined> {
  const response = await fetch(`${serve.origin}/admin/v1/reload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}` },
  });
  const body = (await response.json()) as { applied?: boolean; changed?: string[] };
  if (response.status !== 200 || body.applied !== true) {
    return `HTTP ${response.status}: ${JSON.stringify(body).slice(0, 200)}`;
  }
  if (!body.changed?.includes('fx')) return `applied without changing fx: ${JSON.stringify(body)}`;
  return undefined;
}

/** Processes of the current fx pool, from `GET /admin/v1/status`. */
export async function poolSize(serve: ServeProcess, adminKey: string): Promise<number> {
  const response = await fetch(`${serve.origin}/admin/v1/status`, {
    headers: { authorization: `Bearer ${adminKey}` },
  });
  const status = (await response.json()) as { servers?: { fx?: { pools?: { size: number }[] } } };
  return (status.servers?.fx?.pools ?? []).reduce((sum, pool) => sum + pool.size, 0);
}
