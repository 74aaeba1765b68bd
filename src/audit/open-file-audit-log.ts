/** Opens the audit log the `audit:` config describes: its key, its JSONL file sink, the writer. */
import { join } from 'node:path';
import { GatewayError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { loadAuditKey } from './audit-key.ts';
import { AuditLog } from './audit-log.ts';
import type { AuditConfig } from './audit-schema.ts';
import type { ArgsRedactor } from './event-fields.ts';
import { JsonlFileSink } from './jsonl-file-sink.ts';

export type FileAuditLogOptions = {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  /** Required when `keepArgs` is on: arguments are never kept unredacted. */
  readonly redact?: ArgsRedactor;
};

export async function openFileAuditLog(config: AuditConfig, options: FileAuditLogOptions): Promise<AuditLog> {
  const keyFile = config.keyFile ?? join(config.dir, 'audit.key');
  const key = await loadAuditKey({ env: options.env, keyFile });
  if (config.keepArgs && options.redact === undefined) {
    throw new GatewayError(
      'CONFIG_INVALID',
      'audit.keepArgs needs a redactor: arguments are never kept unredacted',
    );
  }
  const sink = new JsonlFileSink({
    dir: config.dir,
    file: config.file,
    rotateBytes: config.rotateBytes,
    sync: config.sync,
    log: options.log,
  });
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
      dir: config.dir,
      file: config.file,
      keyId: key.publicKey.keyId,
      keySource: key.source,
      seq: log.backlog().lastSeq,
    },
    'audit log open',
  );
  return log;
}
