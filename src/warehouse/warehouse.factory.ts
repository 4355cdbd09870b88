// Picks the warehouse adapter from config: BigQuery when a project is set, otherwise the
// `warehouse` schema in the system of record's PostgreSQL (the embedded default).
import { BigQuery } from '@google-cloud/bigquery';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/db.client.js';
import { BigQueryWarehouse } from './bigquery-warehouse.js';
import { PostgresWarehouse } from './postgres-warehouse.js';
import type { Warehouse } from './warehouse.port.js';

export function createWarehouse(config: Config['warehouse'], database: DatabaseHandle): Warehouse {
  if (config.kind === 'postgres') return new PostgresWarehouse(database.db, config.schema);
  const bigquery = new BigQuery({
    projectId: config.projectId,
    location: config.location,
    ...(config.apiEndpoint ? { apiEndpoint: config.apiEndpoint } : {}),
    // The adapter retries failed rows itself with deterministic insertIds; client retries would nest.
    retryOptions: { autoRetry: false },
  });
  return new BigQueryWarehouse({ bigquery, datasetId: config.dataset, location: config.location });
}
