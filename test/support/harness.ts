/**
 * Test harness: a gateway over real fixture processes, and SDK clients connected to it over an
 * in-memory transport (the core does not know HTTP; the HTTP tests drive it over real sockets).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { ConfigSchema, type Config } from '../../src/config/schema.ts';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import { localPrincipal, type Principal } from '../../src/identity/principal.ts';
import { bindTransport } from '../../src/ingress/transport-binding.ts';
import { LOG_FLUSH_MS, silentLogger } from '../../src/log.ts';
import type { ClientSession } from '../../src/session/client-session.ts';

export const FIXTURE = fileURLToPath(new URL('../fixtures/fixture-server.ts', import.meta.url));
export const GRANDCHILD_FIXTURE = fileURLToPath(new URL('../fixtures/with-grandchild.sh', import.meta.url));

/** A fixture server entry; `env` switches on its misbehaviours. */
export function fixtureServer(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    command: process.execPath,
    args: [FIXTURE],
    pool: { min: 1, max: 2, maxInflight: 64 },
    timeouts: { startup: '10s', call: '10s', shutdown: '500ms' },
    ...overrides,
  };
}

/**
 * A parsed config from a plain object, tenants `acme` and `globex` by default. Children run
 * without bubblewrap unless `gateway.processIsolation` says otherwise: tests compare and signal
 * the pid a fixture reports, and inside bubblewrap's PID namespace that is not the host's.
 */
export function testConfig(input: Record<string, unknown>): Config {
  const gateway = (input.gateway ?? {}) as Record<string, unknown>;
  return ConfigSchema.parse({
    tenants: { acme: { name: 'Acme' }, globex: { name: 'Globex' } },
    ...input,
    gateway: { processIsolation: 'none', ...gateway },
  });
}

export async function startGateway(input: Record<string, unknown>): Promise<Gateway> {
  return createGateway(testConfig(input), { log: silentLogger(), env: process.env });
}

export type ConnectedClient = { client: Client; session: ClientSession };

export async function connectClient(
  gateway: Gateway,
  principal: Principal = localPrincipal('acme'),
  capabilities: ClientCapabilities = {},
): Promise<ConnectedClient> {
  const session = gateway.connect(principal);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await bindTransport(session, serverSide, gateway.log);
  const client = new Client({ name: 'test-client', version: '1.0.0' }, { capabilities });
  await client.connect(clientSide);
  return { client, session };
}

/** Whether a process id is still running (signal 0 checks without signalling). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls until `check` holds or the time runs out. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Waits until every log line a running gateway or bridge wrote before now is on its stderr: its
 * logger buffers lines for up to LOG_FLUSH_MS (src/log.ts). A check that a line is absent from a
 * process still running comes after this, or it could pass while the line sits in the buffer.
 */
export function logsFlushed(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 3 * LOG_FLUSH_MS));
}

/** The JSON a fixture tool returned as its first text content. */
export function textJson<T = Record<string, unknown>>(result: unknown): T {
  const content = (result as { content: { type: string; text: string }[] }).content;
  return JSON.parse(content[0]?.text ?? 'null') as T;
}

const EVERYTHING = createRequire(import.meta.url).resolve(
  '@modelcontextprotocol/server-everything/dist/index.js',
);

/** A server entry for the published server-everything over stdio. */
export function everythingServer(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    command: process.execPath,
    args: [EVERYTHING, 'stdio'],
    timeouts: { startup: '20s', call: '20s', shutdown: '1s' },
    ...overrides,
  };
}

/**
 * Writes a config fronting the published server-everything twice: `shared` (one pool) and `own`
 * (a process per session, for sampling, elicitation and the client's own roots), for the one tenant `acme`,
 * whose YAML lines after `name:` the caller may add (e.g. apiKeys). Returns its path.
 */
export function writeEverythingConfig(acmeExtra = ''): string {
  const path = join(mkdtempSync(join(tmpdir(), 'mcplane-everything-')), 'servers.config.yaml');
  const server = `command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(EVERYTHING)}, stdio]`;
  writeFileSync(
    path,
    `servers:
  shared:
    ${server}
    pool: { min: 1, max: 2 }
  own:
    ${server}
    mode: session
    roots: session
    pool: { min: 1, max: 4 }
tenants:
  acme:
    name: Acme
${acmeExtra}`,
  );
  return path;
}
