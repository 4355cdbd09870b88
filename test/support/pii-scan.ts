// Test support: looks for values (an email, a phone, names) in EVERY place they could hide, not in
// a list of places we expect: every text-like column of every table of the test database
// (warehouse schema included), every Firestore document from the root down (the in-process
// emulator's whole state), every warehouse
// table through the Warehouse port, and Redis keys. Erasure tests use it to prove "none remains".
import type { Firestore } from 'firebase-admin/firestore';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { WAREHOUSE_TABLE_NAMES } from '../../src/warehouse/warehouse-tables.js';
import type { Warehouse } from '../../src/warehouse/warehouse.port.js';

export interface PgHit {
  table: string;
  column: string;
  needle: string;
}

const TEXT_LIKE = ['text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'USER-DEFINED', 'inet'];

const likePattern = (needle: string) => `%${needle.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Every (table, column, needle) where a text-like column of a base table holds a needle (case-insensitive). */
export async function scanPostgres(pool: Pool, needles: string[]): Promise<PgHit[]> {
  const { rows: columns } = await pool.query<{ table_schema: string; table_name: string; column_name: string }>(
    `SELECT c.table_schema, c.table_name, c.column_name
     FROM information_schema.columns c
     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
       AND c.data_type = ANY($1)
     ORDER BY 1, 2, 3`,
    [TEXT_LIKE],
  );
  const byTable = new Map<string, string[]>();
  for (const c of columns) {
    const key = `"${c.table_schema}"."${c.table_name}"`;
    byTable.set(key, [...(byTable.get(key) ?? []), c.column_name]);
  }
  const patterns = needles.map(likePattern);
  const hits: PgHit[] = [];
  for (const [table, cols] of byTable) {
    for (const column of cols) {
      const { rows } = await pool.query<{ value: string }>(
        `SELECT lower("${column}"::text) AS value FROM ${table} WHERE lower("${column}"::text) LIKE ANY($1)`,
        [patterns],
      );
      for (const row of rows) {
        for (const needle of needles) if (row.value.includes(needle.toLowerCase())) hits.push({ table, column, needle });
      }
    }
  }
  return hits;
}

/** The number of base tables and text-like columns the scan covers (so a test can show it is not empty). */
export async function scannedColumns(pool: Pool): Promise<{ tables: number; columns: number; schemas: string[] }> {
  const { rows } = await pool.query<{ tables: number; columns: number; schemas: string[] }>(
    `SELECT count(DISTINCT (c.table_schema, c.table_name))::int AS tables, count(*)::int AS columns, array_agg(DISTINCT c.table_schema::text) AS schemas
     FROM information_schema.columns c
     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema') AND c.data_type = ANY($1)`,
    [TEXT_LIKE],
  );
  return rows[0]!;
}

export interface FirestoreScan {
  /** Every existing document's path. */
  paths: string[];
  /** Documents whose data holds a needle. */
  hits: { path: string; needle: string }[];
  /** Existing documents whose path names one of the ids (as a document or a parent). */
  named: string[];
}

/** The in-process emulator's state dump (FirestoreServer.state.toJSON()): collections, documents, sub-collections. */
interface StateNode {
  collections?: Record<string, { documents?: Record<string, StateNode> }>;
  databases?: Record<string, StateNode>;
  projects?: Record<string, StateNode>;
  documents?: Record<string, StateNode>;
  path?: string;
}

/** Every document path the emulator holds, from the root down, whatever the collection names. */
export function emulatorDocumentPaths(state: { toJSON(): unknown }): string[] {
  const paths: string[] = [];
  const walk = (node: StateNode | undefined): void => {
    if (!node) return;
    for (const child of Object.values(node.projects ?? {})) walk(child);
    for (const child of Object.values(node.databases ?? {})) walk(child);
    for (const collection of Object.values(node.collections ?? {})) {
      for (const doc of Object.values(collection.documents ?? {})) {
        if (doc.path) paths.push(doc.path.split('/documents/')[1] ?? doc.path);
        walk(doc);
      }
    }
  };
  walk(state.toJSON() as StateNode);
  return paths;
}

/**
 * Reads every document the emulator holds (enumerated from its state: the emulator implements
 * neither listCollections nor listDocuments) through the client, and reports the ones that exist
 * and hold a needle or sit under one of the ids.
 */
export async function scanFirestore(db: Firestore, state: { toJSON(): unknown }, needles: string[], ids: string[]): Promise<FirestoreScan> {
  const scan: FirestoreScan = { paths: [], hits: [], named: [] };
  const lowered = needles.map((n) => n.toLowerCase());
  for (const path of emulatorDocumentPaths(state)) {
    const snapshot = await db.doc(path).get();
    if (!snapshot.exists) continue; // deleted documents stay in the emulator's tree, empty
    scan.paths.push(path);
    if (ids.some((id) => path.split('/').includes(id))) scan.named.push(path);
    const text = JSON.stringify(snapshot.data()).toLowerCase();
    lowered.forEach((needle, i) => {
      if (text.includes(needle)) scan.hits.push({ path, needle: needles[i]! });
    });
  }
  return scan;
}

/** Every (table, needle) where a current warehouse row holds a needle, read through the port. */
export async function scanWarehouse(warehouse: Warehouse, needles: string[]): Promise<{ table: string; needle: string; rows: number }[]> {
  const hits: { table: string; needle: string; rows: number }[] = [];
  for (const table of WAREHOUSE_TABLE_NAMES) {
    const texts: string[] = [];
    for await (const row of warehouse.read(table, {})) texts.push(JSON.stringify(row).toLowerCase());
    for (const needle of needles) {
      const rows = texts.filter((text) => text.includes(needle.toLowerCase())).length;
      if (rows > 0) hits.push({ table, needle, rows });
    }
  }
  return hits;
}

/** Redis keys naming any of the ids (SCAN, not KEYS, so a shared Redis is not blocked). */
export async function redisKeysNaming(redis: Redis, ids: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const id of ids) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${id}*`, 'COUNT', 1000);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
  return found;
}
