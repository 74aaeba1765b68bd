/**
 * `mcplane stdio --config <file> --tenant <id>`: the gateway as a local stdio MCP server for one
 * desktop client, aggregating the config's pooled servers. stdout carries only MCP; the log
 * goes to stderr.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createGateway } from '../gateway.ts';
import { localPrincipal } from '../identity/principal.ts';
import { bindTransport } from '../ingress/transport-binding.ts';
import { createLogger } from '../log.ts';
import type { CommandIo } from './command-io.ts';
import { setUpCommand } from './command-setup.ts';

const USAGE = 'usage: mcplane stdio --config <file> [--tenant <id>] [--log-level info]\n';

export async function stdioCommand(args: string[], io: CommandIo): Promise<number> {
  const setup = await setUpCommand(args, io, USAGE, {
    tenant: { type: 'string', default: io.env.MCPLANE_TENANT },
  });
  if (typeof setup === 'number') return setup;
  const { config, configPath, logLevel } = setup;
  const tenant = (setup.values.tenant as string | undefined) ?? soleTenant(Object.keys(config.tenants));
  if (!tenant || !config.tenants[tenant]) {
    io.stderr(`mcplane stdio: --tenant must name a tenant of ${configPath}\n${USAGE}`);
    return 2;
  }
  const log = createLogger({ level: logLevel });
  const gateway = await createGateway(config, { log, env: io.env, configPath: setup.configPath });
  const session = gateway.connect(localPrincipal(tenant));
  const closed = new Promise<void>((resolve) => session.onClosed(resolve));
  // The SDK's stdio transport parses each line itself, so nesting is checked on the parsed message.
  await bindTransport(session, new StdioServerTransport(), log, {
    maxJsonDepth: config.gateway.http.maxJsonDepth,
  });
  const stop = (): void => {
    void session.close();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.once('end', stop);
  await closed;
  await gateway.close();
  return 0;
}

function soleTenant(tenants: string[]): string | undefined {
  return tenants.length === 1 ? tenants[0] : undefined;
}
