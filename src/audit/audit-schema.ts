/**
 * The `audit:` block of servers.config.yaml, for the integrator to add to the config schema.
 * Relative `dir` and `keyFile` are for the composition root to resolve (against the config
 * file's directory, like the other paths in the file).
 */
import { z } from 'zod';
import { ByteSize, Duration } from '../config/durations.ts';
import { AUDIT_LOG_DEFAULTS } from './audit-log.ts';
import { DEFAULT_AUDIT_FILE, DEFAULT_ROTATE_BYTES } from './jsonl-file-sink.ts';

export const AuditSchema = z
  .object({
    enabled: z.boolean().default(false).meta({ description: 'Write the tamper-evident audit log.' }),
    sinks: z
      .array(z.enum(['file', 'store']))
      .min(1)
      .refine((sinks) => new Set(sinks).size === sinks.length, 'each sink at most once')
      .default(['file'])
      .meta({
        description:
          'Where records go: `file` (JSONL in `dir`), `store` (the store database, which the admin API queries fastest), or both, each holding the whole chain.',
      }),
    dir: z
      .string()
      .min(1)
      .default('audit')
      .meta({ description: 'Directory of the log files (and of the generated key).' }),
    file: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\.jsonl$/, 'expected a plain file name ending in .jsonl')
      .default(DEFAULT_AUDIT_FILE)
      .meta({ description: 'The active file; rotated files are named <name>-<first seq>.jsonl.' }),
    rotateBytes: ByteSize.default(DEFAULT_ROTATE_BYTES).meta({
      description: 'Rotate the active file before it would grow past this size.',
    }),
    checkpointEvery: z
      .number()
      .int()
      .positive()
      .max(1_000_000)
      .default(AUDIT_LOG_DEFAULTS.checkpointEvery)
      .meta({ description: 'A signed checkpoint after this many records (and one at shutdown).' }),
    flushMs: Duration.default(AUDIT_LOG_DEFAULTS.flushMs)
      .refine((ms) => ms <= 60_000, 'flushMs must be at most 60s')
      .meta({ description: 'Longest time a record waits in memory before it is written.' }),
    flushRecords: z
      .number()
      .int()
      .positive()
      .default(AUDIT_LOG_DEFAULTS.flushRecords)
      .meta({ description: 'Write at once when this many records are waiting.' }),
    maxBacklog: z.number().int().positive().default(AUDIT_LOG_DEFAULTS.maxBacklog).meta({
      description:
        'Most records held in memory while the disk is slow or failing; past it events are counted in a `dropped` record, never lost silently.',
    }),
    keepArgs: z.boolean().default(false).meta({
      description: 'Keep call arguments (redacted) in records; otherwise only their SHA-256 digest.',
    }),
    keyFile: z.string().min(1).optional().meta({
      description:
        'The Ed25519 signing key (PKCS#8 PEM, mode 0600) when MCPLANE_AUDIT_KEY is not set; generated when absent. Default <dir>/audit.key.',
    }),
    sync: z.boolean().default(true).meta({ description: 'fdatasync after every write.' }),
  })
  .strict()
  .refine((audit) => audit.flushRecords <= audit.maxBacklog, {
    message: 'flushRecords must not exceed maxBacklog',
    path: ['flushRecords'],
  });

export type AuditConfig = z.output<typeof AuditSchema>;
