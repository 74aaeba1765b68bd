/**
 * Log messages a process sends on its own, outside any call (a periodic log, say), belong to no
 * one session. A tenant's process may tell its tenant's sessions that asked for logs; a process
 * shared across tenants tells no one, and the gateway counts what it dropped.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { LoggingMessageNotificationSchema, type LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.ts';
import { localPrincipal } from '../../src/identity/principal.ts';
import { connectClient, eventually, fixtureServer, isRunning, startGateway } from '../support/harness.ts';

let gateway: Gateway | undefined;
afterEach(async () => {
  const pids = gateway?.pids() ?? [];
  await gateway?.close();
  gateway = undefined;
  for (const pid of pids) expect(isRunning(pid)).toBe(false);
});

/** A client of `tenant` that records the log messages it receives, at `level` if given. */
async function listener(tenant: string, level?: LoggingLevel): Promise<{ client: Client; logs: unknown[] }> {
  const { client } = await connectClient(gateway as Gateway, localPrincipal(tenant));
  const logs: unknown[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    logs.push(notification.params.data);
  });
  if (level) await client.setLoggingLevel(level);
  return { client, logs };
}

/** Asks the server to log at `level` on its own, after the call that asked has been answered. */
async function logLater(client: Client, tool: string, level: LoggingLevel, message: string): Promise<void> {
  await client.callTool({ name: tool, arguments: { level, message, ms: 50 } });
}

describe('log messages a process sends on its own', () => {
  it("from a tenant's process reach that tenant's sessions whose level passes them, and no one else", async () => {
    gateway = await startGateway({
      servers: { db: fixtureServer({ mode: 'tenant', pool: { min: 1, max: 1 } }) },
    });
    const verbose = await listener('acme', 'info');
    const strict = await listener('acme', 'error');
    const silent = await listener('acme');
    const otherTenant = await listener('globex', 'debug');

    await logLater(verbose.client, 'db__log_later', 'warning', 'acme warning');
    await eventually(() => verbose.logs.length > 0, 10_000);
    // Anything else in flight would arrive with it; a ping round-trip on each lets it land.
    await Promise.all([strict, silent, otherTenant].map(({ client }) => client.ping()));

    expect(verbose.logs).toEqual(['acme warning']);
    expect(strict.logs).toEqual([]);
    expect(silent.logs).toEqual([]);
    expect(otherTenant.logs).toEqual([]);
    expect(gateway.status().servers.db?.droppedLogs).toBe(0);
  });

  it('from a process shared across tenants are dropped and counted', async () => {
    gateway = await startGateway({ servers: { everyone: fixtureServer({ pool: { min: 1, max: 1 } }) } });
    const acme = await listener('acme', 'debug');
    const globex = await listener('globex', 'debug');

    await logLater(acme.client, 'everyone__log_later', 'error', 'who is this for?');
    await eventually(() => gateway?.status().servers.everyone?.droppedLogs === 1, 10_000);
    await Promise.all([acme, globex].map(({ client }) => client.ping()));

    expect(acme.logs).toEqual([]);
    expect(globex.logs).toEqual([]);
    expect(gateway.droppedLogs()).toBe(1);
  });
});
