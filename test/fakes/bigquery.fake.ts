// A fake BigQuery REST server for tests: node:http on 127.0.0.1, serving the part of
// `/bigquery/v2/projects/{project}/…` that BigQueryWarehouse uses, in the shapes of the REST
// reference (errors are `{ error: { code, message, errors: [{ reason, message }], status } }`):
// - datasets.get / datasets.insert (409 "Already Exists");
// - tables.get / tables.insert / tables.patch: schema (types normalised to the legacy names the
//   API returns: INTEGER, FLOAT, BOOLEAN), timePartitioning, clustering, views; a patch may only
//   add NULLABLE/REPEATED columns or relax REQUIRED, as on BigQuery;
// - tabledata.insertAll: 10 MB and 50,000 rows per request (else 400), per-row validation
//   against the schema (`insertErrors: [{ index, errors: [{ reason: 'invalid', message,
//   location }] }]`); with skipInvalidRows false the other rows of such a request come back
//   'stopped' and are NOT stored; best-effort insertId de-duplication within a window. Rows are
//   kept as streamed, duplicates included: de-duplication belongs to the views, as on BigQuery;
// - jobs.query / jobs.getQueryResults for exactly one SQL shape:
//   SELECT * FROM `p.d.view` [WHERE col = @param AND …] ORDER BY col[, col …]
//   over a view created as the ROW_NUMBER de-dup pattern BigQueryWarehouse writes
//   (SELECT * EXCEPT(_rn) FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY … ORDER BY …) AS _rn
//   FROM `p.d.t`) WHERE _rn = 1). The fake applies that rule in memory;
// - jobs.query for two DML shapes on a base table, answering numDmlAffectedRows:
//   DELETE FROM `p.d.table` WHERE col = @param [AND …], and
//   UPDATE `p.d.table` SET col = NULL[, col = NULL …] WHERE col = @param [AND …] (what erasure's
//   de-identification sends; assigning NULL to a REQUIRED column is refused as BigQuery does).
//   With `control.streamingBufferMs` set, rows streamed less than that long ago are in the
//   streaming buffer and a DELETE or UPDATE matching any of them is refused as BigQuery does
//   (400 invalidQuery "… would affect rows in the streaming buffer …"), changing nothing.
//   Any other SQL, view or route answers 400/501 "unsupported by the fake", so nothing passes by
//   accident.
// Paging: page tokens, maxResults, startIndex; TIMESTAMP cells as int64 microseconds when
// formatOptions.useInt64Timestamp is set (the Node client always sets it), else float seconds.
//
// Auth: `client()` builds a real `BigQuery` whose `authClient` only hands out a static bearer
// token. With a projectId given, @google-cloud/common asks its auth client for nothing but
// request headers (GoogleAuth.authorizeRequest → authClient.getRequestHeaders), so no Google
// credentials, metadata-server probe or token exchange happen. The fake answers 401 to a request
// without a bearer token, so a client that silently fell back to "no credentials" would show.
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BigQuery, type BigQueryOptions } from '@google-cloud/bigquery';

export const INSERT_ALL_MAX_BYTES = 10 * 1024 * 1024;
export const INSERT_ALL_MAX_ROWS = 50_000;
const INSERT_ID_MAX_LENGTH = 128;
const FAKE_TOKEN = 'fake-bigquery-token';

export interface FieldResource {
  name: string;
  type: string;
  mode?: string;
  description?: string;
}

export interface TableResource {
  kind: 'bigquery#table';
  id: string;
  etag: string;
  type: 'TABLE' | 'VIEW';
  tableReference: { projectId: string; datasetId: string; tableId: string };
  description?: string;
  schema?: { fields: FieldResource[] };
  timePartitioning?: { type: string; field?: string; expirationMs?: string };
  clustering?: { fields: string[] };
  view?: { query: string; useLegacySql?: boolean };
  location?: string;
  creationTime: string;
  lastModifiedTime: string;
}

export interface DatasetResource {
  kind: 'bigquery#dataset';
  id: string;
  etag: string;
  datasetReference: { projectId: string; datasetId: string };
  location: string;
  creationTime: string;
}

export interface RecordedRequest {
  method: string;
  /** Path below /bigquery/v2, e.g. `/projects/p/datasets/d/tables/t/insertAll`. */
  path: string;
  status: number;
  /** Request body size in bytes as received. */
  bytes: number;
  /** insertAll only: the rows' insertIds in request order (undefined where a row had none). */
  insertIds?: (string | undefined)[];
  /** jobs.query only: the SQL text. */
  query?: string;
}

export type RowFaultReason = 'backendError' | 'internalError' | 'timeout' | 'stopped';
type RequestKind = 'insertAll' | 'query' | 'any';

/** Fault injection and knobs; each test sets what it needs and clears it in afterEach. */
export interface BigQueryFakeControl {
  /**
   * The next `count` requests of `kind` fail as a whole with `status` and `reason`
   * (nothing stored); `query` covers jobs.query and getQueryResults.
   */
  failNext(kind: RequestKind, count: number, status?: number, reason?: string): void;
  /**
   * Rows with these insertIds come back in insertErrors with `reason` the next `times` times they
   * arrive (default 1); the other rows of the request are stored. With `stored: true` the row is
   * stored although reported failed (what a timed-out but committed row looks like), which makes
   * a retry store it twice when de-duplication by insertId is off.
   */
  failRows(insertIds: string[], reason: RowFaultReason, options?: { times?: number; stored?: boolean }): void;
  /** Best-effort insertId de-duplication window (BigQuery: about a minute); 0 turns it off. */
  dedupWindowMs: number;
  /**
   * How long a streamed row stays in the streaming buffer, where DML cannot touch it (BigQuery:
   * up to about 30 minutes, at most 90); 0 (the default) means rows leave it at once.
   */
  streamingBufferMs: number;
  /** Drops every injected fault and restores the de-dup window and the streaming buffer. */
  clear(): void;
}

export interface BigQueryFake {
  url: string;
  projectId: string;
  control: BigQueryFakeControl;
  /** Every request in arrival order (tests clear it with `requests.length = 0`). */
  requests: RecordedRequest[];
  /** A real client pointed at the fake, with a static-token auth client and no client-side retry. */
  client(options?: Pick<BigQueryOptions, 'location'>): BigQuery;
  dataset(datasetId: string): DatasetResource | undefined;
  table(datasetId: string, tableId: string): TableResource | undefined;
  /** The rows of a table exactly as streamed (duplicates included), in arrival order. */
  storedRows(datasetId: string, tableId: string): { insertId?: string; json: Record<string, unknown> }[];
  close(): Promise<void>;
}

export interface BigQueryFakeOptions {
  projectId?: string;
  /** Clock for the insertId de-dup window. */
  now?: () => number;
  /** Rows per result page when a request names no maxResults (stands in for the 10 MB page cap). */
  defaultPageRows?: number;
}

// ---------------------------------------------------------------------------------------------
// Values. Each cell is kept in one canonical form per type, so comparisons and output are exact:
// INT64 bigint; NUMERIC bigint scaled by 10^9 (BigQuery's NUMERIC scale); TIMESTAMP bigint
// microseconds since the epoch; FLOAT64 number; BOOL boolean; STRING, DATE and JSON strings
// (JSON normalised by a parse/stringify round trip).

type Scalar = string | bigint | number | boolean;
type Cell = Scalar | null | Scalar[];
type TypedRow = Record<string, Cell>;

const LEGACY_TYPE: Record<string, string> = {
  INT64: 'INTEGER',
  INTEGER: 'INTEGER',
  FLOAT64: 'FLOAT',
  FLOAT: 'FLOAT',
  BOOL: 'BOOLEAN',
  BOOLEAN: 'BOOLEAN',
  STRING: 'STRING',
  NUMERIC: 'NUMERIC',
  TIMESTAMP: 'TIMESTAMP',
  DATE: 'DATE',
  JSON: 'JSON',
};
const NUMERIC_SCALE = 10n ** 9n;
const NUMERIC_MAX_INTEGER_DIGITS = 29;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const TIMESTAMP_MIN_MICROS = -62135596800000000n; // 0001-01-01T00:00:00Z
const TIMESTAMP_MAX_MICROS = 253402300799999999n; // 9999-12-31T23:59:59.999999Z

type Coerced = { ok: true; value: Scalar } | { ok: false; message: string };

const TIMESTAMP_TEXT =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$/i;

/** BigQuery's timestamp literal forms (ISO 8601 or `YYYY-MM-DD HH:MM:SS[.ffffff] [zone]`) → µs. */
function parseTimestampMicros(text: string): bigint | undefined {
  const m = TIMESTAMP_TEXT.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  const check = new Date(0);
  check.setUTCFullYear(year, month - 1, day);
  check.setUTCHours(hour, minute, second, 0);
  const ms = check.getTime();
  // Date rolls 2026-02-31 over into March; BigQuery refuses it.
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  const zone = (m[8] ?? '').toUpperCase();
  if (zone && zone !== 'Z' && zone !== 'UTC') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
  }
  const fraction = BigInt(((m[7] ?? '') + '000000').slice(0, 6));
  const micros = BigInt(ms - offsetMinutes * 60_000) * 1000n + fraction;
  return micros >= TIMESTAMP_MIN_MICROS && micros <= TIMESTAMP_MAX_MICROS ? micros : undefined;
}

function parseNumeric(text: string): bigint | undefined {
  const m = /^([+-])?(\d+)(?:\.(\d*))?$/.exec(text.trim());
  if (!m) return undefined;
  const integer = m[2]!.replace(/^0+(?=\d)/, '');
  const fraction = m[3] ?? '';
  // Stricter than needed on purpose: a value with more than 9 decimals (0.1 + 0.2) is refused,
  // so a client that does not round to NUMERIC's scale itself shows up in tests.
  if (integer.length > NUMERIC_MAX_INTEGER_DIGITS || fraction.length > 9) return undefined;
  const scaled = BigInt(integer) * NUMERIC_SCALE + BigInt((fraction + '000000000').slice(0, 9));
  return m[1] === '-' ? -scaled : scaled;
}

function formatNumeric(scaled: bigint): string {
  const negative = scaled < 0n;
  const abs = negative ? -scaled : scaled;
  const fraction = (abs % NUMERIC_SCALE).toString().padStart(9, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${abs / NUMERIC_SCALE}${fraction ? `.${fraction}` : ''}`;
}

/** One non-null scalar from insertAll JSON or a query parameter, checked and made canonical. */
function coerceScalar(type: string, value: unknown): Coerced {
  const fail = (message: string): Coerced => ({ ok: false, message });
  switch (LEGACY_TYPE[type]) {
    case 'STRING':
      if (typeof value === 'string') return { ok: true, value };
      if (typeof value === 'number' || typeof value === 'boolean') return { ok: true, value: String(value) };
      return fail('Cannot convert value to string.');
    case 'INTEGER': {
      let n: bigint | undefined;
      if (typeof value === 'number' && Number.isInteger(value)) n = BigInt(value);
      else if (typeof value === 'string' && /^[+-]?\d+$/.test(value.trim())) n = BigInt(value.trim());
      if (n === undefined) return fail('Cannot convert value to integer.');
      if (n < INT64_MIN || n > INT64_MAX) return fail('Value out of range for INT64.');
      return { ok: true, value: n };
    }
    case 'FLOAT': {
      if (typeof value === 'number') return { ok: true, value };
      if (typeof value === 'string' && /^\s*([+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?|[+-]?Infinity|NaN)\s*$/i.test(value)) {
        return { ok: true, value: Number(value) };
      }
      return fail('Cannot convert value to floating point.');
    }
    case 'NUMERIC': {
      const scaled = typeof value === 'number' ? parseNumeric(String(value)) : typeof value === 'string' ? parseNumeric(value) : undefined;
      return scaled === undefined ? fail('Invalid NUMERIC value.') : { ok: true, value: scaled };
    }
    case 'BOOLEAN':
      if (typeof value === 'boolean') return { ok: true, value };
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return { ok: true, value: value.toLowerCase() === 'true' };
      return fail('Cannot convert value to boolean.');
    case 'TIMESTAMP': {
      if (typeof value === 'number' && Number.isFinite(value)) {
        const micros = BigInt(Math.round(value * 1e6));
        if (micros >= TIMESTAMP_MIN_MICROS && micros <= TIMESTAMP_MAX_MICROS) return { ok: true, value: micros };
        return fail('Timestamp out of range.');
      }
      const micros = typeof value === 'string' ? parseTimestampMicros(value) : undefined;
      return micros === undefined ? fail("Couldn't convert value to timestamp.") : { ok: true, value: micros };
    }
    case 'DATE': {
      const m = typeof value === 'string' ? /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(value.trim()) : null;
      const micros = m ? parseTimestampMicros(`${m[1]}-${m[2]}-${m[3]}`) : undefined;
      if (!m || micros === undefined) return fail("Couldn't convert value to date.");
      return { ok: true, value: `${m[1]}-${m[2]!.padStart(2, '0')}-${m[3]!.padStart(2, '0')}` };
    }
    case 'JSON':
      // insertAll carries JSON columns as strings holding JSON (what the adapter sends).
      if (typeof value !== 'string') return fail('JSON column expects a string holding JSON.');
      try {
        return { ok: true, value: JSON.stringify(JSON.parse(value)) };
      } catch {
        return fail('Invalid JSON value.');
      }
    default:
      return fail(`Unsupported type ${type}.`);
  }
}

interface RowError {
  reason: string;
  message: string;
  location?: string;
}

/** One streamed row against a table schema: its canonical cells, or the errors BigQuery would report. */
function validateRow(fields: FieldResource[], json: unknown, ignoreUnknownValues: boolean): { row?: TypedRow; errors: RowError[] } {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { errors: [{ reason: 'invalid', message: 'Row is not a JSON object.' }] };
  }
  const source = json as Record<string, unknown>;
  const errors: RowError[] = [];
  const byName = new Map(fields.map((f) => [f.name, f]));
  if (!ignoreUnknownValues) {
    for (const name of Object.keys(source)) {
      if (!byName.has(name)) errors.push({ reason: 'invalid', location: name, message: `no such field: ${name}.` });
    }
  }
  const row: TypedRow = {};
  for (const field of fields) {
    const value = source[field.name];
    const mode = field.mode ?? 'NULLABLE';
    const invalid = (message: string) => errors.push({ reason: 'invalid', location: field.name, message });
    if (value === null || value === undefined) {
      if (mode === 'REQUIRED') invalid(`Missing required field: ${field.name}.`);
      row[field.name] = mode === 'REPEATED' ? [] : null;
      continue;
    }
    if (mode === 'REPEATED') {
      if (!Array.isArray(value)) {
        invalid(`Field ${field.name} is repeated: expected an array.`);
        continue;
      }
      const items: Scalar[] = [];
      for (const item of value as unknown[]) {
        if (item === null) {
          invalid(`Field ${field.name}: NULL element in an array.`);
          continue;
        }
        const coerced = coerceScalar(field.type, item);
        if (coerced.ok) items.push(coerced.value);
        else invalid(coerced.message);
      }
      row[field.name] = items;
      continue;
    }
    if (Array.isArray(value)) {
      invalid(`Array specified for non-repeated field: ${field.name}.`);
      continue;
    }
    const coerced = coerceScalar(field.type, value);
    if (coerced.ok) row[field.name] = coerced.value;
    else invalid(coerced.message);
  }
  return errors.length > 0 ? { errors } : { row, errors };
}

function compareScalars(a: Scalar | null, b: Scalar | null): number {
  // NULL sorts first ascending (and last descending), as in BigQuery.
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b)); // UTF-8 byte order
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A REST result cell: every scalar travels as a string; REPEATED as `[{ v }]`. */
function toCell(field: FieldResource, value: Cell, int64Timestamps: boolean): { v: unknown } {
  const scalar = (s: Scalar): string => {
    switch (LEGACY_TYPE[field.type]) {
      case 'NUMERIC':
        return formatNumeric(s as bigint);
      case 'TIMESTAMP':
        return int64Timestamps ? String(s) : String(Number(s) / 1e6);
      case 'BOOLEAN':
        return s ? 'true' : 'false';
      default:
        return String(s);
    }
  };
  if (value === null) return { v: null };
  if (Array.isArray(value)) return { v: value.map((item) => ({ v: scalar(item) })) };
  return { v: scalar(value) };
}

// ---------------------------------------------------------------------------------------------
// SQL: the one read shape and the one view shape, parsed strictly.

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const unsupported = (what: string) => new HttpError(400, 'invalidQuery', `unsupported by the fake: ${what}`);
const IDENT = '`?([A-Za-z_][A-Za-z0-9_]*)`?';

interface OrderSpec {
  column: string;
  desc: boolean;
}

function normaliseSql(sql: string): string {
  return sql
    .replace(/\s+/g, ' ')
    .replace(/\s*\(\s*/g, '(')
    .replace(/\s*\)/g, ')')
    .replace(/\s*,\s*/g, ', ')
    .trim()
    .replace(/;$/, '');
}

function parseColumnList(text: string, what: string): string[] {
  return text.split(', ').map((part) => {
    const m = new RegExp(`^${IDENT}$`).exec(part);
    if (!m) throw unsupported(`${what} "${part}"`);
    return m[1]!;
  });
}

function parseOrder(text: string, what: string): OrderSpec[] {
  return text.split(', ').map((part) => {
    const m = new RegExp(`^${IDENT}(?: (ASC|DESC))?$`, 'i').exec(part);
    if (!m) throw unsupported(`${what} "${part}"`);
    return { column: m[1]!, desc: (m[2] ?? '').toUpperCase() === 'DESC' };
  });
}

interface DedupView {
  base: { projectId: string; datasetId: string; tableId: string };
  partitionBy: string[];
  orderBy: OrderSpec[];
}

const DEDUP_VIEW =
  /^SELECT \* EXCEPT\(_rn\) FROM\(SELECT \*, ROW_NUMBER\(\) OVER\(PARTITION BY (.+?) ORDER BY (.+?)\) AS _rn FROM `([^`]+)`\) WHERE _rn = 1$/i;

function parseDedupView(sql: string): DedupView | undefined {
  const m = DEDUP_VIEW.exec(normaliseSql(sql));
  if (!m) return undefined;
  const base = parseTableRef(m[3]!);
  return { base, partitionBy: parseColumnList(m[1]!, 'PARTITION BY'), orderBy: parseOrder(m[2]!, 'ORDER BY') };
}

function parseTableRef(ref: string): { projectId: string; datasetId: string; tableId: string } {
  const parts = ref.split('.');
  if (parts.length !== 3 || parts.some((p) => p === '')) throw unsupported(`table reference \`${ref}\` (write project.dataset.table)`);
  return { projectId: parts[0]!, datasetId: parts[1]!, tableId: parts[2]! };
}

interface SelectQuery {
  from: { projectId: string; datasetId: string; tableId: string };
  where: { column: string; param: string }[];
  orderBy: OrderSpec[];
}

type DmlQuery =
  | { kind: 'delete'; from: { projectId: string; datasetId: string; tableId: string }; where: { column: string; param: string }[] }
  | { kind: 'update'; from: { projectId: string; datasetId: string; tableId: string }; set: string[]; where: { column: string; param: string }[] };

const DELETE = /^DELETE FROM `([^`]+)` WHERE (.+)$/i;
const UPDATE = /^UPDATE `([^`]+)` SET (.+?) WHERE (.+)$/i;

function parseConditions(text: string): { column: string; param: string }[] {
  return text.split(/ AND /i).map((condition) => {
    const c = new RegExp(`^${IDENT} = @([A-Za-z_][A-Za-z0-9_]*)$`).exec(condition);
    if (!c) throw unsupported(`condition "${condition}" (only col = @param)`);
    return { column: c[1]!, param: c[2]! };
  });
}

/** `col = NULL, col = NULL`: the only assignment the fake supports (erasure's de-identification). */
function parseNullAssignments(text: string): string[] {
  return text.split(', ').map((assignment) => {
    const a = new RegExp(`^${IDENT} = NULL$`, 'i').exec(assignment);
    if (!a) throw unsupported(`assignment "${assignment}" (only col = NULL)`);
    return a[1]!;
  });
}

function parseDml(sql: string): DmlQuery {
  const normalised = normaliseSql(sql);
  const del = DELETE.exec(normalised);
  if (del) return { kind: 'delete', from: parseTableRef(del[1]!), where: parseConditions(del[2]!) };
  const update = UPDATE.exec(normalised);
  if (update) return { kind: 'update', from: parseTableRef(update[1]!), set: parseNullAssignments(update[2]!), where: parseConditions(update[3]!) };
  throw unsupported(`DML "${sql}" (only DELETE FROM \`p.d.table\` WHERE col = @p [AND …] and UPDATE \`p.d.table\` SET col = NULL[, …] WHERE col = @p [AND …])`);
}

const SELECT = /^SELECT \* FROM `([^`]+)`(?: WHERE (.+?))? ORDER BY (.+)$/i;

function parseSelect(sql: string): SelectQuery {
  const m = SELECT.exec(normaliseSql(sql));
  if (!m) throw unsupported(`query "${sql}" (only SELECT * FROM \`p.d.view\` [WHERE col = @p AND …] ORDER BY …)`);
  const where = m[2] ? parseConditions(m[2]) : [];
  return { from: parseTableRef(m[1]!), where, orderBy: parseOrder(m[3]!, 'ORDER BY') };
}

// ---------------------------------------------------------------------------------------------
// State.

interface StoredRow {
  insertId?: string;
  json: Record<string, unknown>;
  typed: TypedRow;
  /** When it was streamed, for the streaming buffer. */
  streamedAt: number;
}

interface FakeTable {
  resource: TableResource;
  rows: StoredRow[];
  /** insertId → when it was last stored, for the de-dup window. */
  seen: Map<string, number>;
}

interface FakeDataset {
  resource: DatasetResource;
  tables: Map<string, FakeTable>;
}

interface QueryJob {
  jobId: string;
  projectId: string;
  location?: string;
  fields: FieldResource[];
  rows: TypedRow[];
}

interface RequestFault {
  kind: RequestKind;
  remaining: number;
  status: number;
  reason: string;
}

interface RowFault {
  reason: RowFaultReason;
  remaining: number;
  stored: boolean;
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
};
const DEFAULT_DEDUP_WINDOW_MS = 60_000;

class FakeControl implements BigQueryFakeControl {
  dedupWindowMs = DEFAULT_DEDUP_WINDOW_MS;
  streamingBufferMs = 0;
  readonly requestFaults: RequestFault[] = [];
  readonly rowFaults = new Map<string, RowFault>();

  failNext(kind: RequestKind, count: number, status = 503, reason = 'backendError'): void {
    this.requestFaults.push({ kind, remaining: count, status, reason });
  }

  failRows(insertIds: string[], reason: RowFaultReason, options: { times?: number; stored?: boolean } = {}): void {
    for (const id of insertIds) this.rowFaults.set(id, { reason, remaining: options.times ?? 1, stored: options.stored ?? false });
  }

  clear(): void {
    this.requestFaults.length = 0;
    this.rowFaults.clear();
    this.dedupWindowMs = DEFAULT_DEDUP_WINDOW_MS;
    this.streamingBufferMs = 0;
  }

  /** The injected failure for this request, if any (consumed). */
  takeRequestFault(kind: Exclude<RequestKind, 'any'>): RequestFault | undefined {
    const fault = this.requestFaults.find((f) => f.remaining > 0 && (f.kind === kind || f.kind === 'any'));
    if (fault) fault.remaining -= 1;
    return fault;
  }

  takeRowFault(insertId: string | undefined): RowFault | undefined {
    const fault = insertId === undefined ? undefined : this.rowFaults.get(insertId);
    if (!fault || fault.remaining <= 0) return undefined;
    fault.remaining -= 1;
    return fault;
  }
}

export async function startBigQueryFake(options: BigQueryFakeOptions = {}): Promise<BigQueryFake> {
  const projectId = options.projectId ?? 'fake-project';
  const now = options.now ?? Date.now;
  const defaultPageRows = options.defaultPageRows ?? 1000;
  const datasets = new Map<string, FakeDataset>(); // key: project.dataset
  const jobs = new Map<string, QueryJob>();
  const control = new FakeControl();
  const requests: RecordedRequest[] = [];
  let etag = 0;
  const stamp = () => ({ etag: `etag-${++etag}`, time: String(now()) });

  const findDataset = (project: string, datasetId: string): FakeDataset => {
    const dataset = datasets.get(`${project}.${datasetId}`);
    if (!dataset) throw new HttpError(404, 'notFound', `Not found: Dataset ${project}:${datasetId}`);
    return dataset;
  };
  const findTable = (project: string, datasetId: string, tableId: string): FakeTable => {
    const table = findDataset(project, datasetId).tables.get(tableId);
    if (!table) throw new HttpError(404, 'notFound', `Not found: Table ${project}:${datasetId}.${tableId}`);
    return table;
  };

  function checkSchema(fields: unknown): FieldResource[] {
    if (!Array.isArray(fields)) throw new HttpError(400, 'invalid', 'Schema fields must be an array.');
    const seen = new Set<string>();
    return fields.map((raw: unknown) => {
      const f = raw as Partial<FieldResource> & { fields?: unknown };
      if (typeof f.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,299}$/.test(f.name)) {
        throw new HttpError(400, 'invalid', `Invalid field name "${String(f.name)}".`);
      }
      if (seen.has(f.name.toLowerCase())) throw new HttpError(400, 'invalid', `Duplicate field name ${f.name}.`);
      seen.add(f.name.toLowerCase());
      const type = LEGACY_TYPE[String(f.type).toUpperCase()];
      if (!type) throw new HttpError(400, 'invalid', `unsupported by the fake: field type ${String(f.type)} of ${f.name}`);
      const mode = (f.mode ?? 'NULLABLE').toUpperCase();
      if (!['NULLABLE', 'REQUIRED', 'REPEATED'].includes(mode)) throw new HttpError(400, 'invalid', `Invalid mode ${mode} of ${f.name}.`);
      return { name: f.name, type, mode, ...(f.description ? { description: f.description } : {}) };
    });
  }

  function checkPartitioning(fields: FieldResource[], body: Partial<TableResource>): void {
    const tp = body.timePartitioning;
    if (tp) {
      if (tp.type !== 'DAY' && tp.type !== 'HOUR' && tp.type !== 'MONTH' && tp.type !== 'YEAR') {
        throw new HttpError(400, 'invalid', `Invalid time partitioning type ${String(tp.type)}.`);
      }
      if (tp.field !== undefined) {
        const field = fields.find((f) => f.name === tp.field);
        if (!field || !['TIMESTAMP', 'DATE'].includes(field.type) || field.mode === 'REPEATED') {
          throw new HttpError(400, 'invalid', `The field specified for time partitioning can only be of type TIMESTAMP, DATE or DATETIME: ${tp.field}.`);
        }
      }
    }
    if (body.clustering) {
      const clusterFields = body.clustering.fields;
      if (!Array.isArray(clusterFields) || clusterFields.length === 0 || clusterFields.length > 4) {
        throw new HttpError(400, 'invalid', 'Clustering fields must name 1 to 4 columns.');
      }
      for (const name of clusterFields) {
        const field = fields.find((f) => f.name === name);
        if (!field || field.mode === 'REPEATED' || field.type === 'JSON' || field.type === 'FLOAT') {
          throw new HttpError(400, 'invalid', `The field specified for clustering cannot be used: ${name}.`);
        }
      }
    }
  }

  /** A view's schema is its base table's: the only views the fake accepts select * from one table. */
  function viewFields(project: string, query: string): FieldResource[] {
    const view = parseDedupView(query);
    if (!view) throw unsupported(`view query "${query}" (only the ROW_NUMBER de-dup pattern)`);
    const base = findTable(view.base.projectId || project, view.base.datasetId, view.base.tableId);
    if (base.resource.type !== 'TABLE') throw unsupported('a view over a view');
    const names = new Set((base.resource.schema?.fields ?? []).map((f) => f.name));
    for (const column of [...view.partitionBy, ...view.orderBy.map((o) => o.column)]) {
      if (!names.has(column)) throw new HttpError(400, 'invalidQuery', `Unrecognized name: ${column}`);
    }
    return structuredClone(base.resource.schema?.fields ?? []);
  }

  function insertDataset(project: string, body: Record<string, unknown>) {
    const ref = body.datasetReference as { datasetId?: string } | undefined;
    const datasetId = ref?.datasetId;
    if (!datasetId || !/^[A-Za-z0-9_]{1,1024}$/.test(datasetId)) throw new HttpError(400, 'invalid', `Invalid dataset ID "${String(datasetId)}".`);
    const key = `${project}.${datasetId}`;
    if (datasets.has(key)) throw new HttpError(409, 'duplicate', `Already Exists: Dataset ${project}:${datasetId}`);
    const { etag: tag, time } = stamp();
    const resource: DatasetResource = {
      kind: 'bigquery#dataset',
      id: `${project}:${datasetId}`,
      etag: tag,
      datasetReference: { projectId: project, datasetId },
      location: typeof body.location === 'string' ? body.location : 'US',
      creationTime: time,
    };
    datasets.set(key, { resource, tables: new Map() });
    return resource;
  }

  function insertTable(project: string, datasetId: string, body: Partial<TableResource>) {
    const dataset = findDataset(project, datasetId);
    const tableId = body.tableReference?.tableId;
    if (!tableId || !/^[A-Za-z0-9_]{1,1024}$/.test(tableId)) throw new HttpError(400, 'invalid', `Invalid table ID "${String(tableId)}".`);
    if (dataset.tables.has(tableId)) throw new HttpError(409, 'duplicate', `Already Exists: Table ${project}:${datasetId}.${tableId}`);
    const { etag: tag, time } = stamp();
    let resource: TableResource;
    if (body.view) {
      if (body.view.useLegacySql !== false) throw unsupported('legacy SQL views (set useLegacySql: false)');
      resource = {
        kind: 'bigquery#table',
        id: `${project}:${datasetId}.${tableId}`,
        etag: tag,
        type: 'VIEW',
        tableReference: { projectId: project, datasetId, tableId },
        ...(body.description ? { description: body.description } : {}),
        schema: { fields: viewFields(project, body.view.query) },
        view: { query: body.view.query, useLegacySql: false },
        location: dataset.resource.location,
        creationTime: time,
        lastModifiedTime: time,
      };
    } else {
      const fields = checkSchema(body.schema?.fields ?? []);
      checkPartitioning(fields, body);
      resource = {
        kind: 'bigquery#table',
        id: `${project}:${datasetId}.${tableId}`,
        etag: tag,
        type: 'TABLE',
        tableReference: { projectId: project, datasetId, tableId },
        ...(body.description ? { description: body.description } : {}),
        schema: { fields },
        ...(body.timePartitioning ? { timePartitioning: { ...body.timePartitioning } } : {}),
        ...(body.clustering ? { clustering: { fields: [...body.clustering.fields] } } : {}),
        location: dataset.resource.location,
        creationTime: time,
        lastModifiedTime: time,
      };
    }
    dataset.tables.set(tableId, { resource, rows: [], seen: new Map() });
    return resource;
  }

  function patchTable(project: string, datasetId: string, tableId: string, body: Partial<TableResource>) {
    const table = findTable(project, datasetId, tableId);
    const resource = table.resource;
    if (body.schema && resource.type === 'TABLE') {
      const next = checkSchema(body.schema.fields);
      const current = resource.schema?.fields ?? [];
      for (const field of current) {
        const replacement = next.find((f) => f.name === field.name);
        if (!replacement) {
          throw new HttpError(400, 'invalid', `Provided Schema does not match Table ${resource.id}. Field ${field.name} is missing in new schema`);
        }
        if (replacement.type !== field.type) {
          throw new HttpError(400, 'invalid', `Provided Schema does not match Table ${resource.id}. Field ${field.name} has changed type from ${field.type} to ${replacement.type}`);
        }
        const relaxed = field.mode === 'REQUIRED' && replacement.mode === 'NULLABLE';
        if (replacement.mode !== field.mode && !relaxed) {
          throw new HttpError(400, 'invalid', `Provided Schema does not match Table ${resource.id}. Field ${field.name} has changed mode from ${field.mode} to ${replacement.mode}`);
        }
      }
      for (const field of next) {
        if (!current.some((f) => f.name === field.name) && field.mode === 'REQUIRED') {
          throw new HttpError(400, 'invalid', `Provided Schema does not match Table ${resource.id}. Cannot add required fields to an existing schema. (field: ${field.name})`);
        }
      }
      resource.schema = { fields: next };
    }
    if (body.timePartitioning && JSON.stringify(body.timePartitioning) !== JSON.stringify(resource.timePartitioning)) {
      throw new HttpError(400, 'invalid', `Cannot change partitioning spec of ${resource.id}.`);
    }
    if (body.clustering) {
      checkPartitioning(resource.schema?.fields ?? [], { clustering: body.clustering });
      resource.clustering = { fields: [...body.clustering.fields] };
    }
    if (body.view) {
      if (resource.type !== 'VIEW') throw new HttpError(400, 'invalid', `${resource.id} is not a view.`);
      if (body.view.useLegacySql !== false) throw unsupported('legacy SQL views (set useLegacySql: false)');
      resource.schema = { fields: viewFields(project, body.view.query) };
      resource.view = { query: body.view.query, useLegacySql: false };
    }
    if (body.description !== undefined) resource.description = body.description;
    const { etag: tag, time } = stamp();
    resource.etag = tag;
    resource.lastModifiedTime = time;
    return resource;
  }

  function insertAll(project: string, datasetId: string, tableId: string, body: Record<string, unknown>) {
    const table = findTable(project, datasetId, tableId);
    if (table.resource.type !== 'TABLE') throw new HttpError(400, 'invalid', `Cannot insert into view ${table.resource.id}.`);
    const rows = body.rows;
    if (!Array.isArray(rows) || rows.length === 0) throw new HttpError(400, 'invalid', 'No rows present in the request.');
    if (rows.length > INSERT_ALL_MAX_ROWS) {
      throw new HttpError(400, 'invalid', `too many rows present in the request, limit: ${INSERT_ALL_MAX_ROWS}.`);
    }
    const fields = table.resource.schema?.fields ?? [];
    const skipInvalidRows = body.skipInvalidRows === true;
    const ignoreUnknownValues = body.ignoreUnknownValues === true;
    const insertErrors: { index: number; errors: RowError[] }[] = [];
    const accepted: { index: number; stored: Omit<StoredRow, 'streamedAt'> }[] = [];
    let anyInvalid = false;
    rows.forEach((entry: unknown, index: number) => {
      const { insertId, json } = (entry ?? {}) as { insertId?: unknown; json?: unknown };
      if (insertId !== undefined && (typeof insertId !== 'string' || insertId.length > INSERT_ID_MAX_LENGTH)) {
        anyInvalid = true;
        insertErrors.push({ index, errors: [{ reason: 'invalid', message: `insertId must be a string of at most ${INSERT_ID_MAX_LENGTH} characters.` }] });
        return;
      }
      const checked = validateRow(fields, json, ignoreUnknownValues);
      if (!checked.row) {
        anyInvalid = true;
        insertErrors.push({ index, errors: checked.errors });
        return;
      }
      const fault = control.takeRowFault(insertId);
      const stored = { ...(insertId !== undefined ? { insertId } : {}), json: json as Record<string, unknown>, typed: checked.row };
      if (fault) {
        insertErrors.push({ index, errors: [{ reason: fault.reason, message: fault.reason === 'stopped' ? '' : `Injected ${fault.reason}` }] });
        if (fault.stored) accepted.push({ index, stored });
        return;
      }
      accepted.push({ index, stored });
    });
    if (anyInvalid && !skipInvalidRows) {
      // BigQuery refuses the whole request: every row not itself in error is 'stopped', none stored.
      const failed = new Set(insertErrors.map((e) => e.index));
      for (const { index } of accepted) {
        if (!failed.has(index)) insertErrors.push({ index, errors: [{ reason: 'stopped', message: '' }] });
      }
      accepted.length = 0;
    }
    const at = now();
    for (const { stored } of accepted) {
      if (stored.insertId !== undefined && control.dedupWindowMs > 0) {
        const seenAt = table.seen.get(stored.insertId);
        if (seenAt !== undefined && at - seenAt < control.dedupWindowMs) continue;
        table.seen.set(stored.insertId, at);
      }
      table.rows.push({ ...stored, streamedAt: at });
    }
    insertErrors.sort((a, b) => a.index - b.index);
    return { kind: 'bigquery#tableDataInsertAllResponse', ...(insertErrors.length > 0 ? { insertErrors } : {}) };
  }

  function paramValue(column: FieldResource, name: string, parameters: unknown[]): Scalar | null {
    const p = parameters.find((q) => (q as { name?: string }).name === name) as
      | { parameterType?: { type?: string }; parameterValue?: { value?: unknown } }
      | undefined;
    if (!p) throw new HttpError(400, 'invalidQuery', `Query parameter '${name}' not found`);
    const type = LEGACY_TYPE[String(p.parameterType?.type).toUpperCase()];
    if (!type) throw unsupported(`parameter type ${String(p.parameterType?.type)} of @${name}`);
    if (column.mode === 'REPEATED' || column.type === 'JSON') {
      throw new HttpError(400, 'invalidQuery', `Equality is not defined for arguments of type ${column.mode === 'REPEATED' ? `ARRAY<${column.type}>` : 'JSON'}`);
    }
    const numeric = ['INTEGER', 'FLOAT', 'NUMERIC'];
    if (type !== column.type && !(numeric.includes(type) && numeric.includes(column.type))) {
      throw new HttpError(400, 'invalidQuery', `No matching signature for operator = for argument types: ${column.type}, ${type}`);
    }
    const raw = p.parameterValue?.value;
    if (raw === undefined || raw === null) return null;
    const coerced = coerceScalar(type, raw);
    if (!coerced.ok) throw new HttpError(400, 'invalidQuery', `Invalid value for query parameter @${name}: ${coerced.message}`);
    return coerced.value;
  }

  function runQuery(project: string, body: Record<string, unknown>) {
    if (body.useLegacySql !== false) throw unsupported('legacy SQL (set useLegacySql: false)');
    if (typeof body.query !== 'string') throw new HttpError(400, 'invalid', 'Missing query.');
    const select = parseSelect(body.query);
    const viewTable = findTable(select.from.projectId, select.from.datasetId, select.from.tableId);
    const location = typeof body.location === 'string' ? body.location : undefined;
    const datasetLocation = findDataset(select.from.projectId, select.from.datasetId).resource.location;
    if (location && location !== datasetLocation) {
      throw new HttpError(404, 'notFound', `Not found: Dataset ${select.from.projectId}:${select.from.datasetId} was not found in location ${location}`);
    }
    const view = viewTable.resource.view ? parseDedupView(viewTable.resource.view.query) : undefined;
    if (!view) throw unsupported(`reading ${viewTable.resource.id}: only de-dup views can be queried`);
    const base = findTable(view.base.projectId, view.base.datasetId, view.base.tableId);
    const fields = base.resource.schema?.fields ?? [];
    const fieldOf = (name: string) => {
      const field = fields.find((f) => f.name === name);
      if (!field) throw new HttpError(400, 'invalidQuery', `Unrecognized name: ${name}`);
      return field;
    };
    const parameters = Array.isArray(body.queryParameters) ? (body.queryParameters as unknown[]) : [];
    const filters = select.where.map(({ column, param }) => ({ column, value: paramValue(fieldOf(column), param, parameters) }));
    select.orderBy.forEach((o) => fieldOf(o.column));

    const orderCompare = (order: OrderSpec[]) => (a: TypedRow, b: TypedRow) => {
      for (const { column, desc } of order) {
        const c = compareScalars(a[column] as Scalar | null, b[column] as Scalar | null);
        if (c !== 0) return desc ? -c : c;
      }
      return 0;
    };
    // The view's rule: per partition key, the first row in the window's order (ties: first streamed).
    const newest = new Map<string, TypedRow>();
    const windowOrder = orderCompare(view.orderBy);
    for (const { typed } of base.rows) {
      const key = JSON.stringify(view.partitionBy.map((c) => String(typed[c])));
      const current = newest.get(key);
      if (!current || windowOrder(typed, current) < 0) newest.set(key, typed);
    }
    const rows = [...newest.values()]
      .filter((row) => filters.every(({ column, value }) => value !== null && row[column] !== null && compareScalars(row[column] as Scalar, value) === 0))
      .sort(orderCompare(select.orderBy));
    const job: QueryJob = { jobId: `job_${randomUUID().replaceAll('-', '')}`, projectId: project, fields, rows, ...(location ? { location } : {}) };
    jobs.set(job.jobId, job);
    const format = body.formatOptions as { useInt64Timestamp?: boolean } | undefined;
    const maxResults = typeof body.maxResults === 'number' ? body.maxResults : undefined;
    return { kind: 'bigquery#queryResponse', ...resultPage(job, 0, maxResults, format?.useInt64Timestamp === true) };
  }

  function runDml(project: string, body: Record<string, unknown>) {
    if (body.useLegacySql !== false) throw unsupported('legacy SQL (set useLegacySql: false)');
    const dml = parseDml(body.query as string);
    const table = findTable(dml.from.projectId, dml.from.datasetId, dml.from.tableId);
    if (table.resource.type !== 'TABLE') throw new HttpError(400, 'invalidQuery', `Cannot run DML on view ${table.resource.id}.`);
    const location = typeof body.location === 'string' ? body.location : undefined;
    const datasetLocation = findDataset(dml.from.projectId, dml.from.datasetId).resource.location;
    if (location && location !== datasetLocation) {
      throw new HttpError(404, 'notFound', `Not found: Dataset ${dml.from.projectId}:${dml.from.datasetId} was not found in location ${location}`);
    }
    const fields = table.resource.schema?.fields ?? [];
    const fieldNamed = (column: string) => {
      const field = fields.find((f) => f.name === column);
      if (!field) throw new HttpError(400, 'invalidQuery', `Unrecognized name: ${column}`);
      return field;
    };
    const parameters = Array.isArray(body.queryParameters) ? (body.queryParameters as unknown[]) : [];
    const filters = dml.where.map(({ column, param }) => ({ column, value: paramValue(fieldNamed(column), param, parameters) }));
    const cleared = dml.kind === 'update' ? dml.set.map(fieldNamed) : [];
    for (const field of cleared) {
      if (field.mode === 'REQUIRED') throw new HttpError(400, 'invalidQuery', `Cannot assign NULL to REQUIRED field ${field.name}`);
      if (field.mode === 'REPEATED') throw new HttpError(400, 'invalidQuery', `Cannot assign NULL to an array field ${field.name}`);
    }
    const matches = (row: StoredRow) =>
      filters.every(({ column, value }) => value !== null && row.typed[column] !== null && compareScalars(row.typed[column] as Scalar, value) === 0);
    const at = now();
    if (table.rows.some((row) => matches(row) && at - row.streamedAt < control.streamingBufferMs)) {
      throw new HttpError(
        400,
        'invalidQuery',
        `UPDATE or DELETE statement over table ${dml.from.projectId}.${dml.from.datasetId}.${dml.from.tableId} would affect rows in the streaming buffer, which is not supported`,
      );
    }
    let affected = 0;
    if (dml.kind === 'delete') {
      const before = table.rows.length;
      table.rows = table.rows.filter((row) => !matches(row));
      affected = before - table.rows.length;
    } else {
      for (const row of table.rows) {
        if (!matches(row)) continue;
        affected += 1;
        for (const field of cleared) {
          row.typed[field.name] = null;
          row.json = { ...row.json, [field.name]: null };
        }
      }
    }
    const jobId = `job_${randomUUID().replaceAll('-', '')}`;
    return {
      kind: 'bigquery#queryResponse',
      jobReference: { projectId: project, jobId, ...(location ? { location } : {}) },
      jobComplete: true,
      totalBytesProcessed: '0',
      numDmlAffectedRows: String(affected),
      dmlStats: dml.kind === 'delete' ? { deletedRowCount: String(affected) } : { updatedRowCount: String(affected) },
      cacheHit: false,
    };
  }

  function resultPage(job: QueryJob, start: number, maxResults: number | undefined, int64Timestamps: boolean) {
    const size = maxResults && maxResults > 0 ? maxResults : defaultPageRows;
    const slice = job.rows.slice(start, start + size);
    const next = start + slice.length;
    return {
      schema: { fields: job.fields },
      jobReference: { projectId: job.projectId, jobId: job.jobId, ...(job.location ? { location: job.location } : {}) },
      totalRows: String(job.rows.length),
      ...(slice.length > 0 ? { rows: slice.map((row) => ({ f: job.fields.map((f) => toCell(f, row[f.name] ?? null, int64Timestamps)) })) } : {}),
      ...(next < job.rows.length ? { pageToken: Buffer.from(JSON.stringify({ jobId: job.jobId, start: next })).toString('base64url') } : {}),
      totalBytesProcessed: '0',
      jobComplete: true,
      cacheHit: false,
    };
  }

  function getQueryResults(jobId: string, qs: URLSearchParams) {
    const job = jobs.get(jobId);
    if (!job) throw new HttpError(404, 'notFound', `Not found: Job ${projectId}:${jobId}`);
    let start = Number(qs.get('startIndex') ?? '0');
    const token = qs.get('pageToken');
    if (token) {
      const decoded = JSON.parse(Buffer.from(token, 'base64url').toString()) as { jobId?: string; start?: number };
      if (decoded.jobId !== jobId || typeof decoded.start !== 'number') throw new HttpError(400, 'invalid', 'Invalid page token.');
      start = decoded.start;
    }
    const maxResults = qs.has('maxResults') ? Number(qs.get('maxResults')) : undefined;
    return {
      kind: 'bigquery#getQueryResultsResponse',
      etag: `etag-${jobId}`,
      ...resultPage(job, start, maxResults, qs.get('formatOptions.useInt64Timestamp') === 'true'),
    };
  }

  function route(req: IncomingMessage, record: RecordedRequest, body: Buffer): unknown {
    const auth = req.headers.authorization ?? '';
    if (!/^Bearer \S+/.test(auth)) {
      throw new HttpError(401, 'required', 'Request is missing required authentication credential.');
    }
    const url = new URL(req.url ?? '/', 'http://fake');
    const prefix = '/bigquery/v2/projects/';
    if (!url.pathname.startsWith(prefix)) throw new HttpError(501, 'notImplemented', `unsupported by the fake: ${req.method} ${url.pathname}`);
    const parts = url.pathname.slice(prefix.length).split('/').map(decodeURIComponent);
    const [project, collection, id, sub, tableId, action] = parts;
    const json = (): Record<string, unknown> => {
      try {
        const parsed: unknown = body.length > 0 ? JSON.parse(body.toString('utf8')) : {};
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
        return parsed as Record<string, unknown>;
      } catch {
        throw new HttpError(400, 'parseError', 'Parse Error');
      }
    };
    const method = req.method ?? 'GET';
    const n = parts.length;
    if (!project) throw new HttpError(404, 'notFound', 'Missing project.');
    if (collection === 'datasets') {
      if (n === 2 && method === 'POST') return insertDataset(project, json());
      if (n === 3 && method === 'GET') return findDataset(project, id!).resource;
      if (n === 4 && sub === 'tables' && method === 'POST') return insertTable(project, id!, json());
      if (n === 5 && sub === 'tables' && method === 'GET') return findTable(project, id!, tableId!).resource;
      if (n === 5 && sub === 'tables' && method === 'PATCH') return patchTable(project, id!, tableId!, json());
      if (n === 6 && sub === 'tables' && action === 'insertAll' && method === 'POST') {
        if (body.length > INSERT_ALL_MAX_BYTES) {
          throw new HttpError(400, 'badRequest', `Request payload size exceeds the limit: ${INSERT_ALL_MAX_BYTES} bytes.`);
        }
        const parsed = json();
        if (Array.isArray(parsed.rows)) record.insertIds = parsed.rows.map((r: unknown) => (r as { insertId?: string } | null)?.insertId);
        const fault = control.takeRequestFault('insertAll');
        if (fault) throw new HttpError(fault.status, fault.reason, `Injected ${fault.reason}`);
        return insertAll(project, id!, tableId!, parsed);
      }
    }
    if (collection === 'queries') {
      if (n === 2 && method === 'POST') {
        const parsed = json();
        if (typeof parsed.query === 'string') record.query = parsed.query;
        const fault = control.takeRequestFault('query');
        if (fault) throw new HttpError(fault.status, fault.reason, `Injected ${fault.reason}`);
        return /^\s*(DELETE|UPDATE)\b/i.test(String(parsed.query)) ? runDml(project, parsed) : runQuery(project, parsed);
      }
      if (n === 3 && method === 'GET') {
        const fault = control.takeRequestFault('query');
        if (fault) throw new HttpError(fault.status, fault.reason, `Injected ${fault.reason}`);
        return getQueryResults(id!, url.searchParams);
      }
    }
    throw new HttpError(501, 'notImplemented', `unsupported by the fake: ${method} ${url.pathname}`);
  }

  function send(res: ServerResponse, status: number, payload: unknown): void {
    const text = JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const record: RecordedRequest = {
        method: req.method ?? 'GET',
        path: new URL(req.url ?? '/', 'http://fake').pathname.replace(/^\/bigquery\/v2/, ''),
        status: 200,
        bytes: body.length,
      };
      requests.push(record);
      try {
        send(res, 200, route(req, record, body));
      } catch (err) {
        const e = err instanceof HttpError ? err : new HttpError(500, 'internalError', `fake failure: ${String(err)}`);
        record.status = e.status;
        send(res, e.status, {
          error: { code: e.status, message: e.message, errors: [{ message: e.message, domain: 'global', reason: e.reason }], status: STATUS_NAMES[e.status] ?? 'UNKNOWN' },
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // Duck-typed: the client calls only getRequestHeaders on it (see the header comment). The
  // option is typed as google-auth-library's AuthClient, which this project does not depend on.
  const authClient = { getRequestHeaders: () => Promise.resolve(new Headers({ authorization: `Bearer ${FAKE_TOKEN}` })) };

  return {
    url,
    projectId,
    control,
    requests,
    client: (clientOptions = {}) =>
      new BigQuery({
        projectId,
        apiEndpoint: url,
        authClient: authClient as unknown as NonNullable<BigQueryOptions['authClient']>,
        // The warehouse adapter owns retries; the client's own would hide injected faults.
        retryOptions: { autoRetry: false },
        ...clientOptions,
      }),
    dataset: (datasetId) => datasets.get(`${projectId}.${datasetId}`)?.resource,
    table: (datasetId, tableId) => datasets.get(`${projectId}.${datasetId}`)?.tables.get(tableId)?.resource,
    storedRows: (datasetId, tableId) =>
      (datasets.get(`${projectId}.${datasetId}`)?.tables.get(tableId)?.rows ?? []).map((r) => ({
        ...(r.insertId !== undefined ? { insertId: r.insertId } : {}),
        json: r.json,
      })),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
