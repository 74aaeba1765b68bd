/**
 * What the long-running commands (serve, stdio) share: parsing their flags, with the common
 * `--config` and `--log-level` and their environment defaults, and loading the config, each
 * failure printed for the user with the right exit code.
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { ConfigError } from '../config/config-error.ts';
import { loadConfig } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import type { CommandIo } from './command-io.ts';

export type CommandSetup = {
  readonly config: Config;
  readonly configPath: string;
  readonly logLevel: string;
  readonly values: Record<string, string | boolean | undefined>;
};

/** Parses flags and loads the config; returns an exit code when the command should stop. */
export async function setUpCommand(
  args: string[],
  io: CommandIo,
  usage: string,
  options: ParseArgsOptionsConfig,
): Promise<CommandSetup | number> {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: 'string', default: io.env.MCPLANE_CONFIG ?? 'servers.config.yaml' },
        'log-level': { type: 'string', default: io.env.MCPLANE_LOG_LEVEL ?? 'info' },
        ...options,
      },
    }));
  } catch (error) {
    io.stderr(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  const configPath = values.config as string;
  try {
    const config = await loadConfig(configPath, io.env);
    return {
      config,
      configPath,
      logLevel: values['log-level'] as string,
      values: values as CommandSetup['values'],
    };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`${error.format()}\n`);
    return 1;
  }
}
