/**
 * Whether and how traces are exported: the OpenTelemetry Node SDK (`@opentelemetry/sdk-node`),
 * configured by the standard OTEL_* variables (OTEL_EXPORTER_OTLP_ENDPOINT, …_PROTOCOL,
 * OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, OTEL_PROPAGATORS, OTEL_BSP_*, …), which the SDK itself
 * reads. With none of the variables that ask for traces set, no SDK is started: the API's no-op
 * tracer is never even asked for, and the pipeline has no tracing stage at all.
 *
 * Only traces: the SDK's metrics (ours are prom-client's, on /metrics) and logs (pino) stay off,
 * and no auto-instrumentation is loaded (spans come from the pipeline, which knows MCP). The
 * default export, OTLP/HTTP protobuf, serializes with span-export.ts's faster serializer.
 */
import {
  context,
  diag,
  DiagLogLevel,
  propagation,
  trace,
  type DiagLogger,
  type Tracer,
} from '@opentelemetry/api';
import { startNodeSdk } from '@opentelemetry/sdk-node';
import type { Logger } from '../log.ts';
import { batchSpanProcessor, defaultOtlpExport, tracesExporters } from './span-export.ts';

type StartOptions = NonNullable<Parameters<typeof startNodeSdk>[0]>;
/** The SDK's span processors (the type is the SDK's own, reached through its start options). */
export type SpanProcessors = NonNullable<
  Extract<StartOptions, { spanProcessors?: unknown }>['spanProcessors']
>;

export type Tracing = {
  readonly tracer: Tracer;
  /** Exports what is still buffered, then stops the SDK and unregisters it. */
  shutdown(): Promise<void>;
};

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Whether the environment asks for traces: an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), an exporter named in OTEL_TRACES_EXPORTER, or an SDK
 * config file (OTEL_CONFIG_FILE); and neither OTEL_SDK_DISABLED=true nor
 * OTEL_TRACES_EXPORTER=none. The SDK's own default (export to localhost:4318 when nothing is
 * set) is not followed: tracing is opt-in.
 */
export function tracingRequested(env: Env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = tracesExporters(env);
  if (exporters.includes('none')) return false;
  if (exporters.length > 0) return true;
  return [env.OTEL_EXPORTER_OTLP_ENDPOINT, env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, env.OTEL_CONFIG_FILE].some(
    (value) => value !== undefined && value.trim() !== '',
  );
}

/**
 * Starts the SDK when the environment asks for traces, or when `spanProcessors` are given (tests
 * and the bench); otherwise returns undefined and starts nothing. Process-wide: the SDK registers
 * itself with the OpenTelemetry API's globals, so call it once per process.
 */
export function startTracing(
  env: Env,
  options: { readonly version: string; readonly log: Logger; readonly spanProcessors?: SpanProcessors },
): Tracing | undefined {
  if (options.spanProcessors === undefined && !tracingRequested(env)) return undefined;
  // The default export (OTLP/HTTP protobuf) gets our serializer; anything else is the SDK's own.
  const spanProcessors =
    options.spanProcessors ??
    (defaultOtlpExport(env)
      ? [batchSpanProcessor(env, (message) => options.log.warn({ component: 'opentelemetry' }, message))]
      : undefined);
  const named =
    (env.OTEL_SERVICE_NAME ?? '').trim() !== '' ||
    /(^|,)\s*service\.name\s*=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? '');
  const sdk = startNodeSdk({
    // Quiet while it starts; the SDK's diagnostics then go to our log instead of the console.
    logLevel: 'none',
    resourceAttributes: {
      ...(named ? {} : { 'service.name': 'mcplane' }),
      'service.version': options.version,
    },
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
    ...(spanProcessors === undefined ? {} : { spanProcessors }),
  });
  diag.setLogger(diagLogger(options.log), { logLevel: diagLevel(env.OTEL_LOG_LEVEL) });
  return {
    tracer: trace.getTracer('mcplane', options.version),
    shutdown: async () => {
      await sdk.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
      diag.disable();
    },
  };
}

/** The SDK's diagnostics (a failed export, a bad variable) as log lines, never on stdout. */
function diagLogger(log: Logger): DiagLogger {
  const child = log.child({ component: 'opentelemetry' });
  const write =
    (level: 'error' | 'warn' | 'info' | 'debug' | 'trace') =>
    (message: string, ...args: unknown[]): void =>
      child[level](args.length > 0 ? { detail: args.map(String).join(' ') } : {}, message);
  return {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: write('debug'),
    verbose: write('trace'),
  };
}

function diagLevel(name: string | undefined): DiagLogLevel {
  switch (name?.trim().toUpperCase()) {
    case 'NONE':
      return DiagLogLevel.NONE;
    case 'ERROR':
      return DiagLogLevel.ERROR;
    case 'INFO':
      return DiagLogLevel.INFO;
    case 'DEBUG':
      return DiagLogLevel.DEBUG;
    case 'VERBOSE':
    case 'ALL':
      return DiagLogLevel.VERBOSE;
    default:
      return DiagLogLevel.WARN;
  }
}
