/**
 * Which trace exports mcplane builds itself (the default, OTLP/HTTP protobuf, with its own
 * serializer) and which it leaves to the SDK; and the OTEL_BSP_* settings of its batch processor.
 */
import { describe, expect, it } from 'vitest';
import { batchSpanProcessor, defaultOtlpExport } from '../../src/telemetry/span-export.ts';

describe('the default trace export', () => {
  it.each([
    [{}, true],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
    [{ OTEL_TRACES_EXPORTER: ' otlp , otlp ' }, true],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: ' http/protobuf ', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, true],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, false],
    [{ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' }, false],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'bogus' }, false],
    [{ OTEL_TRACES_EXPORTER: 'console' }, false],
    [{ OTEL_TRACES_EXPORTER: 'otlp,console' }, false],
    [{ OTEL_CONFIG_FILE: '/etc/otel.yaml' }, false],
  ])('for %j is ours: %s', (env, ours) => {
    expect(defaultOtlpExport(env)).toBe(ours);
  });

  it('applies the OTEL_BSP_* settings and warns of one that is not a positive number, keeping its default', async () => {
    const warnings: string[] = [];
    const processor = batchSpanProcessor(
      {
        OTEL_BSP_MAX_QUEUE_SIZE: '64',
        OTEL_BSP_SCHEDULE_DELAY: '-5',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 'lots',
      },
      (message) => warnings.push(message),
    );
    const fields = processor as unknown as Record<string, number>;
    expect(fields._maxQueueSize).toBe(64);
    expect(fields._scheduledDelayMillis).toBe(5_000);
    // The SDK caps the batch at the queue's size.
    expect(fields._maxExportBatchSize).toBe(64);
    expect(warnings).toEqual([
      'OTEL_BSP_SCHEDULE_DELAY (-5) is invalid, expected number greater than 0, using default.',
      'OTEL_BSP_MAX_EXPORT_BATCH_SIZE (lots) is invalid, expected number greater than 0, using default.',
    ]);
    await processor.shutdown();
  });
});
