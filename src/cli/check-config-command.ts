import { ConfigError } from '../config/config-error.ts';
import { loadConfig } from '../config/load-config.ts';
import type { CommandIo } from './command-io.ts';

const USAGE = 'usage: mcplane check-config <file>\n';

/**
 * `mcplane check-config <file>`: validates a config file without starting anything.
 * Exit codes: 0 valid, 1 invalid (every problem on stderr), 2 wrong usage.
 */
export async function checkConfigCommand(args: string[], io: CommandIo): Promise<number> {
  const [file, ...extra] = args;
  if (file === undefined || extra.length > 0) {
    io.stderr(USAGE);
    return 2;
  }
  try {
    const config = await loadConfig(file, io.env);
    const servers = count(Object.keys(config.servers).length, 'server');
    const tenants = count(Object.keys(config.tenants).length, 'tenant');
    io.stdout(`ok: ${file} (${servers}, ${tenants})\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`${error.format()}\n`);
    return 1;
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
