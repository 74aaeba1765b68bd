/**
 * The SQLite usage writer's thread (see usage-writer.ts): its own connection to the store's file,
 * opened at the first batch (and again after a failure to open), one transaction per batch, one
 * batch at a time, each answered with its id.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Database } from '../sql/database.ts';
import { writeUsageBatch } from '../sql/usage-write.ts';
import { openSqliteDatabase } from './sqlite-database.ts';
import type { UsageWriterData, UsageWriterReply, UsageWriterRequest } from './usage-writer.ts';

const port = parentPort;
if (!port) throw new Error('usage-writer-thread.ts runs as a worker thread of SqliteUsageWriter');
const { path, location } = workerData as UsageWriterData;
let db: Database | undefined;

async function handle(request: UsageWriterRequest): Promise<UsageWriterReply | undefined> {
  if (request.type === 'close') {
    await db?.close();
    port?.close();
    return undefined;
  }
  try {
    db ??= openSqliteDatabase(path, location);
    await db.transaction('platform', (sql) => writeUsageBatch(sql, request.events, request.charges));
    return { id: request.id };
  } catch (error) {
    const errcode = (error as { errcode?: unknown } | null)?.errcode;
    return {
      id: request.id,
      error: {
        message: error instanceof Error ? error.message : String(error),
        ...(typeof errcode === 'number' ? { errcode } : {}),
      },
    };
  }
}

port.on('message', (request: UsageWriterRequest) => {
  void handle(request).then((reply) => {
    if (reply) port.postMessage(reply);
  });
});
