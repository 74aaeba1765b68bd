/** The `mcplane` command line. Each command returns its exit code. */
import { bridgeCommand } from './bridge-command.ts';
import { checkConfigCommand } from './check-config-command.ts';
import type { CommandIo } from './command-io.ts';
import { keysCommand } from './keys-command.ts';
import { serveCommand } from './serve-command.ts';
import { stdioCommand } from './stdio-command.ts';

const USAGE = `usage: mcplane <command> [options]

commands:
  serve          serve the configured servers over Streamable HTTP (and legacy SSE)
  bridge         relay a local stdio MCP client to a remote MCP server over HTTP
  stdio          serve the configured servers to one local MCP client over stdio
  check-config   validate a servers.config.yaml
  keys new       create an API key for a tenant
`;

const commands: Record<string, (args: string[], io: CommandIo) => number | Promise<number>> = {
  serve: serveCommand,
  bridge: bridgeCommand,
  stdio: stdioCommand,
  'check-config': checkConfigCommand,
  keys: keysCommand,
};

async function main(argv: string[]): Promise<number> {
  const io: CommandIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
  };
  const [name, ...args] = argv;
  const command = name === undefined ? undefined : commands[name];
  if (!command) {
    io.stderr(
      name === undefined || name === '--help' || name === 'help'
        ? USAGE
        : `unknown command: ${name}\n${USAGE}`,
    );
    return name === '--help' || name === 'help' ? 0 : 2;
  }
  return command(args, io);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`mcplane: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
