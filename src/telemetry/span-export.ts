/**
 * The default trace export (OTLP over HTTP, protobuf) with mcplane's own serializer
 * (otlp-span-serializer.ts) in place of the SDK's, and everything else the SDK's: its HTTP
 * transport with retries, its batch span processor, and the OTEL_* variables it reads for
 * both (OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, _HEADERS, _TIMEOUT, _COMPRESSION, certificates;
 * OTEL_BSP_*). Only that case is taken over: any other exporter, protocol or a config file is
 * left to the SDK as it would build it.
 */
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import { TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { BatchSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { createSpanSerializer } from './otlp-span-serializer.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** The SDK's name for this exporter in its self-observability metrics (semconv). */
const COMPONENT_TYPE = 'otlp_http_span_exporter';

/** The exporters OTEL_TRACES_EXPORTER names, each once, as the SDK reads the list. */
export function tracesExporters(env: Env): string[] {
  const names = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((name) => name.trim());
  return [...new Set(names.filter((name) => name !== ''))];
}

/**
 * Whether the environment asks for the SDK's default export and nothing else: the `otlp`
 * exporter (named, or by default) over `http/protobuf` (named, or by default), no config file.
 */
export function defaultOtlpExport(env: Env): boolean {
  if ((env.OTEL_CONFIG_FILE ?? '').trim() !== '') return false;
  const exporters = tracesExporters(env);
  if (exporters.length > 1 || (exporters.length === 1 && exporters[0] !== 'otlp')) return false;
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? '').trim();
  return protocol === '' || protocol === 'http/protobuf';
}

/** The SDK's OTLP/HTTP protobuf trace exporter, but serializing with ours. */
export function protobufSpanExporter(): OTLPExporterBase<ReadableSpan[]> {
  return new OTLPExporterBase(
    createOtlpHttpExportDelegate(
      convertLegacyHttpOptions({}, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
      createSpanSerializer(),
      COMPONENT_TYPE,
      TraceExporterMetricsHelper,
      undefined,
    ),
  );
}

/**
 * A batch span processor over that exporter, with the OTEL_BSP_* settings the SDK would apply; a
 * setting that is not a positive number is reported to `warn` and left at its default, as the
 * SDK does.
 */
export function batchSpanProcessor(env: Env, warn: (message: string) => void): SpanProcessor {
  const setting = (name: string): number | undefined => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) {
      warn(`${name} (${raw}) is invalid, expected number greater than 0, using default.`);
      return undefined;
    }
    return value;
  };
  const options = {
    exporter: protobufSpanExporter(),
    maxQueueSize: setting('OTEL_BSP_MAX_QUEUE_SIZE'),
    scheduledDelayMillis: setting('OTEL_BSP_SCHEDULE_DELAY'),
    exportTimeoutMillis: setting('OTEL_BSP_EXPORT_TIMEOUT'),
    maxExportBatchSize: setting('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
  };
  return new BatchSpanProcessor(options);
}
