// The Warehouse contract against BigQueryWarehouse over the fake BigQuery REST server: the
// same tests PostgresWarehouse passes, through the real @google-cloud/bigquery client.
import { BigQueryWarehouse } from '../../src/warehouse/bigquery-warehouse.js';
import { startBigQueryFake } from '../fakes/bigquery.fake.js';
import { describeWarehouseContract } from '../support/warehouse-contract.js';

describeWarehouseContract('BigQueryWarehouse (fake BigQuery REST)', async () => {
  const fake = await startBigQueryFake();
  const warehouse = new BigQueryWarehouse({ bigquery: fake.client(), datasetId: 'warehouse_contract' });
  return {
    warehouse,
    close: async () => {
      await warehouse.close();
      await fake.close();
    },
  };
});
