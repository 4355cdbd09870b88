// npm run migrate: applies the committed SQL migrations to DATABASE_URL (or the PGlite default).
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/db.client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { createLogger } from '../src/logger.js';

const config = loadConfig();
const logger = createLogger(config.log.level).child({ module: 'migrate' });
const database = createDatabase(config.database);
try {
  await migrateDatabase(database);
  logger.info({ uses: database.describe }, 'migrations applied');
} finally {
  await database.close();
}
