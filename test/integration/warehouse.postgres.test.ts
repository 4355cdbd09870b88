// The Warehouse contract against PostgresWarehouse in a real PostgreSQL database.
import { PostgresWarehouse } from '../../src/warehouse/postgres-warehouse.js';
import { describeWarehouseContract } from '../support/warehouse-contract.js';
import { createTestDatabase } from '../support/test-database.js';

describeWarehouseContract('PostgresWarehouse', async () => {
  const database = await createTestDatabase();
  return { warehouse: new PostgresWarehouse(database.handle.db), close: () => database.drop() };
});
