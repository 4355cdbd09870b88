// The warehouse as a PostgreSQL schema (default `warehouse`): the embedded default, and what
// analysts query when no BigQuery project is configured. Tables are built from the shared
// definitions; writes are natural-key upserts where an older version never replaces a newer
// one, so the tables themselves are already de-duplicated (the `_latest` views exist only so
// queries read the same names as on BigQuery).
import { sql, type SQL } from 'drizzle-orm';
import { ADVISORY_LOCKS } from '../db/advisory-locks.js';
import { queryRows, type Db } from '../db/db.client.js';
import { WAREHOUSE_TABLE_NAMES, type ColumnDef, type ColumnType, type WarehouseTableDef, type WarehouseTableName } from './warehouse-tables.js';
import {
  deidentifyColumns,
  deleteFilterColumns,
  naturalKey,
  rowProblems,
  tableDef,
  type DeidentifyResult,
  type DeleteResult,
  type RejectedRow,
  type UpsertResult,
  type Warehouse,
  type WarehouseRow,
} from './warehouse.port.js';

const PG_TYPES: Record<ColumnType, string> = {
  STRING: 'text',
  INT64: 'bigint',
  NUMERIC: 'numeric',
  FLOAT64: 'double precision',
  BOOL: 'boolean',
  TIMESTAMP: 'timestamptz',
  DATE: 'date',
  JSON: 'jsonb',
};
const READ_PAGE = 1000;

const ident = (name: string) => sql.raw(`"${name}"`);
const pgType = (c: ColumnDef) => PG_TYPES[c.type] + (c.mode === 'REPEATED' ? '[]' : '');

export class PostgresWarehouse implements Warehouse {
  readonly describe: string;

  constructor(
    private readonly db: Db,
    private readonly schema = 'warehouse',
  ) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid warehouse schema name: ${schema}`);
    this.describe = `PostgreSQL schema "${schema}" (no BigQuery project set)`;
  }

  async ensureSchema(): Promise<void> {
    await this.db.transaction(async (tx) => {
      // Two instances starting together must not race on CREATE (a lock for this transaction).
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${ADVISORY_LOCKS.warehouseSchema})`);
      await tx.execute(sql`CREATE SCHEMA IF NOT EXISTS ${ident(this.schema)}`);
      for (const name of WAREHOUSE_TABLE_NAMES) {
        for (const statement of this.ddl(tableDef(name))) await tx.execute(statement);
      }
    });
  }

  async upsert(table: WarehouseTableName, rows: WarehouseRow[]): Promise<UpsertResult> {
    const def = tableDef(table);
    const rejected: RejectedRow[] = [];
    // One row per key, the newest version: a statement may not update the same row twice.
    const newest = new Map<string, WarehouseRow>();
    for (const row of rows) {
      const problems = rowProblems(def, row);
      const key = naturalKey(def, row);
      if (problems.length > 0) {
        rejected.push({ key, reason: problems.join('; '), row });
        continue;
      }
      const seen = newest.get(key);
      if (!seen || versionOf(def, row) >= versionOf(def, seen)) newest.set(key, row);
    }
    if (newest.size > 0) await this.db.execute(this.upsertStatement(def, [...newest.values()]));
    return { written: rows.length - rejected.length, rejected };
  }

  async *read(table: WarehouseTableName, where: Record<string, string | number | boolean>): AsyncIterable<WarehouseRow> {
    const def = tableDef(table);
    const known = new Set(def.columns.map((c) => c.name));
    for (const column of Object.keys(where)) {
      if (!known.has(column)) throw new Error(`${column} is not a column of ${def.name}`);
    }
    const keyList = sql.join(def.key.map(ident), sql`, `);
    let after: SQL | undefined;
    for (;;) {
      const conditions = Object.entries(where).map(([column, value]) => sql`${ident(column)} = ${value}`);
      if (after) conditions.push(after);
      const rows = await queryRows<Record<string, unknown>>(
        this.db,
        sql`SELECT * FROM ${this.qualified(def.name)}
            ${conditions.length > 0 ? sql`WHERE ${sql.join(conditions, sql` AND `)}` : sql``}
            ORDER BY ${keyList} LIMIT ${READ_PAGE}`,
      );
      for (const row of rows) yield fromPg(def, row);
      if (rows.length < READ_PAGE) return;
      const last = rows[rows.length - 1]!;
      after = sql`(${keyList}) > (${sql.join(def.key.map((k) => sql`${last[k] as string}`), sql`, `)})`;
    }
  }

  async deleteRows(table: WarehouseTableName, where: Record<string, string>): Promise<DeleteResult> {
    const def = tableDef(table);
    const columns = deleteFilterColumns(def, where);
    // Values travel as text cast to the column's type, as BigQuery's typed parameters do.
    const conditions = columns.map((c) => sql`${ident(c.name)} = ${where[c.name]!}::${sql.raw(pgType(c))}`);
    const [row] = await queryRows<{ deleted: number }>(
      this.db,
      sql`WITH gone AS (DELETE FROM ${this.qualified(def.name)} WHERE ${sql.join(conditions, sql` AND `)} RETURNING 1)
          SELECT count(*)::int AS deleted FROM gone`,
    );
    return { deleted: row?.deleted ?? 0, pending: false };
  }

  async deidentifyRows(table: WarehouseTableName, where: Record<string, string>, columns: string[]): Promise<DeidentifyResult> {
    const def = tableDef(table);
    const filters = deleteFilterColumns(def, where);
    const cleared = deidentifyColumns(def, columns);
    const conditions = filters.map((c) => sql`${ident(c.name)} = ${where[c.name]!}::${sql.raw(pgType(c))}`);
    const assignments = cleared.map((c) => sql`${ident(c.name)} = NULL`);
    const [row] = await queryRows<{ updated: number }>(
      this.db,
      sql`WITH changed AS (UPDATE ${this.qualified(def.name)} SET ${sql.join(assignments, sql`, `)} WHERE ${sql.join(conditions, sql` AND `)} RETURNING 1)
          SELECT count(*)::int AS updated FROM changed`,
    );
    return { updated: row?.updated ?? 0, pending: false };
  }

  async close(): Promise<void> {
    // The database handle belongs to the caller.
  }

  private qualified(table: string): SQL {
    return sql.raw(`"${this.schema}"."${table}"`);
  }

  private ddl(def: WarehouseTableDef): SQL[] {
    const table = this.qualified(def.name);
    const columns = def.columns.map((c) => sql.raw(`"${c.name}" ${pgType(c)}${c.mode === 'REQUIRED' ? ' NOT NULL' : ''}`));
    const statements: SQL[] = [
      sql`CREATE TABLE IF NOT EXISTS ${table} (${sql.join(columns, sql`, `)}, PRIMARY KEY (${sql.join(def.key.map(ident), sql`, `)}))`,
      // A column added to a definition later reaches existing tables (nullable, as BigQuery allows).
      ...def.columns.map((c) => sql`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${sql.raw(`"${c.name}" ${pgType(c)}`)}`),
      sql.raw(`COMMENT ON TABLE "${this.schema}"."${def.name}" IS '${def.description.replaceAll("'", "''")}'`),
      sql`CREATE OR REPLACE VIEW ${this.qualified(`${def.name}_latest`)} AS SELECT * FROM ${table}`,
    ];
    // What BigQuery gets from partitioning and clustering, PostgreSQL gets from indexes.
    for (const column of [def.partitionColumn, ...(def.clusterBy ?? [])]) {
      if (column) {
        statements.push(sql.raw(`CREATE INDEX IF NOT EXISTS "${def.name}_${column}_idx" ON "${this.schema}"."${def.name}" ("${column}")`));
      }
    }
    return statements;
  }

  /**
   * One statement per batch: the rows travel as one JSON parameter and are typed by
   * jsonb_to_recordset, so a page of rows costs one round trip whatever its width.
   */
  private upsertStatement(def: WarehouseTableDef, rows: WarehouseRow[]): SQL {
    const names = def.columns.map((c) => c.name);
    const columnList = sql.raw(names.map((n) => `"${n}"`).join(', '));
    const recordType = sql.raw(def.columns.map((c) => `"${c.name}" ${pgType(c)}`).join(', '));
    const updates = sql.raw(
      names
        .filter((n) => !def.key.includes(n))
        .map((n) => `"${n}" = EXCLUDED."${n}"`)
        .join(', '),
    );
    const payload = JSON.stringify(rows.map((row) => toJsonRow(def, row)));
    return sql`INSERT INTO ${this.qualified(def.name)} (${columnList})
      SELECT ${columnList} FROM jsonb_to_recordset(${payload}::jsonb) AS x(${recordType})
      ON CONFLICT (${sql.join(def.key.map(ident), sql`, `)}) DO UPDATE SET ${updates}
      WHERE ${this.qualified(def.name)}.${ident(def.versionColumn)} <= EXCLUDED.${ident(def.versionColumn)}`;
  }
}

function versionOf(def: WarehouseTableDef, row: WarehouseRow): number {
  const value = row[def.versionColumn];
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') return Date.parse(value);
  return typeof value === 'number' ? value : 0;
}

function toJsonRow(def: WarehouseTableDef, row: WarehouseRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const column of def.columns) {
    const value = row[column.name];
    out[column.name] = value instanceof Date ? value.toISOString() : (value ?? null);
  }
  return out;
}

function fromPg(def: WarehouseTableDef, row: Record<string, unknown>): WarehouseRow {
  const out: WarehouseRow = {};
  for (const column of def.columns) {
    const value = row[column.name];
    if (value === null || value === undefined) {
      out[column.name] = null;
    } else if (column.type === 'TIMESTAMP') {
      out[column.name] = value instanceof Date ? value : new Date(value as string);
    } else if ((column.type === 'NUMERIC' || column.type === 'INT64' || column.type === 'FLOAT64') && column.mode !== 'REPEATED') {
      out[column.name] = Number(value);
    } else if (column.type === 'JSON' && typeof value === 'string') {
      out[column.name] = JSON.parse(value) as WarehouseRow[string];
    } else {
      out[column.name] = value as WarehouseRow[string];
    }
  }
  return out;
}
