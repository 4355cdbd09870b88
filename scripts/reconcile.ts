// npm run reconcile [-- --fix] [--json]
// Compares PostgreSQL and Firestore and reports drift per class. With --fix, repairs through the
// outbox and projects the repairs before exiting. Exit code: 0 no drift, 1 drift found, 2 error.
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/db.client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { FirestoreWriter } from '../src/firestore/firestore-writer.js';
import { createFirestore } from '../src/firestore/firestore.client.js';
import { createLogger } from '../src/logger.js';
import { DRIFT_CLASSES, Reconciler } from '../src/sync/reconcile.js';
import { SyncProjector } from '../src/sync/sync-projector.js';

const { values } = parseArgs({ options: { fix: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
const config = loadConfig();
if (config.firestore.kind === 'embedded') {
  console.error(
    'reconcile needs the Firestore the service writes: set FIRESTORE_EMULATOR_HOST or GOOGLE_APPLICATION_CREDENTIALS.\n' +
      '(With the embedded in-process emulator, the service itself re-projects at every start.)',
  );
  process.exit(2);
}
const logger = createLogger(values.json ? 'silent' : config.log.level);
const database = createDatabase(config.database);
const firestore = await createFirestore(config.firestore);
let exitCode = 2;
try {
  await migrateDatabase(database);
  const writer = new FirestoreWriter(firestore.db, config.sync.firestoreTimeoutMs);
  const report = await new Reconciler(database.db, writer).run({ fix: values.fix });
  let projected = 0;
  if (values.fix && report.fixed > 0) {
    const projector = new SyncProjector(database.db, writer, config.sync, logger.child({ module: 'projector' }));
    projected = (await projector.drain()).projected;
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...report, projected })}\n`);
  } else {
    const rows = DRIFT_CLASSES.map((c) => `${c.padEnd(14)} ${String(report.drift[c].count).padStart(8)}  ${report.drift[c].ids.slice(0, 5).join(' ')}`);
    process.stdout.write(
      [
        `reconcile run ${report.runId}: ${report.customersChecked} customers, ${report.documentsChecked} documents checked`,
        'drift class       count  first ids',
        ...rows,
        values.fix ? `repairs enqueued ${report.fixed}, customers projected ${projected}` : 'run with --fix to repair',
      ].join('\n') + '\n',
    );
  }
  exitCode = report.driftCount > 0 ? 1 : 0;
} catch (err) {
  console.error('reconcile failed:', err instanceof Error ? err.message : err);
} finally {
  await firestore.close();
  await database.close();
}
process.exit(exitCode);
