/**
 * Children under bubblewrap (`gateway.processIsolation`): they answer over their stdio as usual,
 * the stop ladder still ends them (and a SIGTERM handler still gets to run), and nothing they
 * started outlives the gateway, not even when `mcplane serve` is killed with SIGKILL.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.ts';
import { resolveProcessIsolation } from '../../src/upstream/process-isolation.ts';
import {
  FIXTURE,
  GRANDCHILD_FIXTURE,
  connectClient,
  eventually,
  fixtureServer,
  startGateway,
  textJson,
} from '../support/harness.ts';
import { commandOf, descendantsOf, isAlive } from '../support/process-tree.ts';
import { killServes, startServe, writeServeConfig } from '../support/serve-cli.ts';

const isolation = resolveProcessIsolation('auto', process.env);
const unavailable = isolation.kind === 'none' ? isolation.reason : undefined;

let gateway: Gateway | undefined;
let tree: number[] = [];

afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  killServes();
  // Nothing a test started outlives it.
  await eventually(() => tree.every((pid) => !isAlive(pid)), 10_000);
  tree = [];
});

const single = { min: 1, max: 1, maxInflight: 8 };
const isolated = { processIsolation: 'bwrap' };

/** Every process below the gateway's children (bwrap and what runs inside it). */
function processTree(target: Gateway): number[] {
  return target.pids().flatMap((pid) => [pid, ...descendantsOf(pid)]);
}

describe.skipIf(unavailable !== undefined)(
  `children under bubblewrap${unavailable === undefined ? '' : ` (skipped: ${unavailable})`}`,
  () => {
    it('answer calls over stdio, in a PID namespace of their own', async () => {
      gateway = await startGateway({ gateway: isolated, servers: { fx: fixtureServer({ pool: single }) } });
      const { client } = await connectClient(gateway);
      const echoed = textJson<{ arguments: unknown; pid: number }>(
        await client.callTool({ name: 'fx__echo', arguments: { text: 'through bwrap' } }),
      );
      expect(echoed.arguments).toEqual({ text: 'through bwrap' });
      // bwrap is init (1) in the namespace, the server its first child.
      expect(echoed.pid).toBe(2);
      tree = processTree(gateway);
      expect(tree.map((pid) => commandOf(pid))).toEqual(expect.arrayContaining(['bwrap', 'node']));
    });

    it('get the SIGTERM step of the stop ladder themselves, and a handler gets to finish', async () => {
      const log = join(mkdtempSync(join(tmpdir(), 'mcplane-sigterm-')), 'sigterm.log');
      gateway = await startGateway({
        gateway: isolated,
        servers: {
          fx: fixtureServer({
            env: { FIXTURE_GRACEFUL_SIGTERM_LOG: log },
            pool: single,
            timeouts: { startup: '10s', call: '10s', shutdown: '2s' },
          }),
        },
      });
      tree = processTree(gateway);
      await gateway.close();
      gateway = undefined;
      // bwrap dies of SIGTERM and takes its namespace down with SIGKILL: had the group been
      // signalled, the handler's 300 ms would never have passed.
      expect(readFileSync(log, 'utf8')).toBe('finished after SIGTERM\n');
      // The namespace's init leaves a moment after the server it ran, on a busy machine.
      await eventually(() => tree.every((pid) => !isAlive(pid)), 5_000);
    });

    it('that ignore SIGTERM are ended by SIGKILL, grandchildren included', async () => {
      gateway = await startGateway({
        gateway: isolated,
        servers: {
          deaf: fixtureServer({ env: { FIXTURE_IGNORE_SIGTERM: '1' }, pool: single }),
          wrapped: fixtureServer({ command: 'bash', args: [GRANDCHILD_FIXTURE], pool: single }),
        },
      });
      const { client } = await connectClient(gateway);
      await client.callTool({ name: 'wrapped__echo', arguments: {} });
      tree = processTree(gateway);
      expect(tree.map((pid) => commandOf(pid))).toContain('sleep');
      await gateway.close();
      gateway = undefined;
      await eventually(() => tree.every((pid) => !isAlive(pid)), 10_000);
    });

    it('leave nothing running when mcplane serve is killed with SIGKILL', async () => {
      const serve = await startServe(
        writeServeConfig(`gateway:
  processIsolation: bwrap
  auth: { anonymous: { tenant: local } }
servers:
  wrapped:
    command: bash
    args: [${JSON.stringify(GRANDCHILD_FIXTURE)}]
    pool: { min: 2, max: 2 }
  own:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(FIXTURE)}]
    mode: session
    pool: { min: 1, max: 2 }
tenants:
  local: { name: Local }
`),
      );
      const cli = serve.child.pid as number;
      // Two wrapped servers, each with its sleeping grandchild, and one warm spare.
      await eventually(() => descendantsOf(cli).filter((pid) => commandOf(pid) === 'sleep').length === 2);
      tree = descendantsOf(cli);
      expect(tree.filter((pid) => commandOf(pid) === 'node')).toHaveLength(3);

      serve.child.kill('SIGKILL');
      await serve.exited;
      await eventually(() => tree.every((pid) => !isAlive(pid)), 10_000);
    });
  },
);
