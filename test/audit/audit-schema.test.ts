import { describe, expect, it } from 'vitest';
import { AuditSchema } from '../../src/audit/audit-schema.ts';

describe('the audit config block', () => {
  it('has documented defaults', () => {
    expect(AuditSchema.parse({})).toEqual({
      enabled: false,
      sinks: ['file'],
      dir: 'audit',
      file: 'audit.jsonl',
      rotateBytes: 64 * 1024 * 1024,
      checkpointEvery: 1000,
      flushMs: 100,
      flushRecords: 512,
      maxBacklog: 100_000,
      keepArgs: false,
      sync: true,
    });
  });

  it('takes the file and the store as sinks, each once', () => {
    expect(AuditSchema.parse({ sinks: ['store', 'file'] }).sinks).toEqual(['store', 'file']);
    expect(AuditSchema.safeParse({ sinks: ['file', 'file'] }).success).toBe(false);
    expect(AuditSchema.safeParse({ sinks: [] }).success).toBe(false);
    expect(AuditSchema.safeParse({ sinks: ['syslog'] }).success).toBe(false);
  });

  it('reads sizes and durations as people write them', () => {
    expect(
      AuditSchema.parse({ rotateBytes: '16mb', flushMs: '1s', keyFile: '/run/secrets/audit.key' }),
    ).toMatchObject({
      rotateBytes: 16 * 1024 * 1024,
      flushMs: 1000,
      keyFile: '/run/secrets/audit.key',
    });
  });

  it.each([
    [{ file: '../audit.jsonl' }, ['file']],
    [{ file: 'audit.log' }, ['file']],
    [{ checkpointEvery: 0 }, ['checkpointEvery']],
    [{ flushMs: '5m' }, ['flushMs']],
    [{ flushRecords: 10, maxBacklog: 5 }, ['flushRecords']],
    [{ enabled: true, extra: 1 }, []],
  ])('refuses %j at its path', (input, path) => {
    const result = AuditSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(path);
  });
});
