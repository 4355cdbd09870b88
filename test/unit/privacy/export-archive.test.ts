// The export archive: CSV cells (quoting, nested values, nulls, extra columns), the zip's files
// and its checksum, and Firestore values turned into JSON.
import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { strFromU8, unzipSync } from 'fflate';
import { GeoPoint, Timestamp } from 'firebase-admin/firestore';
import { describe, expect, it } from 'vitest';
import { buildArchive, toCsv } from '../../../src/privacy/exports/export-archive.js';
import { toJson } from '../../../src/privacy/exports/export-content.js';

describe('toCsv', () => {
  it('writes a header even without rows, quotes what needs it, nests JSON and keeps unknown columns', () => {
    expect(toCsv({ path: 'csv/x.csv', columns: ['a', 'b'], rows: [] }).trim()).toBe('a,b');
    const text = toCsv({
      path: 'csv/x.csv',
      columns: ['id', 'note', 'tags', 'gone'],
      rows: [{ id: 1, note: 'comma, "quote"\nnewline', tags: ['x', 'y'], gone: null, extra: { k: true } }],
    });
    const [row] = parse<Record<string, string>>(text, { columns: true });
    expect(row).toEqual({ id: '1', note: 'comma, "quote"\nnewline', tags: '["x","y"]', gone: '', extra: '{"k":true}' });
  });
});

describe('buildArchive', () => {
  it('holds export.json, a README and every CSV, and its checksum is the sha256 of its bytes', () => {
    const archive = buildArchive({ json: { hello: 'wörld' }, csv: [{ path: 'csv/t.csv', columns: ['a'], rows: [{ a: 1 }, { a: 2 }] }] });
    expect(archive.checksum).toBe(createHash('sha256').update(archive.bytes).digest('hex'));
    const files = unzipSync(new Uint8Array(archive.bytes));
    expect(Object.keys(files).sort()).toEqual(['README.txt', 'csv/t.csv', 'export.json']);
    expect(JSON.parse(strFromU8(files['export.json']!))).toEqual({ hello: 'wörld' });
    expect(parse(strFromU8(files['csv/t.csv']!), { columns: true })).toHaveLength(2);
  });

  it('is byte-identical for the same content (fixed file times)', () => {
    const content = { json: { a: 1 }, csv: [] };
    expect(buildArchive(content).checksum).toBe(buildArchive(content).checksum);
  });
});

describe('toJson', () => {
  it('turns Firestore timestamps and geo points, dates and nested values into JSON', () => {
    const at = new Date('2026-01-02T03:04:05.000Z');
    expect(toJson({ t: Timestamp.fromDate(at), g: new GeoPoint(48.85, 2.35), d: at, n: [1, null, undefined, NaN], s: 'x' })).toEqual({
      t: '2026-01-02T03:04:05.000Z',
      g: { latitude: 48.85, longitude: 2.35 },
      d: '2026-01-02T03:04:05.000Z',
      n: [1, null, null, null],
      s: 'x',
    });
  });
});
