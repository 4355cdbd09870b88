// Translation between warehouse rows and BigQuery's REST shapes, kept apart from the adapter's
// I/O so each rule is stated once: the table schema sent to tables.insert, the de-duplicating
// `_latest` view, a row as tabledata.insertAll expects it, and a query result cell back to the
// types the Warehouse port promises (Date, number, parsed JSON, boolean, arrays).
import type { ColumnDef, ColumnType, WarehouseTableDef } from './warehouse-tables.js';
import type { WarehouseRow, WarehouseValue } from './warehouse.port.js';

export interface BigQueryField {
  name: string;
  type: string;
  mode: 'NULLABLE' | 'REQUIRED' | 'REPEATED';
  description?: string;
}

export const INGESTED_AT = 'ingested_at';

export function tableFields(def: WarehouseTableDef): BigQueryField[] {
  return def.columns.map(fieldOf);
}

export function fieldOf(column: ColumnDef): BigQueryField {
  return { name: column.name, type: column.type, mode: column.mode ?? 'NULLABLE', ...(column.description ? { description: column.description } : {}) };
}

/**
 * The current row per natural key: newest version first, and among equal versions the one
 * ingested last, which is what PostgreSQL's "a re-write of the same version wins" gives.
 * Streamed duplicates (an insertId retried after the de-dup window) collapse here too.
 */
export function latestViewSql(def: WarehouseTableDef, qualifiedTable: string): string {
  const order = [`${def.versionColumn} DESC`];
  if (def.versionColumn !== INGESTED_AT && def.columns.some((c) => c.name === INGESTED_AT)) order.push(`${INGESTED_AT} DESC`);
  return (
    `SELECT * EXCEPT(_rn) FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY ${def.key.join(', ')} ` +
    `ORDER BY ${order.join(', ')}) AS _rn FROM \`${qualifiedTable}\`) WHERE _rn = 1`
  );
}

/**
 * A row as tabledata.insertAll's `json`. Assumes `rowProblems` found nothing. TIMESTAMP goes as
 * ISO text, JSON columns as a string holding JSON (what the JSON type takes on insertAll),
 * NUMERIC as decimal text rounded to its scale of 9 (a binary double such as 0.1 + 0.2 has more
 * digits than NUMERIC holds), INT64 beyond 2^53 as digits so JSON does not turn it into 1e+21.
 * A null REPEATED column is sent as []: BigQuery arrays cannot be NULL.
 */
export function toInsertJson(def: WarehouseTableDef, row: WarehouseRow): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const column of def.columns) {
    const value = row[column.name];
    if (value === undefined) continue;
    if (value === null) {
      json[column.name] = column.mode === 'REPEATED' ? [] : null;
    } else if (column.mode === 'REPEATED') {
      json[column.name] = (value as WarehouseValue[]).map((item) => encodeScalar(column.type, item));
    } else {
      json[column.name] = encodeScalar(column.type, value);
    }
  }
  return json;
}

function encodeScalar(type: ColumnType, value: WarehouseValue): unknown {
  switch (type) {
    case 'TIMESTAMP':
      return (value instanceof Date ? value : new Date(value as string)).toISOString();
    case 'INT64':
      return Number.isSafeInteger(value) ? value : BigInt(value as number).toString();
    case 'NUMERIC':
      return numericText(value as number);
    case 'JSON':
      return JSON.stringify(value);
    default:
      return value;
  }
}

/** Decimal text with at most 9 fractional digits and no exponent. */
export function numericText(value: number): string {
  // toFixed switches to exponent notation from 1e21; such a double is an integer anyway.
  if (Math.abs(value) >= 1e21) return BigInt(value).toString();
  const text = value.toFixed(9).replace(/\.?0+$/, '');
  return text === '-0' ? '0' : text;
}

/**
 * One query result row (`{ f: [{ v }] }`, read with skipParsing so no precision is lost on the
 * way) back to warehouse values. `fields` is the result schema, which gives cell positions;
 * conversion follows the table definition, so a column the result lacks (a view not yet
 * refreshed after a column was added) reads as null.
 */
export function fromResultRow(def: WarehouseTableDef, positions: Map<string, number>, raw: unknown): WarehouseRow {
  const cells = (raw as { f?: { v?: unknown }[] } | null)?.f ?? [];
  const row: WarehouseRow = {};
  for (const column of def.columns) {
    const index = positions.get(column.name);
    const cell = index === undefined ? null : (cells[index]?.v ?? null);
    if (column.mode === 'REPEATED') {
      const items = Array.isArray(cell) ? cell.map((item: { v?: unknown }) => decodeScalar(column.type, item.v ?? null)) : [];
      // The port's value type has no Date[]; a REPEATED TIMESTAMP reads as Date[] as in PostgreSQL.
      row[column.name] = items as WarehouseValue;
    } else {
      row[column.name] = decodeScalar(column.type, cell);
    }
  }
  return row;
}

export function resultPositions(fields: { name?: string | null }[] | undefined | null): Map<string, number> {
  return new Map((fields ?? []).map((field, index) => [field.name ?? '', index]));
}

function decodeScalar(type: ColumnType, cell: unknown): WarehouseValue {
  if (cell === null || cell === undefined) return null;
  const text = typeof cell === 'string' ? cell : JSON.stringify(cell); // REST cells are strings
  switch (type) {
    case 'TIMESTAMP':
      return timestampFromCell(text);
    case 'INT64':
    case 'NUMERIC':
    case 'FLOAT64':
      return Number(text);
    case 'BOOL':
      return text === 'true';
    case 'JSON':
      return JSON.parse(text) as WarehouseValue;
    default:
      return text;
  }
}

/**
 * TIMESTAMP cells come as int64 microseconds when formatOptions.useInt64Timestamp is set (the
 * Node client sets it on jobs.query and getQueryResults), as float seconds otherwise, and as
 * ISO text under BIGQUERY_PICOSECOND_SUPPORT: all three are read.
 */
function timestampFromCell(text: string): Date {
  if (/^-?\d+$/.test(text)) {
    const micros = BigInt(text);
    let millis = micros / 1000n;
    if (micros % 1000n < 0n) millis -= 1n; // floor, not truncation, before 1970
    return new Date(Number(millis));
  }
  if (/^-?[\d.]+(e[+-]?\d+)?$/i.test(text)) return new Date(Math.round(Number(text) * 1000));
  return new Date(text);
}
