// Customer imports over HTTP against real PostgreSQL and the in-process Firestore emulator: the
// upload is streamed to storage and queued, the worker validates every row as the customer API
// does and writes through the one write path (idempotent by email), the report counts created,
// updated, unchanged and rejected rows, rejections name the column and the reason but never the
// value, progress is saved batch by batch, the stored file is deleted afterwards, and a file over
// the limit is refused with nothing stored.
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPORT_QUEUE, ImportJob } from '../../src/imports/import-job.js';
import { XLSX_CONTENT_TYPE } from '../../src/imports/imports.schema.js';
import { claimNext } from '../../src/jobs/work-queue.js';
import { buildCustomer } from '../support/builders.js';
import { scanPostgres } from '../support/pii-scan.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const MAX_BYTES = 1_000_000;
let t: TestApp;
let business: { id: string; token: string };
const auth = (token = business.token) => ({ Authorization: `Bearer ${token}` });

beforeAll(async () => {
  // Imports run when a test drains the queue, not as soon as they are uploaded.
  t = await createTestApp({ env: { IMPORT_MAX_BYTES: String(MAX_BYTES), JOBS_IN_PROCESS: 'false' } });
  business = await t.newBusiness();
});
afterAll(() => t.close());

let run = 0;
/** Emails unique to one test run, so each test's file names its own customers. */
const mail = (local: string) => `${local}.${run}@example.com`;

const HEADER = 'email,First Name,lastName,phone,date_of_birth,status,tags,notes,address_line1,city,postal_code,country_code';
/** Rows 1–8: valid, bad email, bad date, unknown status, duplicate email, no email, valid with address, quoted notes. */
function mixedRows(): string[][] {
  return [
    [mail('ann'), 'Ann', 'Archer', '+14155550101', '1990-05-01', 'active', 'vip; newsletter ;vip', '', '', '', '', ''],
    ['not-an-email', 'Bad', 'Email', '', '', '', '', '', '', '', '', ''],
    [mail('cat'), 'Cat', 'Cole', '', '1990-13-45', '', '', '', '', '', '', ''],
    [mail('dan'), 'Dan', 'Dale', '', '', 'platinum', '', '', '', '', '', ''],
    [mail('ann').toUpperCase(), 'Ann', 'Again', '', '', '', '', '', '', '', '', ''],
    ['', 'No', 'Email', '+14155550102', '', '', '', '', '', '', '', ''],
    [mail('bob'), 'Bob', 'Baker', '', '', 'VIP', 'wholesale', '', '1 Rue de Rivoli', 'Paris', '75001', 'fr'],
    [mail('eve'), 'Eve', 'Evans', '', '', '', '', 'likes "blue", and\nred', '', '', '', ''],
  ];
}
const BAD_VALUES = ['not-an-email', '1990-13-45', 'platinum'];

function csvOf(header: string, rows: string[][]): Buffer {
  const quote = (cell: string) => (/[",\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell);
  return Buffer.from(`\uFEFF${header}\r\n${rows.map((r) => r.map(quote).join(',')).join('\r\n')}\r\n`);
}

async function xlsxOf(header: string, rows: (string | Date)[][]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Customers');
  sheet.addRow(header.split(','));
  for (const row of rows) sheet.addRow(row.map((c) => (c === '' ? null : c)));
  // A second sheet is ignored.
  workbook.addWorksheet('Notes').addRow(['email', 'ignored']);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

async function upload(file: Buffer, type = 'text/csv', token = business.token, query = '') {
  return request(t.app).post(`/api/v1/customers/import${query}`).set(auth(token)).set('Content-Type', type).send(file);
}

async function importAndRun(file: Buffer, type = 'text/csv', token = business.token) {
  const res = await upload(file, type, token, '?fileName=customers.csv');
  expect(res.status).toBe(202);
  expect(res.headers.location).toBe(`/api/v1/imports/${res.body.data.id}`);
  await t.queueWorker.drain();
  const done = await request(t.app).get(res.headers.location as string).set(auth(token)).expect(200);
  return done.body.data as Record<string, unknown> & { id: string; sizeBytes: number };
}

async function rejections(id: string, token = business.token) {
  const all: { rowNumber: number; errors: { field: string; message: string }[] }[] = [];
  let cursor: string | null = null;
  do {
    const res: request.Response = await request(t.app)
      .get(`/api/v1/imports/${id}/rejections?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      .set(auth(token))
      .expect(200);
    all.push(...res.body.data);
    cursor = res.body.meta.nextCursor;
  } while (cursor);
  return all;
}

async function customerByEmail(email: string, businessId = business.id) {
  const { rows } = await t.database.pool.query<{ id: string; version: string }>(
    'SELECT c.id, c.version FROM customers c JOIN business_customers bc ON bc.customer_id = c.id WHERE bc.business_id = $1 AND c.email_lowercase = lower($2)',
    [businessId, email],
  );
  return rows[0] ? { id: rows[0].id, version: Number(rows[0].version) } : undefined;
}

async function storedFiles(): Promise<string[]> {
  const entries = await readdir(t.config.jobs.storageDir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('customer import', () => {
  it('creates valid rows, rejects the others naming the column and the reason (never the value), and deletes the file', async () => {
    run++;
    const file = csvOf(HEADER, mixedRows());
    const report = await importAndRun(file);
    expect(report).toMatchObject({ status: 'COMPLETED', format: 'csv', fileName: 'customers.csv', rowsProcessed: 8, created: 3, updated: 0, unchanged: 0, rejected: 5 });
    expect(report.bytesRead).toBe(file.length);
    expect(report.sizeBytes).toBe(file.length);

    const rejected = await rejections(report.id);
    expect(rejected.map((r) => [r.rowNumber, r.errors.map((e) => e.field)])).toEqual([
      [2, ['email']],
      [3, ['date_of_birth']],
      [4, ['status']],
      [5, ['email']],
      [6, ['email']],
    ]);
    expect(rejected.find((r) => r.rowNumber === 5)!.errors[0]!.message).toMatch(/earlier row/);
    expect(rejected.find((r) => r.rowNumber === 6)!.errors[0]!.message).toMatch(/required/);
    const text = JSON.stringify(rejected);
    for (const value of [...BAD_VALUES, mail('ann'), 'Again', '+14155550102']) expect(text.toLowerCase()).not.toContain(value.toLowerCase());

    // The write path: API-visible customers with the row's values, an outbox row each, Firestore after projection.
    const ann = await customerByEmail(mail('ann'));
    const profile = (await request(t.app).get(`/api/v1/customers/${ann!.id}`).set(auth()).expect(200)).body.data;
    expect(profile).toMatchObject({ firstName: 'Ann', lastName: 'Archer', phone: '+14155550101', dateOfBirth: '1990-05-01', tags: ['vip', 'newsletter'] });
    const bob = (await request(t.app).get(`/api/v1/customers/${(await customerByEmail(mail('bob')))!.id}`).set(auth()).expect(200)).body.data;
    expect(bob).toMatchObject({ status: 'vip', tags: ['wholesale'] });
    expect(bob.addresses).toMatchObject([{ addressLine1: '1 Rue de Rivoli', city: 'Paris', postalCode: '75001', countryCode: 'FR', country: 'France', isDefault: true }]);
    const eve = (await request(t.app).get(`/api/v1/customers/${(await customerByEmail(mail('eve')))!.id}`).set(auth()).expect(200)).body.data;
    expect(eve.notes).toBe('likes "blue", and\nred');
    const { rows: logs } = await t.database.pool.query("SELECT 1 FROM sync_logs WHERE entity_id = $1 AND operation = 'create'", [ann!.id]);
    expect(logs).toHaveLength(1);
    await t.projector.drain();
    expect((await t.firestore.db.doc(`customers/${ann!.id}`).get()).exists).toBe(true);

    const { rows } = await t.database.pool.query('SELECT storage_key FROM customer_imports WHERE id = $1', [report.id]);
    expect(rows[0].storage_key).toBeNull();
    expect(await storedFiles()).toEqual([]);

    // The same file again: nothing created or changed, the same rows rejected for the same reasons.
    const again = await importAndRun(file);
    expect(again).toMatchObject({ status: 'COMPLETED', rowsProcessed: 8, created: 0, updated: 0, unchanged: 3, rejected: 5 });
    expect(await rejections(again.id)).toEqual(rejected);
    expect((await customerByEmail(mail('ann')))!.version).toBe(ann!.version);
  });

  it('updates the customer whose email matches (in any case) when the row changes something, through the write path', async () => {
    run++;
    const created = await request(t.app)
      .post('/api/v1/customers')
      .set(auth())
      .send(buildCustomer({ email: mail('kim'), firstName: 'Kim', lastName: 'Old', phone: '+14155550199', tags: ['old'] }))
      .expect(201);
    const id = created.body.data.id as string;
    const before = created.body.data.version as number;
    await t.projector.drain();

    const file = csvOf('EMAIL,last_name,tags,city,address_line1,country_code', [[mail('kim').toUpperCase(), 'New', 'gold;old', 'Lyon', '2 Quai', 'FR']]);
    expect(await importAndRun(file)).toMatchObject({ created: 0, updated: 1, unchanged: 0, rejected: 0 });
    const after = (await request(t.app).get(`/api/v1/customers/${id}`).set(auth()).expect(200)).body.data;
    // Only what the row gives changes; the email is the key, so its stored spelling stays.
    expect(after).toMatchObject({ email: mail('kim'), firstName: 'Kim', lastName: 'New', phone: '+14155550199', tags: ['gold', 'old'], version: before + 1 });
    expect(after.addresses.map((a: { city: string }) => a.city).sort()).toEqual(['Beverly Hills', 'Lyon']);
    await t.projector.drain();
    const doc = (await t.firestore.db.doc(`customers/${id}`).get()).data()!;
    expect(doc.tags).toEqual(['gold', 'old']);
    expect(doc._sync.version).toBe(before + 1);
    expect((await t.firestore.db.doc(`customers/${id}/private/pii`).get()).data()!.lastName).toBe('New');

    // Again: unchanged, no new version.
    expect(await importAndRun(file)).toMatchObject({ updated: 0, unchanged: 1 });
    expect((await customerByEmail(mail('kim')))!.version).toBe(before + 1);
  });

  it('reads an .xlsx workbook (first sheet) to the same report as the CSV', async () => {
    run++;
    const rows = mixedRows();
    const other = await t.newBusiness('xlsx business');
    const csvReport = await importAndRun(csvOf(HEADER, rows), 'text/csv', other.token);
    const xlsxRows: (string | Date)[][] = rows.map((r) => [...r]);
    // A real date cell, as Excel stores it.
    xlsxRows[0]![4] = new Date(Date.UTC(1990, 4, 1));
    const third = await t.newBusiness('xlsx business 2');
    const xlsxReport = await importAndRun(await xlsxOf(HEADER, xlsxRows), XLSX_CONTENT_TYPE, third.token);
    const counts = (r: Record<string, unknown>) => ({ status: r.status, rowsProcessed: r.rowsProcessed, created: r.created, updated: r.updated, unchanged: r.unchanged, rejected: r.rejected });
    expect(xlsxReport.format).toBe('xlsx');
    expect(counts(xlsxReport)).toEqual(counts(csvReport));
    expect(await rejections(xlsxReport.id, third.token)).toEqual(await rejections(csvReport.id, other.token));
    const ann = await customerByEmail(mail('ann'), third.id);
    const profile = (await request(t.app).get(`/api/v1/customers/${ann!.id}`).set(auth(third.token)).expect(200)).body.data;
    expect(profile).toMatchObject({ dateOfBirth: '1990-05-01', tags: ['vip', 'newsletter'] });
    expect(await storedFiles()).toEqual([]);
  });

  it('saves progress batch by batch while processing, ending with every byte read and counts that add up', async () => {
    run++;
    // Every update of the import row, recorded by a trigger: what GET /imports/{id} showed meanwhile.
    await t.database.pool.query(`
      CREATE TABLE import_progress_log (status text, rows_processed int, bytes_read bigint, total int);
      CREATE FUNCTION log_import_progress() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO import_progress_log VALUES (NEW.status, NEW.rows_processed, NEW.bytes_read, NEW.created + NEW.updated + NEW.unchanged + NEW.rejected);
        RETURN NEW;
      END $$;
      CREATE TRIGGER import_progress AFTER UPDATE ON customer_imports FOR EACH ROW EXECUTE FUNCTION log_import_progress();`);
    // 5,000 rows: one in five creates a customer (the slow part), the others are refused in turn
    // for a bad email, a bad date of birth, an unknown status and a duplicate email.
    const rows = Array.from({ length: 5000 }, (_, i) => {
      const n = Math.floor(i / 5);
      return [
        [mail(`bulk${n}`), 'Row', String(i), '', ''],
        [`bad-${i}`, 'Row', String(i), '', ''],
        [mail(`other${i}`), 'Row', String(i), '1990-02-30', ''],
        [mail(`other${i}`), 'Row', String(i), '', 'gone'],
        [mail(`bulk${n}`), 'Row', String(i), '', ''],
      ][i % 5]!;
    });
    const file = csvOf('email,first_name,last_name,date_of_birth,status', rows);
    const queued = await upload(file);
    expect(queued.status).toBe(202);
    expect(queued.body.data).toMatchObject({ status: 'PENDING', bytesRead: 0, rowsProcessed: 0, sizeBytes: file.length });
    await t.queueWorker.drain();
    const report = (await request(t.app).get(`/api/v1/imports/${queued.body.data.id}`).set(auth()).expect(200)).body.data;
    expect(report).toMatchObject({ status: 'COMPLETED', rowsProcessed: 5000, created: 1000, rejected: 4000, bytesRead: file.length });
    expect(report.created + report.updated + report.unchanged + report.rejected).toBe(report.rowsProcessed);

    const { rows: log } = await t.database.pool.query<{ status: string; rows_processed: number; bytes_read: string; total: number }>(
      "SELECT * FROM import_progress_log WHERE status = 'PROCESSING' AND rows_processed > 0",
    );
    await t.database.pool.query('DROP TRIGGER import_progress ON customer_imports');
    expect(log.length).toBeGreaterThanOrEqual(25);
    const processed = log.map((l) => l.rows_processed);
    expect(processed).toEqual([...processed].sort((a, b) => a - b));
    expect(processed[0]).toBe(200);
    expect(log.every((l) => l.total === l.rows_processed)).toBe(true);
    const bytes = log.map((l) => Number(l.bytes_read));
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
    expect(bytes[0]).toBeGreaterThan(0);
    expect(bytes[0]).toBeLessThan(file.length);
  }, 180_000);

  it('resumes a crashed import after its saved progress, creating nothing twice', async () => {
    run++;
    const rows = Array.from({ length: 450 }, (_, i) => [mail(`resume${i}`), 'Re', String(i)]);
    const queued = await upload(csvOf('email,first_name,last_name', rows));
    const id = queued.body.data.id as string;
    // A worker that dies after its 250th customer: the first batch (200 rows) was saved, rows
    // 201–250 were written but not yet counted.
    let writes = 0;
    const dying = new Proxy(t.sync, {
      get(target, prop, receiver) {
        if (prop !== 'syncCustomer') return Reflect.get(target, prop, receiver) as unknown;
        return async (...args: Parameters<typeof target.syncCustomer>) => {
          if (++writes > 250) throw new Error('worker died');
          return target.syncCustomer(...args);
        };
      },
    });
    const job = new ImportJob({ db: t.database.handle.db, sync: dying, storage: t.fileStorage, logger: pino({ level: 'silent' }) });
    const claim = (await claimNext(t.database.handle.db, IMPORT_QUEUE, new Date()))!;
    expect(claim.id).toBe(id);
    await expect(job.process(claim, new Date())).rejects.toThrow('worker died');
    const crashed = (await request(t.app).get(`/api/v1/imports/${id}`).set(auth()).expect(200)).body.data;
    expect(crashed).toMatchObject({ status: 'PROCESSING', rowsProcessed: 200, created: 200 });

    // Its lease runs out; the worker claims the import again.
    await t.database.pool.query("UPDATE customer_imports SET lease_expires_at = now() - interval '1 second' WHERE id = $1", [id]);
    await t.queueWorker.drain();
    const report = (await request(t.app).get(`/api/v1/imports/${id}`).set(auth()).expect(200)).body.data;
    expect(report).toMatchObject({ status: 'COMPLETED', attempts: 2, rowsProcessed: 450, created: 400, unchanged: 50, rejected: 0 });
    const { rows: counted } = await t.database.pool.query(
      'SELECT count(*)::int AS n FROM business_customers WHERE business_id = $1 AND email_lowercase LIKE $2',
      [business.id, `resume%.${run}@example.com`],
    );
    expect(counted[0].n).toBe(450);
    expect(await storedFiles()).toEqual([]);
  });

  it('fails an import whose header has an unknown column, naming it, and creates nothing', async () => {
    run++;
    const report = await importAndRun(csvOf('email,first_name,favourite_colour', [[mail('zed'), 'Zed', 'blue']]));
    expect(report).toMatchObject({ status: 'FAILED', rowsProcessed: 0, created: 0 });
    // Named by position, not by its text (a header cell may be a customer's data: see the next test).
    expect(report.lastError).toMatch(/Unknown header in column 3 /);
    expect(report.lastError).not.toMatch(/favourite|blue|no header row/);
    expect(await customerByEmail(mail('zed'))).toBeUndefined();
    expect(await storedFiles()).toEqual([]);
  });

  it('fails a file without a header row naming columns by position only: the first row\'s values are nowhere (error, API, database, logs)', async () => {
    run++;
    // The first data row becomes the "header": an email, names, a phone.
    const values = [mail('nohead'), 'Zebedee', 'Quarterfield', '+14155550177'];
    const file = Buffer.from(`${values.join(',')}\r\n${[mail('second'), 'Yolanda', 'Pemberton', ''].join(',')}\r\n`);
    const queued = await upload(file);
    expect(queued.status).toBe(202);
    // Processed here with a logger that keeps every line.
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
    const job = new ImportJob({ db: t.database.handle.db, sync: t.sync, storage: t.fileStorage, logger });
    const claim = (await claimNext(t.database.handle.db, IMPORT_QUEUE, new Date()))!;
    expect(claim.id).toBe(queued.body.data.id);
    await job.process(claim, new Date());

    const res = await request(t.app).get(`/api/v1/imports/${claim.id}`).set(auth()).expect(200);
    const report = res.body.data;
    expect(report).toMatchObject({ status: 'FAILED', rowsProcessed: 0, created: 0 });
    expect(report.lastError).toMatch(/^Unknown header in columns 1, 2, 3, 4 .*seems to have no header row/);
    const listed = await request(t.app).get('/api/v1/imports').set(auth()).expect(200);
    const needles = [...values, 'nohead', 'Yolanda'];
    const places = { lastError: report.lastError as string, api: JSON.stringify(res.body) + JSON.stringify(listed.body), logs: lines.join('\n') };
    expect(places.logs).toMatch(/UNKNOWN_COLUMNS/);
    for (const [place, text] of Object.entries(places)) {
      for (const needle of needles) expect({ place, found: text.toLowerCase().includes(needle.toLowerCase()) }).toEqual({ place, found: false });
    }
    expect(await scanPostgres(t.database.pool, needles)).toEqual([]);
    expect(await customerByEmail(mail('nohead'))).toBeUndefined();
    expect(await storedFiles()).toEqual([]);
  });

  it('refuses a file over IMPORT_MAX_BYTES with 413, storing nothing, whether its length is declared or not', async () => {
    const { rows: before } = await t.database.pool.query('SELECT count(*)::int AS n FROM customer_imports');
    const big = Buffer.concat([Buffer.from('email\n'), Buffer.alloc(MAX_BYTES, 'a')]);
    const res = await upload(big);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ success: false, code: 'PAYLOAD_TOO_LARGE', details: [{ field: 'body' }] });

    // Chunked, with no Content-Length: refused once the limit is crossed.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const server = t.app.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        const req = http.request(
          { host: '127.0.0.1', port, method: 'POST', path: '/api/v1/customers/import', headers: { ...auth(), 'Content-Type': 'text/csv', 'Transfer-Encoding': 'chunked' } },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => server.close(() => resolve({ status: res.statusCode!, body })));
          },
        );
        req.on('error', (err) => server.close(() => reject(err)));
        for (let i = 0; i < 20; i++) req.write(Buffer.alloc(MAX_BYTES / 10, 'b'));
        req.end();
      });
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });

    const { rows: after } = await t.database.pool.query('SELECT count(*)::int AS n FROM customer_imports');
    expect(after[0].n).toBe(before[0].n);
    expect(await storedFiles()).toEqual([]);
  });

  it('refuses an empty body, another media type and a role without customers:import', async () => {
    const empty = await upload(Buffer.alloc(0));
    expect(empty.status).toBe(400);
    expect(empty.body.details).toEqual([{ field: 'body', message: expect.stringMatching(/empty/) }]);
    const json = await request(t.app).post('/api/v1/customers/import').set(auth()).send({ email: 'x@example.com' });
    expect(json.status).toBe(415);
    const analyst = await upload(csvOf('email', [['a@example.com']]), 'text/csv', t.tokenFor(business.id, 'analyst'));
    expect(analyst.status).toBe(403);
    const badName = await upload(csvOf('email', [['a@example.com']]), 'text/csv', business.token, `?fileName=${encodeURIComponent('a\u0001b')}`);
    expect(badName.status).toBe(400);
    expect(badName.body.details[0].field).toBe('query.fileName');
    expect(await storedFiles()).toEqual([]);
    // Another business's import is not found.
    const other = await t.newBusiness('other');
    const mine = await upload(csvOf('email', [[mail('mine')]]));
    await request(t.app).get(`/api/v1/imports/${mine.body.data.id}`).set(auth(other.token)).expect(404);
    await t.queueWorker.drain();
  });
});
