// A projector in a child process (for the kill -9 test): drains the outbox of the given database
// into the given Firestore emulator, forever, in small batches.
import { pino } from 'pino';
import { createDatabase } from '../../src/db/db.client.js';
import { FirestoreWriter } from '../../src/firestore/firestore-writer.js';
import { connectToEmulator } from '../../src/firestore/firestore.client.js';
import { SyncProjector } from '../../src/sync/sync-projector.js';

const [databaseUrl, firestoreHost, projectId] = process.argv.slice(2) as [string, string, string];
const database = createDatabase({ kind: 'postgres', url: databaseUrl, poolMax: 2 });
const firestore = connectToEmulator(firestoreHost, projectId);
const projector = new SyncProjector(
  database.db,
  new FirestoreWriter(firestore.db),
  { batchSize: 10, retry: { maxAttempts: 100, baseDelayMs: 10, maxDelayMs: 50 } },
  pino({ level: 'silent' }),
);
process.stdout.write('ready\n');
for (;;) {
  await projector.drain();
  await new Promise((resolve) => setTimeout(resolve, 20));
}
