/**
 * Opens the audit log the `audit:` config describes: its key, its sinks (the JSONL file, the
 * store, or both: tee-sink.ts), the writer.
 */
import { join } from 'node:path';
import { GatewayError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { loadAuditKey } from './audit-key.ts';
import { AuditLog } from './audit-log.ts';
import type { AuditConfig } from './audit-schema.ts';
import type { AuditSink } from './audit-sink.ts';
import type { ArgsRedactor } from './event-fields.ts';
import { JsonlFileSink } from './jsonl-file-sink.ts';
import { StoreAuditSink } from './store-sink.ts';
import { TeeAuditSink, type NamedSink } from './tee-sink.ts';

export type AuditLogOpenOptions = {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  /** Required when `keepArgs` is on: arguments are never kept unredacted. */
  readonly redact?: ArgsRedactor;
  /** Required when `sinks` lists `store`. The log does not close it. */
  readonly store?: Store;
};

function sinksOf(config: AuditConfig, options: AuditLogOpenOptions): NamedSink[] {
  return config.sinks.map((name) => {
    if (name === 'store') {
      if (options.store === undefined) {
        throw new GatewayError(
          'CONFIG_INVALID',
          'audit.sinks lists store, but the gateway runs without a store (mcplane serve opens one)',
        );
      }
      return { name: `store ${options.store.backend}`, sink: new StoreAuditSink(options.store.audit) };
    }
    const sink = new JsonlFileSink({
      dir: config.dir,
      file: config.file,
      rotateBytes: config.rotateBytes,
      sync: config.sync,
      log: options.log,
    });
    return { name: `file ${sink.path}`, sink };
  });
}

export async function openAuditLog(config: AuditConfig, options: AuditLogOpenOptions): Promise<AuditLog> {
  const keyFile = config.keyFile ?? join(config.dir, 'audit.key');
  if (config.keepArgs && options.redact === undefined) {
    throw new GatewayError(
      'CONFIG_INVALID',
      'audit.keepArgs needs a redactor: arguments are never kept unredacted',
    );
  }
  const named = sinksOf(config, options);
  const key = await loadAuditKey({ env: options.env, keyFile });
  const sink: AuditSink = named.length === 1 ? (named[0] as NamedSink).sink : new TeeAuditSink(named);
  let log: AuditLog;
  try {
    log = await AuditLog.open({
      sink,
      key,
      log: options.log,
      checkpointEvery: config.checkpointEvery,
      flushMs: config.flushMs,
      flushRecords: config.flushRecords,
      maxBacklog: config.maxBacklog,
      ...(config.keepArgs && options.redact ? { args: { keep: true, redact: options.redact } } : {}),
    });
  } catch (error) {
    await sink.close();
    throw error;
  }
  options.log.info(
    {
      sinks: named.map(({ name }) => name),
      keyId: key.publicKey.keyId,
      keySource: key.source,
      seq: log.backlog().lastSeq,
    },
    'audit log open',
  );
  return log;
}
