// The import file readers: RFC 4180 CSV (quotes, embedded line breaks, a byte-order mark, blank
// lines) and the first worksheet of an .xlsx workbook (dates, numbers, rich text, formulas), both
// as rows of strings; a malformed file is refused without quoting its content.
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { ByteCounter, FileFormatError, readCsvRows, readXlsxRows } from '../../../src/imports/row-readers.js';

async function all(rows: AsyncGenerator<string[]>): Promise<string[][]> {
  const out: string[][] = [];
  for await (const row of rows) out.push(row);
  return out;
}

describe('readCsvRows', () => {
  it('reads quoted fields, embedded line breaks and a BOM, skipping blank lines', async () => {
    const csv = '\uFEFFemail,notes\r\na@example.com,"said ""hi"", then\nleft"\r\n\r\n,\r\nb@example.com,plain\r\n';
    const counter = new ByteCounter();
    const rows = await all(readCsvRows(Readable.from([Buffer.from(csv)]).pipe(counter)));
    expect(rows).toEqual([
      ['email', 'notes'],
      ['a@example.com', 'said "hi", then\nleft'],
      ['b@example.com', 'plain'],
    ]);
    expect(counter.bytes).toBe(Buffer.byteLength(csv));
  });

  it('refuses a malformed file, naming the line but not the content', async () => {
    const error = await all(readCsvRows(Readable.from([Buffer.from('email,notes\na@example.com,"secret value\n')]))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileFormatError);
    expect((error as Error).message).toMatch(/malformed near line/);
    expect((error as Error).message).not.toMatch(/secret/);
  });
});

describe('readXlsxRows', () => {
  it('reads the first worksheet as text: dates as YYYY-MM-DD, numbers, rich text and formula results', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Customers');
    sheet.addRow(['email', 'date_of_birth', 'notes', 'n']);
    sheet.addRow(['a@example.com', new Date(Date.UTC(1985, 11, 31)), { richText: [{ text: 'bold ' }, { text: 'and plain' }] }, 42]);
    sheet.addRow([]);
    sheet.addRow(['b@example.com', null, { formula: '1+1', result: 2 }, 3.5]);
    workbook.addWorksheet('Other').addRow(['not', 'read']);
    const file = Buffer.from(await workbook.xlsx.writeBuffer());
    const rows = await all(readXlsxRows(Readable.from([file])));
    expect(rows).toEqual([
      ['email', 'date_of_birth', 'notes', 'n'],
      ['a@example.com', '1985-12-31', 'bold and plain', '42'],
      ['b@example.com', '', '2', '3.5'],
    ]);
  });

  it('refuses a file that is not a workbook', async () => {
    await expect(all(readXlsxRows(Readable.from([Buffer.from('email\na@example.com\n')])))).rejects.toBeInstanceOf(FileFormatError);
  });
});
