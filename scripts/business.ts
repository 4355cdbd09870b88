// npm run business -- create --name "Shop"   creates a business (tenant), prints its id and an admin token
// npm run business -- list                    lists businesses
import { parseArgs } from 'node:util';
import { TokenService } from '../src/auth/tokens.js';
import { BusinessesService } from '../src/businesses/businesses.service.js';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/db.client.js';
import { migrateDatabase } from '../src/db/migrate.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { name: { type: 'string' } } });
const command = positionals[0];
if (command !== 'create' && command !== 'list') {
  console.error('usage: npm run business -- create --name "Shop name" | list');
  process.exit(1);
}
if (command === 'create' && !values.name?.trim()) {
  console.error('--name is required: npm run business -- create --name "Shop name"');
  process.exit(1);
}
const config = loadConfig();
const database = createDatabase(config.database);
try {
  await migrateDatabase(database);
  const businesses = new BusinessesService(database.db);
  if (command === 'create') {
    const business = await businesses.create(values.name!.trim());
    const token = new TokenService(config.jwt).sign({ subject: 'operator', role: 'admin', businessId: business.id });
    process.stdout.write(`business ${business.id}\nadmin token ${token}\n`);
  } else {
    for (const b of await businesses.list()) process.stdout.write(`${b.id}\t${b.name}\n`);
  }
} finally {
  await database.close();
}
