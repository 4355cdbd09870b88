// Streaming row readers for import files: CSV (csv-parse) and Excel .xlsx (exceljs's streaming
// WorkbookReader, first worksheet). Both yield each row as an array of strings, the header first,
// with empty rows skipped, so the rest of the import does not care about the format. Neither
// holds more than a chunk of the file in memory. A byte counter in front says how far the file
// has been read (progress).
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { parse, CsvError } from 'csv-parse';
import ExcelJS from 'exceljs';
import type { IMPORT_FORMATS } from '../db/schema/index.js';

export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** Why a file cannot be read: logged instead of the message. */
export type FileFormatErrorCode = 'MALFORMED_CSV' | 'NOT_XLSX' | 'NO_WORKSHEET' | 'EMPTY_FILE' | 'FILE_MISSING';

/** The file cannot be read as its format: the import fails with this message (no cell values in it). */
export class FileFormatError extends Error {
  constructor(
    readonly code: FileFormatErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Counts the bytes that pass through. */
export class ByteCounter extends Transform {
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

export function readRows(format: ImportFormat, body: Readable): AsyncGenerator<string[]> {
  return format === 'csv' ? readCsvRows(body) : readXlsxRows(body);
}

/**
 * CSV as RFC 4180 with the first record as the header: quoted fields may hold commas, quotes
 * and line breaks; a UTF-8 byte-order mark is dropped; records may have fewer or more fields than
 * the header (the row check reports extra values).
 */
export async function* readCsvRows(body: Readable): AsyncGenerator<string[]> {
  const parser = body.pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true }));
  body.on('error', (err) => parser.destroy(err));
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (record.every((cell) => cell.trim() === '')) continue;
      yield record;
    }
  } catch (err) {
    // csv-parse messages quote the offending characters: keep the code and line only.
    if (err instanceof CsvError) throw new FileFormatError('MALFORMED_CSV', `The CSV is malformed near line ${typeof err.lines === 'number' ? err.lines : '?'} (${err.code})`);
    throw err;
  } finally {
    parser.destroy();
  }
}

/**
 * The first worksheet of an .xlsx workbook, row by row. Dates become YYYY-MM-DD (Excel keeps no
 * time zone; exceljs reads them as UTC), numbers their plain text, rich text and hyperlinks their
 * text, formulas their cached result. Later worksheets are read through and ignored, so exceljs
 * removes any temporary file it made for them.
 */
export async function* readXlsxRows(body: Readable): AsyncGenerator<string[]> {
  const input = body.pipe(new PassThrough());
  body.on('error', (err) => input.destroy(err));
  const workbook = new ExcelJS.stream.xlsx.WorkbookReader(input, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    // Styles say which numbers are dates.
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'ignore',
  });
  let sheets = 0;
  try {
    for await (const worksheet of workbook) {
      sheets++;
      for await (const row of worksheet) {
        if (sheets > 1) continue;
        // row.values is 1-based and sparse.
        const values = (row.values as unknown[]).slice(1);
        const cells = Array.from({ length: values.length }, (_, i) => cellText(values[i]));
        if (cells.every((c) => c.trim() === '')) continue;
        yield cells;
      }
    }
  } catch (err) {
    if (err instanceof Error && /zip|signature|end of central directory|invalid|unexpected/i.test(err.message)) {
      throw new FileFormatError('NOT_XLSX', 'The file is not a readable .xlsx workbook');
    }
    throw err;
  }
  if (sheets === 0) throw new FileFormatError('NO_WORKSHEET', 'The workbook has no worksheet');
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString().slice(0, 10);
  if (typeof value === 'object') {
    const v = value as { richText?: { text: string }[]; text?: unknown; result?: unknown; error?: unknown };
    if (Array.isArray(v.richText)) return v.richText.map((r) => r.text).join('');
    if ('result' in v) return cellText(v.result);
    if (v.text !== undefined) return cellText(v.text);
  }
  return '';
}
