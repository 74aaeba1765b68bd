/** The `mcplane` command line. Each command returns its exit code. */
import type { CommandIo } from './command-io.ts';

const USAGE = `usage: mcplane <command> [options]

commands:
  serve          serve the configured servers over Streamable HTTP (and legacy SSE)
  bridge         relay a local stdio MCP client to a remote MCP server over HTTP
  stdio          serve the configured servers to one local MCP client over stdio
  check-config   validate a servers.config.yaml
  keys new       create an API key for a tenant
  store          migrate the store, rotate its master key, or make a new master key
  audit verify   check an audit log's hash chain and checkpoint signatures
  admin          create-key: make an admin (or member) API key in the store, shown once
  policy test    run table cases against a policy folder
  policy explain show which rule decides an input, and why
`;

type Command = (args: string[], io: CommandIo) => number | Promise<number>;

// Loaded on demand: a desktop client starts `mcplane bridge` on every launch, and should not
// wait for the gateway's modules to load.
const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve-command.ts')).serveCommand,
  bridge: async () => (await import('./bridge-command.ts')).bridgeCommand,
  stdio: async () => (await import('./stdio-command.ts')).stdioCommand,
  'check-config': async () => (await import('./check-config-command.ts')).checkConfigCommand,
  keys: async () => (await import('./keys-command.ts')).keysCommand,
  store: async () => (await import('./store-command.ts')).storeCommand,
  audit: async () => (await import('./audit-command.ts')).auditCommand,
  admin: async () => (await import('./admin-command.ts')).adminCommand,
  policy: async () => (await import('./policy-command.ts')).policyCommand,
};

async function main(argv: string[]): Promise<number> {
  const io: CommandIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
  };
  const [name, ...args] = argv;
  const load = name === undefined ? undefined : commands[name];
  if (!load) {
    io.stderr(
      name === undefined || name === '--help' || name === 'help'
        ? USAGE
        : `unknown command: ${name}\n${USAGE}`,
    );
    return name === '--help' || name === 'help' ? 0 : 2;
  }
  return (await load())(args, io);
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
