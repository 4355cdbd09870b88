// The Warehouse port: what ingesters and the learning engine need from the warehouse,
// whichever store holds it (BigQuery in production, a PostgreSQL schema by default). Rows are
// checked against the table definition here, once, so both adapters refuse the same rows with
// the same reasons; an adapter may reject more (what its store refuses) and reports those too.
import { createHash } from 'node:crypto';
import { WAREHOUSE_TABLES, type ColumnDef, type WarehouseTableDef, type WarehouseTableName } from './warehouse-tables.js';

export type WarehouseValue = Date | JsonValue;
type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type WarehouseRow = Record<string, WarehouseValue | undefined>;

export interface RejectedRow {
  /** The row's natural key values joined with ':' (no other field, so no PII). */
  key: string;
  reason: string;
  row: WarehouseRow;
}

export interface UpsertResult {
  /** Rows the store accepted (a row older than the stored version counts: it is not an error). */
  written: number;
  /** Rows that can never be stored as they are, each with the reason: quarantine them. */
  rejected: RejectedRow[];
}

export interface Warehouse {
  /** For start-up logs: which store this is. */
  readonly describe: string;
  /** Creates missing datasets, tables, columns and views. Safe to run on every start. */
  ensureSchema(): Promise<void>;
  /**
   * Stores rows idempotently by natural key; for one key the greatest version wins, so a
   * re-run or an out-of-order retry never duplicates or regresses a row.
   */
  upsert(table: WarehouseTableName, rows: WarehouseRow[]): Promise<UpsertResult>;
  /**
   * The current (de-duplicated) rows of a table whose columns equal `where`, in natural-key order.
   * Timestamps come back as Date, NUMERIC and INT64 as number, JSON parsed.
   */
  read(table: WarehouseTableName, where: Record<string, string | number | boolean>): AsyncIterable<WarehouseRow>;
  /**
   * Deletes every stored row (every version) whose columns equal `where`; erasure uses it, so a
   * `where` naming no column is refused rather than emptying the table. `deleted` counts stored
   * rows (on BigQuery, versions). `pending: true` means the store refused for now and nothing
   * was deleted: BigQuery does not run DML over rows still in its streaming buffer (up to about
   * 30 minutes after they were streamed); call again later.
   */
  deleteRows(table: WarehouseTableName, where: Record<string, string>): Promise<DeleteResult>;
  /**
   * Sets `columns` to null on every stored row (every version) whose columns equal `where`:
   * erasure de-identifies the rows it keeps for accounting (the link to the person and the
   * personal columns go, the amounts stay). Filters as deleteRows does; `columns` must be
   * nullable, non-key, non-REPEATED columns. `updated` counts stored rows (on BigQuery,
   * versions); `pending: true` means BigQuery refused for now (streaming buffer) and nothing was
   * changed: call again later. Idempotent: once the link column is cleared a retry matches nothing.
   */
  deidentifyRows(table: WarehouseTableName, where: Record<string, string>, columns: string[]): Promise<DeidentifyResult>;
  close(): Promise<void>;
}

export interface DeleteResult {
  deleted: number;
  pending: boolean;
}

export interface DeidentifyResult {
  updated: number;
  pending: boolean;
}

/** The definition's columns named by a delete filter; refuses an empty filter and unknown or unfilterable columns. */
export function deleteFilterColumns(def: WarehouseTableDef, where: Record<string, string>): ColumnDef[] {
  const entries = Object.keys(where);
  if (entries.length === 0) throw new Error(`deleteRows on ${def.name} needs at least one column to filter on`);
  return entries.map((name) => {
    const column = def.columns.find((c) => c.name === name);
    if (!column) throw new Error(`${name} is not a column of ${def.name}`);
    if (column.mode === 'REPEATED' || column.type === 'JSON') throw new Error(`${name} of ${def.name} cannot be filtered on`);
    return column;
  });
}

/** The definition's columns a de-identification may clear; refuses none, unknown, REQUIRED, REPEATED and key columns. */
export function deidentifyColumns(def: WarehouseTableDef, columns: string[]): ColumnDef[] {
  if (columns.length === 0) throw new Error(`deidentifyRows on ${def.name} needs at least one column to clear`);
  return [...new Set(columns)].map((name) => {
    const column = def.columns.find((c) => c.name === name);
    if (!column) throw new Error(`${name} is not a column of ${def.name}`);
    if (column.mode === 'REQUIRED' || column.mode === 'REPEATED' || def.key.includes(name)) {
      throw new Error(`${name} of ${def.name} cannot be cleared: only nullable, non-key, non-repeated columns can`);
    }
    return column;
  });
}

export function tableDef(table: WarehouseTableName): WarehouseTableDef {
  return WAREHOUSE_TABLES[table];
}

export function naturalKey(def: WarehouseTableDef, row: WarehouseRow): string {
  return def.key.map((k) => scalarText(row[k])).join(':');
}

/** A key or version value as text; anything that is not a scalar (a bad row) reads as ''. */
function scalarText(value: WarehouseValue | undefined): string {
  if (value instanceof Date) return value.toISOString();
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

/**
 * A deterministic id for one version of one row (BigQuery's insertId, at most 128 characters):
 * a retried insert of the same version de-duplicates, a new version is a new row.
 */
export function insertIdOf(def: WarehouseTableDef, row: WarehouseRow): string {
  const id = `${def.name}:${naturalKey(def, row)}:${scalarText(row[def.versionColumn])}`;
  return id.length <= 128 ? id : `${def.name}:${createHash('sha256').update(id).digest('hex')}`;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Problems of one row against its table (required, type, unknown column), or an empty list.
 * Values are checked, never echoed: a reason names the column, not the data.
 */
export function rowProblems(def: WarehouseTableDef, row: WarehouseRow): string[] {
  const problems: string[] = [];
  const known = new Set(def.columns.map((c) => c.name));
  for (const name of Object.keys(row)) {
    if (!known.has(name)) problems.push(`${name}: not a column of ${def.name}`);
  }
  for (const column of def.columns) {
    const value = row[column.name];
    if (value === null || value === undefined) {
      if (column.mode === 'REQUIRED') problems.push(`${column.name}: is required`);
      continue;
    }
    if (column.mode === 'REPEATED') {
      if (!Array.isArray(value)) problems.push(`${column.name}: must be a list`);
      else value.forEach((v, i) => checkScalar(column, v, `${column.name}[${i}]`, problems));
    } else {
      checkScalar(column, value, column.name, problems);
    }
  }
  return problems;
}

function checkScalar(column: ColumnDef, value: unknown, path: string, problems: string[]): void {
  const fail = (message: string) => problems.push(`${path}: ${message}`);
  switch (column.type) {
    case 'STRING':
      if (typeof value !== 'string') fail('must be a string');
      else if (value.includes('\u0000')) fail('must not contain NUL characters');
      break;
    case 'INT64':
      if (typeof value !== 'number' || !Number.isInteger(value)) fail('must be an integer');
      else if (BigInt(value) < INT64_MIN || BigInt(value) > INT64_MAX) fail('is out of INT64 range');
      break;
    case 'NUMERIC':
    case 'FLOAT64':
      if (typeof value !== 'number' || !Number.isFinite(value)) fail('must be a finite number');
      break;
    case 'BOOL':
      if (typeof value !== 'boolean') fail('must be true or false');
      break;
    case 'TIMESTAMP': {
      const time = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : NaN;
      if (!Number.isFinite(time)) fail('must be a timestamp');
      break;
    }
    case 'DATE':
      if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) fail('must be a date like 2026-01-31');
      break;
    case 'JSON':
      break;
  }
}
