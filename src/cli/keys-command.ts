/**
 * `mcplane keys new --tenant <id> [--pepper-env NAME] [--expires <ISO time>] [--scopes a,b]`
 *
 * Makes a key and prints it once, with the config entry (id and hash, never the key) to paste
 * under `tenants.<id>.apiKeys`. Everything on stdout is YAML, the key sitting in a comment, so
 * the output can be pasted or parsed as it is.
 */
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { z } from 'zod';
import { generateApiKey } from '../identity/api-key-format.ts';
import { hashApiKey } from '../identity/api-key-hash.ts';
import type { CommandIo } from './command-io.ts';

const USAGE = `Usage: mcplane keys new --tenant <id> [--pepper-env MCPLANE_KEY_PEPPER]
                        [--expires 2027-01-01T00:00:00Z] [--scopes tools:call,resources:read]
`;
const DEFAULT_PEPPER_ENV = 'MCPLANE_KEY_PEPPER';
const TENANT_ID = /^[a-z][a-z0-9-]{0,62}$/;
const IsoTime = z.iso.datetime({ offset: true });

type NewKeyRequest = {
  tenant: string;
  pepperEnv: string;
  pepperEnvGiven: boolean;
  expires?: string;
  scopes?: string[];
};

/** Thrown for a usage problem; its message is printed with the usage text. */
class UsageError extends Error {}

function parseRequest(args: readonly string[]): NewKeyRequest {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      'pepper-env': { type: 'string' },
      expires: { type: 'string' },
      scopes: { type: 'string' },
    },
  });
  if (positionals.length !== 1 || positionals[0] !== 'new')
    throw new UsageError('expected the subcommand "new"');
  if (values.tenant === undefined || !TENANT_ID.test(values.tenant)) {
    throw new UsageError('--tenant needs a tenant id (lowercase letters, digits and dashes)');
  }
  const request: NewKeyRequest = {
    tenant: values.tenant,
    pepperEnv: values['pepper-env'] ?? DEFAULT_PEPPER_ENV,
    pepperEnvGiven: values['pepper-env'] !== undefined,
  };
  if (values.expires !== undefined) {
    if (!IsoTime.safeParse(values.expires).success) {
      throw new UsageError('--expires needs an ISO 8601 time with an offset, such as 2027-01-01T00:00:00Z');
    }
    if (Date.parse(values.expires) <= Date.now()) throw new UsageError('--expires is in the past');
    request.expires = values.expires;
  }
  if (values.scopes !== undefined) {
    const scopes = values.scopes.split(',').map((scope) => scope.trim());
    if (scopes.some((scope) => scope === '' || /\s/.test(scope))) {
      throw new UsageError('--scopes needs a comma-separated list such as tools:call,resources:read');
    }
    request.scopes = scopes;
  }
  return request;
}

/** The pepper named by the request, or undefined for a plain sha256 hash. */
function pepperFor(request: NewKeyRequest, io: CommandIo): string | undefined {
  const pepper = io.env[request.pepperEnv];
  if (pepper === undefined || pepper === '') {
    if (request.pepperEnvGiven) throw new UsageError(`${request.pepperEnv} is not set`);
    return undefined;
  }
  // The gateway's schema refuses a shorter pepper, so a hash made with one would never verify.
  if (pepper.length < 32) throw new UsageError(`${request.pepperEnv} must hold at least 32 characters`);
  return pepper;
}

function newKey(request: NewKeyRequest, io: CommandIo): void {
  const pepper = pepperFor(request, io);
  const { key, id } = generateApiKey();
  const entry = {
    id,
    hash: hashApiKey(key, pepper),
    ...(request.expires === undefined ? {} : { expiresAt: request.expires }),
    ...(request.scopes === undefined ? {} : { scopes: request.scopes }),
  };
  io.stderr(
    'This key is shown once: store it now (a secret manager, not the config). mcplane keeps only its hash.\n',
  );
  if (pepper === undefined) {
    io.stderr(
      `Note: ${request.pepperEnv} is not set, so the hash is plain sha256. With a pepper (set it, and ` +
        'gateway.auth.apiKeys.pepper) a leaked config cannot be used to confirm leaked keys offline.\n',
    );
  }
  io.stdout(
    `# API key for tenant "${request.tenant}", shown once:\n#   ${key}\n` +
      `# Paste under tenants.${request.tenant}.apiKeys in the config:\n` +
      stringify([entry]),
  );
}

/** Runs `mcplane keys …` (arguments after `keys`); returns the process exit code. */
export function keysCommand(args: readonly string[], io: CommandIo): number {
  try {
    newKey(parseRequest(args), io);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error)) {
      io.stderr(`mcplane keys: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}
