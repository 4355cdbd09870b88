// Packs an export into one zip: export.json (machine-readable, GDPR Art. 20), one CSV per table,
// and a short README. Returns the bytes and their sha256, which the export record keeps.
import { createHash } from 'node:crypto';
import { stringify } from 'csv-stringify/sync';
import { strToU8, zipSync, type Zippable } from 'fflate';
import type { CsvTable, ExportContent } from './export-content.js';

export interface Archive {
  bytes: Buffer;
  /** sha256 of the bytes, hex. */
  checksum: string;
}

/** A CSV cell: text as is, numbers and booleans as text, objects and lists as JSON, null as empty. */
function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

export function toCsv(table: CsvTable): string {
  // Columns a row has beyond the declared ones (a table changed since) are kept, after them.
  const columns = [...table.columns];
  for (const row of table.rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  return stringify(
    table.rows.map((row) => columns.map((c) => cell(row[c]))),
    { header: true, columns, bom: false },
  );
}

const README = `This archive holds the data exported for one customer.

export.json   everything, machine-readable (JSON). Its "art15" section says why the data is
              processed, where it came from, who receives it, how long it is kept, and how the
              predictions about you are made.
csv/          the same records, one CSV file per table (UTF-8, comma-separated, header row).
              Nested values are written as JSON.
`;

export function buildArchive(content: ExportContent): Archive {
  const files: Zippable = {
    'README.txt': strToU8(README),
    'export.json': strToU8(JSON.stringify(content.json, null, 2)),
  };
  for (const table of content.csv) files[table.path] = strToU8(toCsv(table));
  const bytes = Buffer.from(zipSync(files, { level: 6, mtime: new Date('2000-01-01T00:00:00Z') }));
  return { bytes, checksum: createHash('sha256').update(bytes).digest('hex') };
}
