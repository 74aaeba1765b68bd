/** The `gateway.http` block: how `mcplane serve` listens and what it lets in. */
import { z } from 'zod';
import { ByteSize, Duration } from './durations.ts';

export const HttpSchema = z
  .object({
    host: z.string().default('127.0.0.1').meta({ description: 'Address to bind; loopback by default.' }),
    port: z.number().int().min(0).max(65_535).default(8080),
    publicUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .meta({
        description: 'The URL clients use, when behind a proxy; used for the protected-resource metadata.',
      }),
    allowedHosts: z.array(z.string().min(1)).default(['localhost', '127.0.0.1', '[::1]']).meta({
      description:
        'Host header names accepted (port ignored): DNS-rebinding protection. Add your public host name when not on loopback.',
    }),
    allowedOrigins: z.array(z.string().min(1)).default([]).meta({
      description:
        'Browser origins accepted besides those on an allowed host (e.g. https://app.example.com); "*" accepts any.',
    }),
    cors: z
      .object({
        origins: z.array(z.string().min(1)).default([]).meta({ description: 'Origins given CORS headers.' }),
        maxAge: Duration.default(600_000),
      })
      .strict()
      .prefault({}),
    maxBodySize: ByteSize.default(4 * 1024 * 1024).meta({
      description: 'Largest request body; larger is 413.',
    }),
    sessionIdleTimeout: Duration.default(30 * 60_000).meta({
      description: 'A session with no request for this long is closed and frees what it holds.',
    }),
    maxJsonDepth: z.number().int().min(3).max(1_000).default(64).meta({
      description:
        'Deepest nesting of objects and arrays a client message may have (HTTP and stdio); deeper is refused with -32600.',
    }),
    maxEventsPerStream: z
      .number()
      .int()
      .positive()
      .default(1_000)
      .meta({ description: 'Events kept per session for resuming a dropped stream with Last-Event-ID.' }),
    maxEventBytesPerSession: ByteSize.default(8 * 1024 * 1024).meta({
      description:
        'Bytes of events one session keeps for Last-Event-ID resumption; past it the oldest are dropped.',
    }),
    maxEventBytes: ByteSize.default(64 * 1024 * 1024).meta({
      description:
        'Bytes of events all sessions together keep for resumption; past it the oldest in the gateway are dropped.',
    }),
    streamHighWaterMark: ByteSize.default(4 * 1024 * 1024).meta({
      description:
        'Bytes one SSE stream may hold that its client has not read; a message that would go past it closes the stream.',
    }),
    streamStallTimeout: Duration.default(30_000).meta({
      description: 'An SSE stream holding unread bytes whose client reads nothing for this long is closed.',
    }),
    shutdownGrace: Duration.default(10_000).meta({
      description: 'On SIGTERM, how long in-flight calls may take to finish before children are stopped.',
    }),
  })
  .strict();

export type HttpConfig = z.output<typeof HttpSchema>;
