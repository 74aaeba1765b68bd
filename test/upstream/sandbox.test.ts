/**
 * Sandboxed children (`servers.<name>.sandbox`) and per-call limits (`servers.<name>.limits`),
 * over real HTTP with the SDK client, real bubblewrap and a real fixture child that tries what
 * a sandbox must stop. The bubblewrap tests are skipped, with the reason in their name, only on
 * a machine where bwrap cannot confine a process.
 */
import { existsSync, mkdtempSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.ts';
import { ConfigReloader } from '../../src/control/config-reloader.ts';
import { createGateway } from '../../src/gateway.ts';
import { silentLogger } from '../../src/log.ts';
import { resolveSandboxing } from '../../src/upstream/sandbox.ts';
import { capturedLog } from '../support/captured-log.ts';
import { eventually, testConfig, textJson } from '../support/harness.ts';
import {
  bearer,
  connectHttpClient,
  newApiKey,
  startHttpGateway,
  stopHttpGateways,
} from '../http/http-harness.ts';

const SANDBOX_FIXTURE = fileURLToPath(new URL('../fixtures/sandbox-server.ts', import.meta.url));
const REPO_PACKAGE = fileURLToPath(new URL('../../package.json', import.meta.url));
const MAIN_PACKAGE = '/work/main/package.json';

const unavailable = ((): string | undefined => {
  try {
    resolveSandboxing(testConfig({ servers: { probe: { command: 'node', sandbox: {} } } }), process.env);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
})();

const acme = newApiKey();
const globex = newApiKey();
const TENANTS = {
  acme: { name: 'Acme', apiKeys: [acme.entry] },
  globex: { name: 'Globex', apiKeys: [globex.entry] },
};

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

function sandboxServer(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    command: process.execPath,
    args: [SANDBOX_FIXTURE],
    pool: { min: 1, max: 1, maxInflight: 4 },
    timeouts: { startup: '10s', call: '10s', shutdown: '500ms' },
    ...overrides,
  };
}

/** The JSON a fixture tool answered with. */
async function call<T = Record<string, unknown>>(
  client: Awaited<ReturnType<typeof connectHttpClient>>['client'],
  name: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  return textJson<T>(await client.callTool({ name, arguments: args }));
}

/** The JSON-RPC error a call failed with. */
async function failure(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: number; message: string };
  }
  throw new Error('the call succeeded');
}

describe('loading a sandboxed server', () => {
  it('is refused without bubblewrap, naming the server and how to fix it', async () => {
    const config = testConfig({
      servers: { tools: sandboxServer({ sandbox: {} }), plain: sandboxServer() },
      tenants: TENANTS,
    });
    await expect(
      createGateway(config, { log: silentLogger(), env: { PATH: '/nonexistent-dir' } }),
    ).rejects.toThrow(
      /servers\.tools\.sandbox asks for a sandbox, but bwrap is not installed \(not on PATH\)\. Install bubblewrap/,
    );
  });

  it('gives no unsandboxed fallback either: the same config without the sandbox starts', async () => {
    const config = testConfig({ servers: { plain: sandboxServer() }, tenants: TENANTS });
    const gateway = await createGateway(config, { log: silentLogger(), env: { PATH: '/nonexistent-dir' } });
    await gateway.close();
  });

  it('a reload that adds a sandboxed server on a machine without bubblewrap is refused, and the running config stays', async () => {
    const config = testConfig({ servers: { plain: sandboxServer() }, tenants: TENANTS });
    const gateway = await createGateway(config, { log: silentLogger(), env: { PATH: '/nonexistent-dir' } });
    try {
      const file = join(mkdtempSync(join(tmpdir(), 'mcplane-sandbox-reload-')), 'servers.config.yaml');
      writeFileSync(
        file,
        `gateway: { processIsolation: none }\nservers:\n  plain: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(SANDBOX_FIXTURE)}] }\n  boxed: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(SANDBOX_FIXTURE)}], sandbox: {} }\n`,
      );
      const outcome = await new ConfigReloader({ path: file, env: process.env, gateway }).reload('test');
      expect(outcome).toEqual({
        applied: false,
        problems: [
          expect.stringMatching(/^servers\.boxed\.sandbox asks for a sandbox, but bwrap is not installed/),
        ],
      });
      expect([...gateway.servers.keys()]).toEqual(['plain']);
    } finally {
      await gateway.close();
    }
  });

  it('rejects a tenant directory on a server that is not per tenant, and a CPU limit on a shared one', () => {
    const result = ConfigSchema.safeParse({
      servers: {
        fs: sandboxServer({ sandbox: { tenantDir: '/var/lib/mcplane/tenants/{tenant}' } }),
        cpu: sandboxServer({ limits: { tools: { burn: { cpuLimit: '1s' } } } }),
      },
    });
    expect(result.success).toBe(false);
    const issues = result.error?.issues.map((issue) => [issue.path.join('.'), issue.message]);
    expect(issues).toEqual([
      ['servers.fs.sandbox.tenantDir', expect.stringContaining('needs mode: tenant') as unknown],
      [
        'servers.cpu.limits.tools.burn.cpuLimit',
        expect.stringContaining('needs mode: tenant or session') as unknown,
      ],
    ]);
  });

  it('rejects relative mount paths and a tenantDir without {tenant}', () => {
    const result = ConfigSchema.safeParse({
      servers: {
        fs: sandboxServer({ mode: 'tenant', sandbox: { mounts: [{ path: 'data' }], tenantDir: '/srv/x' } }),
      },
    });
    expect(result.error?.issues.map((issue) => issue.message)).toEqual([
      'expected an absolute path',
      'expected a path with {tenant} in it',
    ]);
  });
});

describe.skipIf(unavailable !== undefined)(
  `a sandboxed child${unavailable === undefined ? '' : ` (skipped: ${unavailable})`}`,
  () => {
    it('cannot connect to 127.0.0.1:6379 (Redis), where the same server with network: true can', async () => {
      const http = await startHttpGateway({
        servers: {
          closed: sandboxServer({ sandbox: { mounts: [{ path: dirname(SANDBOX_FIXTURE) }] } }),
          open: sandboxServer({ sandbox: { network: true, mounts: [{ path: dirname(SANDBOX_FIXTURE) }] } }),
        },
        tenants: TENANTS,
      });
      const { client } = await connectHttpClient(http, bearer(acme.key));
      const target = { host: '127.0.0.1', port: 6379 };
      expect(await call(client, 'open__connect', target)).toEqual({ connected: true });
      expect(await call(client, 'closed__connect', target)).toEqual({
        connected: false,
        error: 'ECONNREFUSED',
      });
    });

    it("sees its own tenant's directory, but not another tenant's, the gateway's config or the repository", async () => {
      const root = mkdtempSync(join(tmpdir(), 'mcplane-sandbox-'));
      const configFile = join(root, 'servers.config.yaml');
      writeFileSync(configFile, 'servers: {}\n');
      const http = await startHttpGateway(
        {
          servers: {
            fs: sandboxServer({
              mode: 'tenant',
              sandbox: {
                mounts: [{ path: dirname(SANDBOX_FIXTURE) }],
                tenantDir: join(root, 'tenants', '{tenant}'),
              },
            }),
          },
          tenants: TENANTS,
        },
        { configPath: configFile },
      );
      const acmeClient = (await connectHttpClient(http, bearer(acme.key))).client;
      const globexClient = (await connectHttpClient(http, bearer(globex.key))).client;
      const acmeDir = join(root, 'tenants', 'acme');
      const globexDir = join(root, 'tenants', 'globex');

      expect(await call(acmeClient, 'fs__echo')).toMatchObject({ tenantDir: acmeDir });
      expect(
        await call(acmeClient, 'fs__write', { path: join(acmeDir, 'secret.txt'), text: 'acme only' }),
      ).toEqual({
        ok: true,
      });
      // On the host, where the gateway made it 0700.
      expect(readFileSync(join(acmeDir, 'secret.txt'), 'utf8')).toBe('acme only');
      expect(statSync(acmeDir).mode & 0o777).toBe(0o700);
      expect(await call(globexClient, 'fs__echo')).toMatchObject({ tenantDir: globexDir });
      expect(await call(globexClient, 'fs__read', { path: join(acmeDir, 'secret.txt') })).toEqual({
        ok: false,
        error: 'ENOENT',
      });
      // Nor what lies beside Node's binary (this repository's Node is an npm package).
      const besideNode = join(dirname(dirname(realpathSync(process.execPath))), 'package.json');
      for (const path of [
        configFile,
        MAIN_PACKAGE,
        REPO_PACKAGE,
        ...(existsSync(besideNode) ? [besideNode] : []),
      ]) {
        expect(existsSync(path)).toBe(true);
        expect(await call(acmeClient, 'fs__read', { path })).toEqual({ ok: false, error: 'ENOENT' });
      }
      // The root is read-only, /tmp is its own.
      expect(await call(acmeClient, 'fs__write', { path: '/usr/owned', text: 'x' })).toEqual({
        ok: false,
        error: 'EROFS',
      });
      expect(
        await call(acmeClient, 'fs__write', { path: dirname(SANDBOX_FIXTURE) + '/x', text: 'x' }),
      ).toEqual({
        ok: false,
        error: 'EROFS',
      });
      expect(await call(acmeClient, 'fs__write', { path: '/tmp/scratch', text: 'x' })).toEqual({ ok: true });
      expect(existsSync('/tmp/scratch')).toBe(false);
      // Whoever runs the gateway (root, here), the server holds no capability, and with
      // no_new_privs an exec (even of a setuid file, even as root) cannot give it one.
      const status = await call<{ text: string }>(acmeClient, 'fs__read', { path: '/proc/self/status' });
      expect(status.text).toMatch(/^CapEff:\s+0+$/m);
      expect(status.text).toMatch(/^CapPrm:\s+0+$/m);
      expect(status.text).toMatch(/^NoNewPrivs:\s+1$/m);
    });

    it('runs in a PID namespace of its own, and is stopped at its CPU-seconds limit with a clear error', async () => {
      const http = await startHttpGateway({
        servers: {
          cpu: sandboxServer({
            sandbox: { mounts: [{ path: dirname(SANDBOX_FIXTURE) }], rlimits: { cpu: '1s' } },
            // A second of CPU may take many seconds of wall time on a busy machine.
            timeouts: { startup: '10s', call: '60s', shutdown: '500ms' },
          }),
        },
        tenants: TENANTS,
      });
      const { client } = await connectHttpClient(http, bearer(acme.key));
      // bwrap is the namespace's init (1), the server its first child.
      expect(await call(client, 'cpu__echo')).toMatchObject({ pid: 2 });
      const error = await failure(client.callTool({ name: 'cpu__burn', arguments: { cpuMs: 5000 } }));
      expect(error.code).toBe(-32060);
      expect(error.message).toMatch(
        /Server cpu was stopped at its sandbox CPU-time limit \(sandbox\.rlimits\.cpu: 1 s\) \(signal SIGXCPU|exit code 152\)/,
      );
    });

    it('cannot open more files than its openFiles limit', async () => {
      const http = await startHttpGateway({
        servers: {
          files: sandboxServer({
            sandbox: { mounts: [{ path: dirname(SANDBOX_FIXTURE) }], rlimits: { openFiles: 64 } },
          }),
          unlimited: sandboxServer({ sandbox: { mounts: [{ path: dirname(SANDBOX_FIXTURE) }] } }),
        },
        tenants: TENANTS,
      });
      const { client } = await connectHttpClient(http, bearer(acme.key));
      const limited = await call<{ opened: number; error: string | null }>(client, 'files__open', {
        count: 200,
      });
      expect(limited.error).toBe('EMFILE');
      // Node holds some descriptors of its own (stdio, its event loop).
      expect(limited.opened).toBeLessThan(64);
      expect(await call(client, 'unlimited__open', { count: 200 })).toEqual({ opened: 200, error: null });
    });

    it('is stopped at its memory limit with a clear error, and a new process serves the next call', async () => {
      const http = await startHttpGateway({
        servers: {
          mem: sandboxServer({
            sandbox: { mounts: [{ path: dirname(SANDBOX_FIXTURE) }], rlimits: { memory: '1600mb' } },
          }),
        },
        tenants: TENANTS,
      });
      const { client } = await connectHttpClient(http, bearer(acme.key));
      expect(await call(client, 'mem__echo', { text: 'before' })).toMatchObject({
        arguments: { text: 'before' },
      });
      const [before] = http.gateway.pids();

      const error = await failure(client.callTool({ name: 'mem__allocate', arguments: { mb: 4000 } }));
      expect(error.code).toBe(-32060);
      expect(error.message).toMatch(
        /Server mem was stopped at its sandbox memory limit \(sandbox\.rlimits\.memory: 1600 MB of address space\): it ran out of memory/,
      );

      await eventually(async () => {
        try {
          return (await call(client, 'mem__echo', { text: 'after' })).pid !== undefined;
        } catch {
          return false;
        }
      });
      expect(http.gateway.pids()).not.toContain(before);
    });
  },
);

describe('per-call limits', () => {
  it('a tool with its own timeout fails after it, while the server keeps its longer one', async () => {
    const http = await startHttpGateway({
      servers: { fx: sandboxServer({ limits: { tools: { burn: { timeout: '300ms' } } } }) },
      tenants: TENANTS,
    });
    const { client } = await connectHttpClient(http, bearer(acme.key));
    const error = await failure(client.callTool({ name: 'fx__burn', arguments: { ms: 3000 } }));
    expect(error.code).toBe(-32012);
    expect(error.message).toMatch(/did not answer tools\/call within 300 ms/);
    // The server was told, and the next call is answered.
    expect(await call(client, 'fx__cancellations')).toEqual({ count: 1 });
    expect(await call(client, 'fx__echo', { text: 'next' })).toMatchObject({ arguments: { text: 'next' } });
  });

  it('a result over its tool size limit is refused, naming the setting, and smaller ones pass', async () => {
    const http = await startHttpGateway({
      servers: {
        fx: sandboxServer({ limits: { maxResultSize: '64kb', tools: { big: { maxResultSize: '4kb' } } } }),
      },
      tenants: TENANTS,
    });
    const { client } = await connectHttpClient(http, bearer(acme.key));
    expect((await call<{ text: string }>(client, 'fx__big', { bytes: 1000 })).text).toHaveLength(1000);
    const error = await failure(client.callTool({ name: 'fx__big', arguments: { bytes: 8000 } }));
    expect(error.code).toBe(-32013);
    expect(error.message).toMatch(
      /exceeded the 4096-byte limit \(servers\.fx\.limits\.tools\.big\.maxResultSize\)/,
    );
    // echo falls under the server's 64kb.
    const echoed = await failure(
      client.callTool({ name: 'fx__echo', arguments: { text: 'y'.repeat(70_000) } }),
    );
    expect(echoed.message).toMatch(/65536-byte limit \(servers\.fx\.limits\.maxResultSize\)/);
  });

  it('records the CPU time of a call on tenant and session processes in the call log, and none on a shared one', async () => {
    const captured = capturedLog('info');
    const http = await startHttpGateway(
      {
        servers: {
          // Sandboxed where bwrap works: then the server runs below bwrap and its init.
          own: sandboxServer({
            mode: 'tenant',
            ...(unavailable === undefined
              ? { sandbox: { mounts: [{ path: dirname(SANDBOX_FIXTURE) }] } }
              : {}),
          }),
          session: sandboxServer({ mode: 'session' }),
          everyone: sandboxServer(),
        },
        tenants: TENANTS,
      },
      { log: captured.log },
    );
    const { client } = await connectHttpClient(http, bearer(acme.key));
    for (const server of ['own', 'session', 'everyone'])
      await call(client, `${server}__burn`, { cpuMs: 300 });
    await call(client, 'own__echo');
    await eventually(() => captured.lines().filter((line) => line.msg === 'call').length === 4);
    const calls = captured.lines().filter((line) => line.msg === 'call');
    const [own, session, everyone, echo] = calls.map((line) => line.cpuMs as number | undefined);
    // The fixture spun until it had used 300 ms of CPU; /proc counts in 10 ms ticks, and the
    // whole tree (bwrap and the server's other threads) adds a little.
    for (const burned of [own, session]) {
      expect(burned).toBeGreaterThanOrEqual(290);
      expect(burned).toBeLessThan(3000);
    }
    // A shared process's time is every tenant's: it is not told apart per call.
    expect(everyone).toBeUndefined();
    expect(echo).toBeLessThan(own as number);
  });

  it('a call over its CPU limit is cancelled upstream and fails with a clear error', async () => {
    const http = await startHttpGateway({
      servers: {
        fx: sandboxServer({
          mode: 'tenant',
          limits: { tools: { burn: { cpuLimit: '200ms' } } },
          timeouts: { startup: '10s', call: '60s', shutdown: '500ms' },
        }),
      },
      tenants: TENANTS,
    });
    const { client } = await connectHttpClient(http, bearer(acme.key));
    const error = await failure(client.callTool({ name: 'fx__burn', arguments: { cpuMs: 20_000 } }));
    expect(error.code).toBe(-32061);
    expect(error.message).toMatch(
      /tools\/call burn used \d+ ms of CPU time, over its limit of 200 ms \(servers\.fx\.limits\.tools\.burn\.cpuLimit\); the call was cancelled/,
    );
    // The server was told (and stopped spinning), and it still serves.
    expect(await call(client, 'fx__cancellations')).toEqual({ count: 1 });
    expect(await call(client, 'fx__echo', { text: 'next' })).toMatchObject({ arguments: { text: 'next' } });
  });
});
