// LISTEN for committed outbox rows (the sync_logs trigger NOTIFYs at commit), so projectors in
// other processes wake at once instead of at their next poll.
import pg from 'pg';
import type { DatabaseHandle } from '../db/db.client.js';
import type { Logger } from '../logger.js';

export async function listenForSyncLogs(
  handle: DatabaseHandle,
  onNotify: () => void,
  logger: Logger,
): Promise<() => Promise<void>> {
  if (handle.kind === 'pglite') {
    const unlisten = await handle.client.listen('sync_logs', onNotify);
    return unlisten;
  }
  // LISTEN needs a connection of its own, outside the pool.
  const client = new pg.Client({ connectionString: handle.url });
  client.on('notification', onNotify);
  // A lost LISTEN connection only costs latency: polling still finds every row.
  client.on('error', (err) => logger.warn({ err: err.message }, 'sync_logs LISTEN connection lost; polling continues'));
  await client.connect();
  await client.query('LISTEN sync_logs');
  return () => client.end();
}
