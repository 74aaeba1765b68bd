/**
 * The SQLite usage writer's thread (see usage-writer.ts): its own connection to the store's file,
 * opened at the first batch (and again after a failure to open), one synchronous transaction per
 * batch (usage-batch-statements.ts), one batch at a time, each answered with its id.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteConnection } from './sqlite-database.ts';
import { UsageBatchStatements } from './usage-batch-statements.ts';
import type { UsageWriterData, UsageWriterReply, UsageWriterRequest } from './usage-writer.ts';

const port = parentPort;
if (!port) throw new Error('usage-writer-thread.ts runs as a worker thread of SqliteUsageWriter');
const { path, location } = workerData as UsageWriterData;
let db: UsageBatchStatements | undefined;

function connect(): UsageBatchStatements {
  const connection = openSqliteConnection(path, location);
  try {
    return new UsageBatchStatements(connection);
  } catch (error) {
    connection.close();
    throw error;
  }
}

function handle(request: UsageWriterRequest): UsageWriterReply | undefined {
  if (request.type === 'close') {
    db?.close();
    port?.close();
    return undefined;
  }
  try {
    db ??= connect();
    db.write(request.events, request.charges);
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
  const reply = handle(request);
  if (reply) port.postMessage(reply);
});
