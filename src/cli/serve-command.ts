/**
 * `mcplane serve --config <file> [--host 127.0.0.1] [--port 8080]`: the gateway over Streamable
 * HTTP (and legacy SSE). On SIGTERM or SIGINT it stops taking new work, lets in-flight calls
 * finish within `gateway.http.shutdownGrace`, stops every child, and exits 0.
 */
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ServerType } from '@hono/node-server';
import { ADMIN_PATH, createAdminApi } from '../admin/admin-api.ts';
import { adminDeps } from '../control/admin-deps.ts';
import { createDashboard, UI_PATH } from '../dashboard/dashboard-app.ts';
import { webhooksFor } from '../control/webhook-deps.ts';
import { ConfigReloader } from '../control/config-reloader.ts';
import { ConfigWatcher } from '../control/config-watcher.ts';
import { RetentionJob } from '../control/retention-job.ts';
import { ConfigError } from '../config/config-error.ts';
import { GatewayError } from '../errors.ts';
import { createGateway, type Gateway } from '../gateway.ts';
import { openStore } from '../store/open-store.ts';
import { loadMasterKeys } from '../store/secrets/master-keys.ts';
import type { Store } from '../store/store.ts';
import { bindAdmin, METRICS_PATH, type AdminListener } from '../ingress/admin-listener.ts';
import { createHttpFront, MCP_PATH, type HttpFront } from '../ingress/http/http-app.ts';
import { createLogger, type Logger } from '../log.ts';
import type { ListenAddress } from '../telemetry/telemetry-schema.ts';
import { startTracing, type Tracing } from '../telemetry/tracing.ts';
import { VERSION } from '../version.ts';
import type { CommandIo } from './command-io.ts';
import { setUpCommand } from './command-setup.ts';
import { bindHttp, listenProblem, type HttpListener } from './http-listener.ts';

const USAGE =
  'usage: mcplane serve [--config servers.config.yaml] [--host 127.0.0.1] [--port 8080] [--log-level info]\n';

export async function serveCommand(args: string[], io: CommandIo): Promise<number> {
  const setup = await setUpCommand(args, io, USAGE, {
    host: { type: 'string', default: io.env.MCPLANE_HOST },
    port: { type: 'string', default: io.env.MCPLANE_PORT ?? io.env.PORT },
  });
  if (typeof setup === 'number') return setup;
  const { config, logLevel } = setup;
  const values = setup.values as { host?: string; port?: string };
  const host = values.host ?? config.gateway.http.host;
  const port = values.port === undefined ? config.gateway.http.port : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    io.stderr(`mcplane serve: --port must be a port number\n${USAGE}`);
    return 2;
  }
  let listener: HttpListener;
  try {
    listener = await bindHttp(host, port);
  } catch (error) {
    const problem = listenProblem(error, host, port);
    if (problem === undefined) throw error;
    io.stderr(`mcplane serve: ${problem}\n`);
    return 1;
  }
  const log = createLogger({ level: logLevel });
  const adminListen = config.gateway.admin.listen;
  let adminListener: AdminListener | undefined;
  try {
    adminListener = adminListen === undefined ? undefined : await bindAdmin(adminListen, log);
  } catch (error) {
    listener.server.close();
    const problem = adminListenProblem(error, adminListen as ListenAddress);
    if (problem === undefined) throw error;
    io.stderr(`mcplane serve: ${problem}\n`);
    return 1;
  }
  let store: Store;
  let gateway: Gateway;
  try {
    store = await openGatewayStore(io.env.MCPLANE_STORE_URL ?? config.gateway.store.url, io.env, log);
  } catch (error) {
    listener.server.close();
    await adminListener?.close();
    if (!(error instanceof GatewayError)) throw error;
    io.stderr(`mcplane serve: ${error.message}\n`);
    return 1;
  }
  // Only when the OTEL_* variables ask for traces; otherwise no SDK is started.
  const tracing = startTracing(io.env, { version: VERSION, log });
  try {
    gateway = await createGateway(config, {
      log,
      env: io.env,
      store,
      configPath: setup.configPath,
      ...(tracing ? { tracer: tracing.tracer } : {}),
    });
  } catch (error) {
    listener.server.close();
    await adminListener?.close();
    await tracing?.shutdown();
    await store.close();
    // An invalid policy file, or an audit key that cannot be read: say what, and stop.
    if (error instanceof ConfigError) {
      io.stderr(`${error.format()}\n`);
      return 1;
    }
    if (error instanceof GatewayError && error.spec.expose === false) {
      io.stderr(`mcplane serve: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  // Reads the settings and the config's tenants from the live view at every run, so a reload
  // applies at the next.
  const retention = new RetentionJob({
    store,
    settings: () => gateway.config.gateway.retention,
    configTenants: () => [...gateway.view.tenants.values()].filter((tenant) => tenant.managedBy === 'config'),
    log,
  });
  retention.start();
  const reloader = new ConfigReloader({ path: setup.configPath, env: io.env, gateway });
  const admin = createAdminApi(adminDeps(gateway, store, reloader, setup.configPath));
  // The front is built once the port is known (port 0 picks one), since the protected-resource
  // metadata and 401 challenges name the gateway's own URL.
  const origin = `http://${urlHost(listener.address)}`;
  const baseUrl = config.gateway.http.publicUrl ?? origin;
  const dashboard = createDashboard({
    admin: (request) => admin.fetch(request),
    log,
    secureCookies: baseUrl.startsWith('https:'),
  });
  const front = createHttpFront(gateway, {
    log,
    baseUrl,
    admin: { path: ADMIN_PATH, fetch: (request) => admin.fetch(request) },
    dashboard: { path: UI_PATH, fetch: (request) => dashboard.fetch(request) },
    webhooks: webhooksFor(gateway, store),
  });
  listener.attach(front);
  gateway.metrics?.addProcessMetrics();
  adminListener?.attach(gateway.metrics);
  if (adminListener) log.info({ url: `${adminListener.origin}${METRICS_PATH}` }, 'admin listener: metrics');
  if (tracing) log.info('tracing: exporting spans as the OTEL_* variables say');
  const watcher = config.gateway.reload.watch
    ? new ConfigWatcher({
        path: setup.configPath,
        debounceMs: config.gateway.reload.debounce,
        log,
        onChange: () => reloader.reload('file-watch'),
      })
    : undefined;
  await watcher?.start();
  const onHangup = (): void => void reloader.reload('SIGHUP');
  process.on('SIGHUP', onHangup);
  io.stdout(connectHelp(`${origin}${MCP_PATH}`, config.gateway.auth.anonymous !== undefined));
  const code = await stopOnSignal(listener.server, front, gateway, log);
  process.off('SIGHUP', onHangup);
  watcher?.close();
  await retention.stop();
  await adminListener?.close();
  await shutDownTracing(tracing, log);
  await store.close();
  return code;
}

/** Exports the spans still buffered; an unreachable collector does not hold up the exit. */
async function shutDownTracing(tracing: Tracing | undefined, log: Logger): Promise<void> {
  if (!tracing) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      log.warn('tracing: spans still buffered were not exported within 5 s of shutdown');
      resolve();
    }, TRACING_SHUTDOWN_MS);
  });
  await Promise.race([
    tracing.shutdown().catch((err: unknown) => log.warn({ err }, 'tracing shutdown failed')),
    timeout,
  ]);
  clearTimeout(timer);
}

const TRACING_SHUTDOWN_MS = 5_000;

function adminListenProblem(error: unknown, listen: ListenAddress): string | undefined {
  const at = `${listen.host}:${listen.port}`;
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return `gateway.admin.listen: port ${listen.port} on ${listen.host} is already in use; choose another (${at})`;
    case 'EACCES':
      return `gateway.admin.listen: not allowed to listen on ${at}`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `gateway.admin.listen: cannot listen on host ${listen.host}`;
    default:
      return undefined;
  }
}

/** Opens (and migrates) the store; warns when PostgreSQL's row-level security cannot apply. */
async function openGatewayStore(
  url: string,
  env: Readonly<Record<string, string | undefined>>,
  log: Logger,
): Promise<Store> {
  const store = await openStore(url, {
    masterKeys: loadMasterKeys(env),
    onBackgroundError: (err) => log.warn({ err }, 'store background work failed'),
  });
  const info = await store.info();
  log.info(
    { store: info.location, schemaVersion: info.schemaVersion, masterKey: info.masterKeyId ?? 'none' },
    'store open',
  );
  if (info.rowLevelSecurity === 'bypassed') {
    log.warn(
      'the store user bypasses row-level security (superuser or BYPASSRLS): only the queries themselves scope tenants; use a plain role',
    );
  }
  return store;
}

/** Resolves with exit code 0 once SIGTERM or SIGINT has drained and stopped everything. */
function stopOnSignal(server: ServerType, front: HttpFront, gateway: Gateway, log: Logger): Promise<number> {
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'shutting down: draining in-flight calls');
      void shutdown(server, front, gateway, log).then(() => resolve(0));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

function urlHost(info: AddressInfo): string {
  return `${info.family === 'IPv6' ? `[${info.address}]` : info.address}:${info.port}`;
}

async function shutdown(server: ServerType, front: HttpFront, gateway: Gateway, log: Logger): Promise<void> {
  front.drain();
  server.close();
  const deadline = Date.now() + gateway.config.gateway.http.shutdownGrace;
  while (front.inflight() > 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 25));
  if (front.inflight() > 0)
    log.warn({ inflight: front.inflight() }, 'shutdown grace over; cancelling the rest');
  await front.close();
  await gateway.close();
  if ('closeAllConnections' in server) server.closeAllConnections();
  log.info('stopped');
}

/** bin/mcplane.js of this installation (a checkout or node_modules/mcplane), which `node` runs anywhere. */
const BIN = fileURLToPath(new URL('../../bin/mcplane.js', import.meta.url));

function connectHelp(url: string, anonymous: boolean): string {
  const auth = anonymous
    ? ''
    : ',\n      "headers": { "Authorization": "Bearer <key from mcplane keys new>" }';
  const bridge = JSON.stringify({ command: process.execPath, args: [BIN, 'bridge', '--url', url] });
  return `mcplane is serving MCP at ${url}

Connect a Streamable HTTP client to that URL${anonymous ? ' (no credential needed: this config allows anonymous local access)' : ''}, or a stdio client through the bridge:
  { "mcpServers": { "mcplane": ${bridge} } }
or, for clients that speak HTTP:
  { "mcpServers": { "mcplane": { "type": "http", "url": "${url}"${auth} } } }
`;
}
