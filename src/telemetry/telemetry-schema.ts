/**
 * The observability blocks of `gateway:` in servers.config.yaml: `admin` (the listener that
 * serves /metrics), `metrics` (what is counted and how many label values it may hold), `logs`
 * (the one line per call) and `tracing` (which stage spans a traced call gets; whether traces are
 * exported at all is the standard OTEL_* variables' business). All four apply at start; a reload
 * reports them as needing a restart.
 */
import { z } from 'zod';

/** `host:port`, the host a name, an IPv4 address or a bracketed IPv6 address. */
const LISTEN = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

export type ListenAddress = { readonly host: string; readonly port: number };

const Listen = z
  .string()
  .regex(LISTEN, 'expected host:port, such as 127.0.0.1:9464 or [::1]:9464')
  .transform((value, ctx): ListenAddress => {
    const [, host, port] = LISTEN.exec(value) as RegExpExecArray;
    const number = Number(port);
    if (number > 65_535) ctx.addIssue({ code: 'custom', message: 'the port must be at most 65535' });
    return { host: (host as string).replace(/^\[(.*)\]$/, '$1'), port: number };
  });

export const AdminListenerSchema = z
  .object({
    listen: Listen.optional().meta({
      description:
        'Where the admin listener binds (host:port, e.g. 127.0.0.1:9464); it serves GET /metrics with no credential, so bind it to loopback or a network only your Prometheus reaches. Unset: no admin listener and no /metrics.',
    }),
  })
  .strict();

export const MetricsSchema = z
  .object({
    enabled: z.boolean().default(true).meta({ description: 'Count calls, sessions and pools.' }),
    tenantLabel: z.boolean().default(true).meta({
      description: 'Label series with the tenant id; turn off when there are many tenants.',
    }),
    toolLabel: z.boolean().default(true).meta({
      description:
        'Label call series with the tool name (only tools a server lists, never what a client typed).',
    }),
    maxTenants: z.number().int().positive().max(100_000).default(1_000).meta({
      description: 'Distinct tenant label values; tenants seen after that are counted as `other`.',
    }),
    maxTools: z.number().int().positive().max(100_000).default(200).meta({
      description: 'Distinct tool label values; tools seen after that are counted as `other`.',
    }),
  })
  .strict();

export const LogsSchema = z
  .object({
    calls: z.enum(['info', 'debug', 'off']).default('info').meta({
      description:
        'The level of the one log line per call (request id, trace id, tenant, principal, server, tool, outcome, latency); off writes none.',
    }),
  })
  .strict();

export const TracingSchema = z
  .object({
    stageSpans: z.enum(['notable', 'all']).default('notable').meta({
      description:
        'Spans for the policy and guard stages of a traced call: `notable` makes one only when the stage denied, ran in dry-run, found something or took 1 ms or more (the request span carries every decision and finding either way); `all` makes one for every stage that ran, at about 10 µs of gateway CPU per span.',
    }),
  })
  .strict();

export type AdminListenerSettings = z.output<typeof AdminListenerSchema>;
export type MetricsSettings = z.output<typeof MetricsSchema>;
export type LogsSettings = z.output<typeof LogsSchema>;
