/**
 * `mcplane stdio --config <file> --tenant <id>`: the gateway as a local stdio MCP server for one
 * desktop client, aggregating the config's pooled servers. stdout carries only MCP; the log
 * goes to stderr.
 */
import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ConfigError } from '../config/config-error.ts';
import { loadConfig } from '../config/load-config.ts';
import { createGateway } from '../gateway.ts';
import { localPrincipal } from '../identity/principal.ts';
import { bindTransport } from '../ingress/transport-binding.ts';
import { createLogger } from '../log.ts';
import type { CommandIo } from './command-io.ts';

const USAGE = 'usage: mcplane stdio --config <file> [--tenant <id>] [--log-level info]\n';

export async function stdioCommand(args: string[], io: CommandIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: 'string', default: io.env.MCPLANE_CONFIG ?? 'servers.config.yaml' },
        tenant: { type: 'string', default: io.env.MCPLANE_TENANT },
        'log-level': { type: 'string', default: io.env.MCPLANE_LOG_LEVEL ?? 'info' },
      },
    }));
  } catch (error) {
    io.stderr(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  let config;
  try {
    config = await loadConfig(values.config, io.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`${error.format()}\n`);
    return 1;
  }
  const tenant = values.tenant ?? soleTenant(Object.keys(config.tenants));
  if (!tenant || !config.tenants[tenant]) {
    io.stderr(`mcplane stdio: --tenant must name a tenant of ${values.config}\n${USAGE}`);
    return 2;
  }
  const log = createLogger({ level: values['log-level'] });
  const gateway = await createGateway(config, { log, env: io.env });
  const session = gateway.connect(localPrincipal(tenant));
  const closed = new Promise<void>((resolve) => {
    session.onclose = resolve;
  });
  await bindTransport(session, new StdioServerTransport(), log);
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
