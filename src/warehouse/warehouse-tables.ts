// The warehouse's tables, declared once. Both adapters build their schema from these
// definitions: BigQuery tables (day-partitioned on the event timestamp, clustered by
// customer_id) and the `warehouse` schema in PostgreSQL. Every table has a natural key and a
// version column: a row with the same key and an older version never replaces a newer one.

export type ColumnType = 'STRING' | 'INT64' | 'NUMERIC' | 'FLOAT64' | 'BOOL' | 'TIMESTAMP' | 'DATE' | 'JSON';

export interface ColumnDef {
  name: string;
  type: ColumnType;
  /** REQUIRED columns refuse null; REPEATED holds a list of `type`. Default NULLABLE. */
  mode?: 'REQUIRED' | 'NULLABLE' | 'REPEATED';
  description?: string;
}

export interface WarehouseTableDef {
  name: string;
  description: string;
  columns: ColumnDef[];
  /** Natural key: one logical row per key. */
  key: string[];
  /** Newest wins: the row with the greatest value here is the current one for its key. */
  versionColumn: string;
  /** TIMESTAMP column the table is partitioned on by day (event tables only). */
  partitionColumn?: string;
  clusterBy?: string[];
}

const col = (name: string, type: ColumnType, mode: ColumnDef['mode'] = 'NULLABLE', description?: string): ColumnDef => ({
  name,
  type,
  mode,
  ...(description ? { description } : {}),
});
const required = (name: string, type: ColumnType, description?: string) => col(name, type, 'REQUIRED', description);

// Every raw table carries the tenant, the linked profile (our customer id, null until linked or
// when the record names no customer), the record as received and when we received it.
const tenant = required('business_id', 'STRING', 'Tenant (business) the connection belongs to');
const profile = col('profile_id', 'STRING', 'NULLABLE', 'Linked customer profile id in PostgreSQL');
const raw = col('raw', 'JSON', 'NULLABLE', 'The record as the API returned it');
const ingestedAt = required('ingested_at', 'TIMESTAMP');

export const WAREHOUSE_TABLES = {
  square_payments: {
    name: 'square_payments',
    description: 'Square payments, one row per payment id, current as of updated_at',
    columns: [
      tenant,
      required('id', 'STRING'),
      required('created_at', 'TIMESTAMP'),
      required('updated_at', 'TIMESTAMP'),
      required('status', 'STRING'),
      required('amount', 'INT64', 'amount_money in the smallest currency unit, excluding tip'),
      col('tip', 'INT64'),
      col('total', 'INT64'),
      col('refunded', 'INT64'),
      required('currency', 'STRING'),
      col('source_type', 'STRING'),
      col('card_brand', 'STRING'),
      col('card_last4', 'STRING'),
      required('location_id', 'STRING'),
      col('order_id', 'STRING'),
      col('customer_id', 'STRING', 'NULLABLE', 'Square customer id'),
      profile,
      col('refund_ids', 'STRING', 'REPEATED'),
      col('receipt_number', 'STRING'),
      raw,
      ingestedAt,
    ],
    key: ['business_id', 'id'],
    versionColumn: 'updated_at',
    partitionColumn: 'created_at',
    clusterBy: ['customer_id', 'profile_id'],
  },
  square_refunds: {
    name: 'square_refunds',
    description: 'Square refunds, one row per refund id',
    columns: [
      tenant,
      required('id', 'STRING'),
      required('payment_id', 'STRING'),
      col('location_id', 'STRING'),
      col('order_id', 'STRING'),
      required('status', 'STRING'),
      required('amount', 'INT64'),
      required('currency', 'STRING'),
      col('reason', 'STRING'),
      required('created_at', 'TIMESTAMP'),
      required('updated_at', 'TIMESTAMP'),
      col('customer_id', 'STRING', 'NULLABLE', 'Square customer id of the refunded payment'),
      profile,
      raw,
      ingestedAt,
    ],
    key: ['business_id', 'id'],
    versionColumn: 'updated_at',
    partitionColumn: 'created_at',
    clusterBy: ['customer_id', 'profile_id'],
  },
  square_items: {
    name: 'square_items',
    description: 'Square catalog: items, variations and categories (latest version of each object)',
    columns: [
      tenant,
      required('id', 'STRING'),
      required('type', 'STRING', 'ITEM | ITEM_VARIATION | CATEGORY'),
      col('item_id', 'STRING', 'NULLABLE', 'For a variation: its item'),
      col('name', 'STRING'),
      col('description', 'STRING'),
      col('category_id', 'STRING'),
      col('category_name', 'STRING'),
      col('sku', 'STRING'),
      col('price', 'INT64', 'NULLABLE', 'Smallest currency unit'),
      col('currency', 'STRING'),
      required('is_deleted', 'BOOL'),
      col('version', 'INT64'),
      required('updated_at', 'TIMESTAMP'),
      raw,
      ingestedAt,
    ],
    key: ['business_id', 'id'],
    versionColumn: 'updated_at',
  },
  square_customers: {
    name: 'square_customers',
    description: 'Square customer directory',
    columns: [
      tenant,
      required('id', 'STRING'),
      col('given_name', 'STRING'),
      col('family_name', 'STRING'),
      col('email_address', 'STRING'),
      col('phone_number', 'STRING'),
      col('reference_id', 'STRING'),
      required('created_at', 'TIMESTAMP'),
      required('updated_at', 'TIMESTAMP'),
      col('version', 'INT64'),
      profile,
      raw,
      ingestedAt,
    ],
    key: ['business_id', 'id'],
    versionColumn: 'updated_at',
    // Export and erasure find a person's rows by profile.
    clusterBy: ['profile_id'],
  },
  lightspeed_sales: {
    name: 'lightspeed_sales',
    description: 'Lightspeed R-Series sales (amounts in major units, as the API gives them)',
    columns: [
      tenant,
      required('account_id', 'STRING'),
      required('sale_id', 'STRING'),
      col('shop_id', 'STRING'),
      col('register_id', 'STRING'),
      col('customer_id', 'STRING', 'NULLABLE', 'Lightspeed customerID; null when the sale names none'),
      profile,
      required('time_stamp', 'TIMESTAMP', 'Last change'),
      col('create_time', 'TIMESTAMP'),
      col('complete_time', 'TIMESTAMP'),
      required('completed', 'BOOL'),
      required('voided', 'BOOL'),
      required('archived', 'BOOL'),
      col('subtotal', 'NUMERIC'),
      col('discount', 'NUMERIC'),
      col('tax', 'NUMERIC'),
      required('total', 'NUMERIC'),
      raw,
      ingestedAt,
    ],
    key: ['business_id', 'account_id', 'sale_id'],
    versionColumn: 'time_stamp',
    partitionColumn: 'create_time',
    clusterBy: ['customer_id', 'profile_id'],
  },
  lightspeed_sale_lines: {
    name: 'lightspeed_sale_lines',
    description: 'Lightspeed sale lines (negative quantity on a return line)',
    columns: [
      tenant,
      required('account_id', 'STRING'),
      required('sale_line_id', 'STRING'),
      required('sale_id', 'STRING'),
      col('item_id', 'STRING'),
      required('quantity', 'NUMERIC'),
      col('unit_price', 'NUMERIC'),
      col('total', 'NUMERIC'),
      col('customer_id', 'STRING'),
      profile,
      required('time_stamp', 'TIMESTAMP', "The sale's last change"),
      col('create_time', 'TIMESTAMP', 'NULLABLE', "The sale's creation"),
      ingestedAt,
    ],
    key: ['business_id', 'account_id', 'sale_line_id'],
    versionColumn: 'time_stamp',
    partitionColumn: 'create_time',
    clusterBy: ['customer_id', 'profile_id'],
  },
  lightspeed_products: {
    name: 'lightspeed_products',
    description: 'Lightspeed items',
    columns: [
      tenant,
      required('account_id', 'STRING'),
      required('item_id', 'STRING'),
      col('system_sku', 'STRING'),
      col('custom_sku', 'STRING'),
      col('upc', 'STRING'),
      col('description', 'STRING'),
      col('category_id', 'STRING'),
      col('default_cost', 'NUMERIC'),
      col('price', 'NUMERIC', 'NULLABLE', 'The Default price'),
      required('archived', 'BOOL'),
      required('time_stamp', 'TIMESTAMP'),
      raw,
      ingestedAt,
    ],
    key: ['business_id', 'account_id', 'item_id'],
    versionColumn: 'time_stamp',
  },
  lightspeed_customers: {
    name: 'lightspeed_customers',
    description: 'Lightspeed customers',
    columns: [
      tenant,
      required('account_id', 'STRING'),
      required('customer_id', 'STRING'),
      col('first_name', 'STRING'),
      col('last_name', 'STRING'),
      col('email', 'STRING'),
      col('phone', 'STRING'),
      required('archived', 'BOOL'),
      col('create_time', 'TIMESTAMP'),
      required('time_stamp', 'TIMESTAMP'),
      profile,
      raw,
      ingestedAt,
    ],
    key: ['business_id', 'account_id', 'customer_id'],
    versionColumn: 'time_stamp',
    // Export and erasure find a person's rows by profile.
    clusterBy: ['profile_id'],
  },
  purchases: {
    name: 'purchases',
    description: 'Every POS transaction of both sources in one shape; the learning engine reads this',
    columns: [
      tenant,
      required('source', 'STRING', 'square | lightspeed'),
      required('transaction_id', 'STRING', 'Square payment id or Lightspeed account:saleID'),
      col('order_id', 'STRING'),
      col('customer_id', 'STRING', 'NULLABLE', 'Linked customer profile id; null when the transaction names no customer'),
      col('source_customer_id', 'STRING'),
      required('purchased_at', 'TIMESTAMP'),
      required('status', 'STRING', 'completed | pending | voided | failed'),
      required('amount', 'NUMERIC', 'Gross amount in major units'),
      required('refunded_amount', 'NUMERIC'),
      required('currency', 'STRING'),
      required('item_count', 'INT64'),
      col('items', 'JSON', 'NULLABLE', '[{ itemId, sku, name, category, quantity, unitPrice }]'),
      col('location_id', 'STRING'),
      required('updated_at', 'TIMESTAMP'),
      ingestedAt,
    ],
    key: ['business_id', 'source', 'transaction_id'],
    versionColumn: 'updated_at',
    partitionColumn: 'purchased_at',
    clusterBy: ['customer_id'],
  },
  interactions: {
    name: 'interactions',
    description: 'Customer conversations recorded through the memory API (loaded in batches from PostgreSQL)',
    columns: [
      tenant,
      required('interaction_id', 'STRING'),
      required('customer_id', 'STRING'),
      required('session_id', 'STRING'),
      required('timestamp', 'TIMESTAMP'),
      required('message', 'STRING'),
      col('response', 'STRING'),
      col('intent', 'STRING'),
      col('sentiment', 'FLOAT64', 'NULLABLE', '-1 (negative) to 1 (positive)'),
      col('entities', 'JSON'),
      required('channel', 'STRING', 'email | voice | chat'),
      ingestedAt,
    ],
    key: ['business_id', 'interaction_id'],
    versionColumn: 'ingested_at',
    partitionColumn: 'timestamp',
    clusterBy: ['customer_id'],
  },
  predictions: {
    name: 'predictions',
    description: 'Every prediction made for a customer, kept to measure accuracy later',
    columns: [
      tenant,
      required('prediction_id', 'STRING'),
      required('customer_id', 'STRING'),
      required('timestamp', 'TIMESTAMP'),
      required('prediction_type', 'STRING', 'churn_risk | purchases_30d | purchases_90d | next_purchase | spend | clv_12m | engagement | recommendations'),
      required('prediction_value', 'JSON'),
      col('confidence', 'FLOAT64'),
      required('model_version', 'STRING'),
      col('horizon_end', 'TIMESTAMP', 'NULLABLE', 'When the outcome can be compared with the prediction'),
      col('actual_value', 'JSON'),
      col('accuracy', 'FLOAT64'),
      col('evaluated_at', 'TIMESTAMP'),
      required('updated_at', 'TIMESTAMP'),
    ],
    key: ['business_id', 'prediction_id'],
    versionColumn: 'updated_at',
    partitionColumn: 'timestamp',
    clusterBy: ['customer_id'],
  },
} as const satisfies Record<string, WarehouseTableDef>;

export type WarehouseTableName = keyof typeof WAREHOUSE_TABLES;
export const WAREHOUSE_TABLE_NAMES = Object.keys(WAREHOUSE_TABLES) as WarehouseTableName[];
