/**
 * A server's `sandbox:` (what its processes may see and use, docs/sandbox.md) and its `limits:`
 * (what one call may take: time, result size, CPU), as parts of the one config schema.
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { ByteSize, Duration } from '../config/durations.ts';

const AbsolutePath = z
  .string()
  .min(1)
  .refine((path) => isAbsolute(path), 'expected an absolute path')
  .refine((path) => !path.split('/').includes('..'), 'must not contain ".."');

export const MountSchema = z
  .object({
    path: AbsolutePath.meta({
      description: 'A directory (or file) of the host, seen at the same path inside.',
    }),
    writable: z.boolean().default(false).meta({ description: 'Read-write; read-only unless set.' }),
  })
  .strict();

export const RlimitsSchema = z
  .object({
    memory: ByteSize.optional().meta({
      description:
        'Address space (RLIMIT_AS), not resident memory: Node reserves about 1.2gb of address space at start, so a Node server needs at least 1.5gb.',
    }),
    cpu: Duration.refine((ms) => ms >= 1_000, 'expected at least 1s')
      .optional()
      .meta({
        description: 'CPU time over the whole life of each process (RLIMIT_CPU, whole seconds, rounded up).',
      }),
    processes: z.number().int().positive().optional().meta({
      description:
        "Processes and threads of the child's user (RLIMIT_NPROC). The kernel does not apply it to root: a gateway running as root gets no processes limit from it.",
    }),
    openFiles: z
      .number()
      .int()
      .positive()
      .optional()
      .meta({ description: 'Open file descriptors per process (RLIMIT_NOFILE).' }),
  })
  .strict();

export const SandboxSchema = z
  .object({
    network: z.boolean().default(false).meta({
      description:
        'Let the server reach the network; without it, it has a loopback of its own and nothing else.',
    }),
    mounts: z.array(MountSchema).default([]).meta({
      description:
        "Host paths the server sees (besides /usr, the libraries, a few files of /etc and Node's own install). Nothing else of the host is visible: not the gateway's config, store or working directory.",
    }),
    tenantDir: AbsolutePath.refine((path) => path.includes('{tenant}'), 'expected a path with {tenant} in it')
      .optional()
      .meta({
        description:
          "mode: tenant only. A directory per tenant, e.g. /var/lib/mcplane/tenants/{tenant}: the gateway creates it (mode 0700) before a tenant's process starts and mounts it writable; the process finds it in MCPLANE_TENANT_DIR and starts in it. No tenant's process sees another's.",
      }),
    rlimits: RlimitsSchema.prefault({}).meta({
      description: 'Resource limits of each process, set with prlimit.',
    }),
  })
  .strict();

const ToolLimitsSchema = z
  .object({
    timeout: Duration.optional().meta({
      description: 'A call of this tool until its result; instead of timeouts.call.',
    }),
    maxResultSize: ByteSize.optional().meta({
      description: "The largest result of this tool; instead of the server's.",
    }),
    cpuLimit: Duration.optional().meta({
      description: "CPU time one call of this tool may use; instead of the server's.",
    }),
  })
  .strict();

export const CallLimitsSchema = z
  .object({
    maxResultSize: ByteSize.optional().meta({
      description:
        'The largest response of one call, as the server wrote it (at most gateway.maxMessageSize, which bounds every message).',
    }),
    cpuLimit: Duration.optional().meta({
      description:
        'CPU time one call may use, measured on the process that serves it (its whole process tree); past it the call is cancelled upstream and fails. Only mode: tenant or session, where a process serves one tenant or session; a call that shares its process with another call is not measured.',
    }),
    tools: z.record(z.string().min(1), ToolLimitsSchema).default({}).meta({
      description: 'Per tool (by its name on the server, not name-spaced): timeout, maxResultSize, cpuLimit.',
    }),
  })
  .strict();

export type SandboxConfig = z.output<typeof SandboxSchema>;
export type Rlimits = z.output<typeof RlimitsSchema>;
export type CallLimitsConfig = z.output<typeof CallLimitsSchema>;

type ServerDraft = {
  readonly mode: 'shared' | 'tenant' | 'session';
  readonly sandbox?: SandboxConfig | undefined;
  readonly limits: CallLimitsConfig;
};

/** Problems of a server's sandbox and limits that depend on its other settings (YAML path below the server). */
export function sandboxIssues(server: ServerDraft): { message: string; path: (string | number)[] }[] {
  const issues: { message: string; path: (string | number)[] }[] = [];
  if (server.sandbox?.tenantDir !== undefined && server.mode !== 'tenant') {
    issues.push({
      message: `tenantDir gives each tenant's pool its own directory, so it needs mode: tenant (this server is mode: ${server.mode})`,
      path: ['sandbox', 'tenantDir'],
    });
  }
  // A shared process serves everyone at once: its CPU time cannot be told apart per call.
  if (server.mode === 'shared') {
    const cpuPaths: (string | number)[][] = [
      ...(server.limits.cpuLimit === undefined ? [] : [['limits', 'cpuLimit']]),
      ...Object.entries(server.limits.tools).flatMap(([tool, limits]) =>
        limits.cpuLimit === undefined ? [] : [['limits', 'tools', tool, 'cpuLimit']],
      ),
    ];
    for (const path of cpuPaths) {
      issues.push({
        message:
          'cpuLimit is measured on a process that serves one tenant or one session, so it needs mode: tenant or session (this server is mode: shared)',
        path,
      });
    }
  }
  return issues;
}
