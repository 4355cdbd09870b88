// The warehouse in BigQuery (production). Tables are built from the shared definitions
// (day-partitioned on the event timestamp, clustered by customer_id) and written by streaming
// (tabledata.insertAll). Streaming only appends, so "upsert" here means: every version of a row
// is appended once, with a deterministic insertId (a retried insert de-duplicates within
// BigQuery's best-effort window), and each table has a `{table}_latest` view that keeps the
// newest version per natural key. Reads go through that view, so a duplicate that slipped past
// the insertId window, or an older version streamed late, is never read.
//
// Retries belong to this adapter: whole requests failing with 5xx/429/network errors and single
// rows failing with a transient reason ('stopped', 'backendError', …) are sent again (only those
// rows, same insertIds) with exponential backoff and jitter, up to `retry.attempts`. Build the
// client with `retryOptions: { autoRetry: false }`; with the client's default retries on, its
// attempts (3, with their own backoff) run inside each of ours: harmless, insertIds make them
// idempotent, but slower to give up.
import type { BigQuery, Dataset, Query, QueryOptions, QueryResultsOptions, QueryRowsResponse, Table } from '@google-cloud/bigquery';
import { WAREHOUSE_TABLE_NAMES, type WarehouseTableDef, type WarehouseTableName } from './warehouse-tables.js';
import {
  deidentifyColumns,
  deleteFilterColumns,
  insertIdOf,
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
import { fieldOf, fromResultRow, latestViewSql, numericText, resultPositions, tableFields, toInsertJson, type BigQueryField } from './bigquery-codec.js';
import {
  backoffDelay,
  DEFAULT_RETRY,
  describeError,
  httpStatusOf,
  isPartialFailure,
  isRetryableRequestError,
  RETRYABLE_ROW_REASONS,
  type PartialFailure,
  type RetryPolicy,
} from './bigquery-retry.js';

export interface BigQueryWarehouseLimits {
  /** Rows per insertAll request (BigQuery allows 50,000 and recommends 500). */
  rowsPerRequest: number;
  /** Serialized bytes per insertAll request, kept under BigQuery's 10 MB with room to spare. */
  bytesPerRequest: number;
  /** Rows per query result page. */
  readPageRows: number;
}

export interface BigQueryWarehouseOptions {
  bigquery: BigQuery;
  datasetId: string;
  /** Dataset location (e.g. 'EU') for a new dataset and for queries. */
  location?: string;
  retry?: Partial<RetryPolicy>;
  /** Waits between attempts; tests pass a fast one. */
  sleep?: (ms: number) => Promise<void>;
  limits?: Partial<BigQueryWarehouseLimits>;
}

export const DEFAULT_LIMITS: BigQueryWarehouseLimits = { rowsPerRequest: 500, bytesPerRequest: 9 * 1024 * 1024, readPageRows: 1000 };
const INSERT_ALL_MAX_ROWS = 50_000;
const INSERT_ALL_MAX_BYTES = 10 * 1024 * 1024;
/** `{"rows":[…],"skipInvalidRows":false,"ignoreUnknownValues":false}` around the rows, generously. */
const ENVELOPE_BYTES = 256;
const PROJECT_ID_PLACEHOLDER = '{{projectId}}';

/** jobs.query / getQueryResults response (the package does not export the name). */
type QueryResultsResponse = Extract<QueryRowsResponse, [unknown, unknown, unknown]>[2];

interface ResultPage {
  rows: unknown[];
  /** The client's options for the next page (its own object, typed as Query), or null at the end. */
  next: QueryResultsOptions | null;
  response: QueryResultsResponse | undefined;
}

function pageOf([rows, next, response]: QueryRowsResponse): ResultPage {
  return { rows, next: next ?? null, response };
}

/**
 * Rows still failing after the last attempt. Batches sent before it in the same call may be
 * stored; repeating the whole call is safe (same insertIds, and the _latest view keeps one row per key).
 */
export class BigQueryRetryExhaustedError extends Error {
  override readonly name = 'BigQueryRetryExhaustedError';
}

interface Pending {
  index: number;
  key: string;
  row: WarehouseRow;
  wire: { insertId: string; json: Record<string, unknown> };
  bytes: number;
}

interface Rejection {
  index: number;
  rejected: RejectedRow;
}

interface InsertError {
  index?: number;
  errors?: { reason?: string; message?: string; location?: string }[];
}

const INSERT_OPTIONS = {
  raw: true,
  skipInvalidRows: false,
  ignoreUnknownValues: false,
  // The client would resend every failed row itself, 'invalid' ones included, with no backoff:
  // one attempt per call, and this adapter decides what is worth resending.
  partialRetries: 0,
} as const;

export class BigQueryWarehouse implements Warehouse {
  readonly describe: string;
  private readonly bigquery: BigQuery;
  private readonly datasetId: string;
  private readonly location: string | undefined;
  private readonly dataset: Dataset;
  private readonly retry: RetryPolicy;
  private readonly limits: BigQueryWarehouseLimits;
  private readonly sleep: (ms: number) => Promise<void>;
  private projectId: string | undefined;

  constructor(options: BigQueryWarehouseOptions) {
    if (!/^[A-Za-z0-9_]{1,1024}$/.test(options.datasetId)) throw new Error(`Invalid BigQuery dataset id: ${options.datasetId}`);
    this.bigquery = options.bigquery;
    this.datasetId = options.datasetId;
    this.location = options.location;
    this.dataset = this.bigquery.dataset(this.datasetId, this.location ? { location: this.location } : {});
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    if (this.retry.attempts < 1) throw new Error('retry.attempts must be at least 1');
    if (this.limits.rowsPerRequest < 1 || this.limits.rowsPerRequest > INSERT_ALL_MAX_ROWS) {
      throw new Error(`limits.rowsPerRequest must be between 1 and ${INSERT_ALL_MAX_ROWS}`);
    }
    if (this.limits.bytesPerRequest <= ENVELOPE_BYTES || this.limits.bytesPerRequest > INSERT_ALL_MAX_BYTES) {
      throw new Error(`limits.bytesPerRequest must be at most ${INSERT_ALL_MAX_BYTES}`);
    }
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    const project = this.bigquery.projectId && this.bigquery.projectId !== PROJECT_ID_PLACEHOLDER ? this.bigquery.projectId : '(default project)';
    this.describe = `BigQuery dataset ${project}.${this.datasetId}${this.location ? ` in ${this.location}` : ''}`;
  }

  async ensureSchema(): Promise<void> {
    const projectId = await this.resolveProjectId();
    await this.ensureDataset();
    // Tables are independent; BigQuery's metadata rate limits are per table.
    await Promise.all(WAREHOUSE_TABLE_NAMES.map((name) => this.ensureTable(tableDef(name), projectId)));
  }

  async upsert(table: WarehouseTableName, rows: WarehouseRow[]): Promise<UpsertResult> {
    const def = tableDef(table);
    const rejections: Rejection[] = [];
    const pending: Pending[] = [];
    const rowBudget = this.limits.bytesPerRequest - ENVELOPE_BYTES;
    rows.forEach((row, index) => {
      const key = naturalKey(def, row);
      const problems = rowProblems(def, row);
      if (problems.length > 0) {
        rejections.push({ index, rejected: { key, reason: problems.join('; '), row } });
        return;
      }
      const wire = { insertId: insertIdOf(def, row), json: toInsertJson(def, row) };
      const bytes = Buffer.byteLength(JSON.stringify(wire)) + 1; // + the comma between rows
      if (bytes > rowBudget) {
        rejections.push({ index, rejected: { key, reason: `row is ${bytes} bytes encoded, over the ${rowBudget}-byte insertAll request budget`, row } });
        return;
      }
      pending.push({ index, key, row, wire, bytes });
    });
    // Batches go one after another: a caller with many rows gets backpressure, not a burst.
    for (const batch of this.batches(pending, rowBudget)) rejections.push(...(await this.insertBatch(def, batch)));
    rejections.sort((a, b) => a.index - b.index);
    return { written: rows.length - rejections.length, rejected: rejections.map((r) => r.rejected) };
  }

  async *read(table: WarehouseTableName, where: Record<string, string | number | boolean>): AsyncIterable<WarehouseRow> {
    const def = tableDef(table);
    const projectId = await this.resolveProjectId();
    const conditions: string[] = [];
    const params: Record<string, unknown> = {};
    const types: Record<string, string> = {};
    for (const [column, value] of Object.entries(where)) {
      const columnDef = def.columns.find((c) => c.name === column);
      if (!columnDef) throw new Error(`${column} is not a column of ${def.name}`);
      if (columnDef.mode === 'REPEATED' || columnDef.type === 'JSON') {
        throw new Error(`${column} of ${def.name} cannot be filtered on: ${columnDef.mode === 'REPEATED' ? 'REPEATED' : 'JSON'} columns have no equality`);
      }
      conditions.push(`${column} = @${column}`);
      params[column] = this.queryParameter(columnDef.type, column, value);
      types[column] = columnDef.type;
    }
    const query: Query = {
      query:
        `SELECT * FROM \`${projectId}.${this.datasetId}.${def.name}_latest\`` +
        (conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '') +
        ` ORDER BY ${def.key.join(', ')}`,
      params,
      types,
      // Raw `{ f: [{ v }] }` rows: the codec converts them, without the client's Big/PreciseDate detour.
      skipParsing: true,
      ...(this.location ? { location: this.location } : {}),
    };
    const pageOptions: QueryOptions = { autoPaginate: false, maxResults: this.limits.readPageRows };
    // With a Query object the typings promise [rows, job], but the promise resolves like the
    // string form, [rows, nextQuery, response] (query → job.getQueryResults callback).
    let page = pageOf((await this.withRetry(`query ${def.name}_latest`, () => this.bigquery.query(query, pageOptions))) as unknown as QueryRowsResponse);
    for (;;) {
      const positions = resultPositions(page.response?.schema?.fields);
      for (const raw of page.rows) yield fromResultRow(def, positions, raw);
      const next = page.next;
      if (!next) return;
      const job = next.job;
      if (!job) throw new Error(`BigQuery returned a next page without a job for ${def.name}_latest`);
      if (page.response?.jobComplete === false) await this.sleep(this.retry.baseDelayMs); // still running: poll, do not spin
      page = pageOf(await this.withRetry(`read ${def.name}_latest`, () => job.getQueryResults(next)));
    }
  }

  /**
   * A parameterised DML DELETE on the base table (every version of the matching rows, not only
   * what `_latest` shows). BigQuery refuses DML over rows still in the streaming buffer; that
   * refusal deletes nothing and comes back as `pending: true`, anything else throws. A retried
   * DELETE is harmless: rows already gone match nothing (the count then covers the last attempt).
   */
  async deleteRows(table: WarehouseTableName, where: Record<string, string>): Promise<DeleteResult> {
    const def = tableDef(table);
    const columns = deleteFilterColumns(def, where);
    const { affected, pending } = await this.runDml(`DELETE FROM ${await this.baseTable(def)} WHERE ${this.filterSql(columns)}`, columns, where, `delete from ${def.name}`);
    return { deleted: affected, pending };
  }

  /**
   * A parameterised DML UPDATE on the base table that sets `columns` to NULL on every version of
   * the matching rows (the `_latest` view then shows the cleared values). Refused over rows in the
   * streaming buffer like DELETE: `pending: true`, nothing changed.
   */
  async deidentifyRows(table: WarehouseTableName, where: Record<string, string>, columns: string[]): Promise<DeidentifyResult> {
    const def = tableDef(table);
    const filters = deleteFilterColumns(def, where);
    const cleared = deidentifyColumns(def, columns);
    const statement = `UPDATE ${await this.baseTable(def)} SET ${cleared.map((c) => `${c.name} = NULL`).join(', ')} WHERE ${this.filterSql(filters)}`;
    const { affected, pending } = await this.runDml(statement, filters, where, `de-identify ${def.name}`);
    return { updated: affected, pending };
  }

  private async baseTable(def: WarehouseTableDef): Promise<string> {
    return `\`${await this.resolveProjectId()}.${this.datasetId}.${def.name}\``;
  }

  private filterSql(columns: WarehouseTableDef['columns'][number][]): string {
    return columns.map((c) => `${c.name} = @${c.name}`).join(' AND ');
  }

  /**
   * Runs one DML statement with typed parameters for `where`. BigQuery refuses DML over rows still
   * in the streaming buffer; that refusal changes nothing and comes back as `pending: true`,
   * anything else throws. A retried statement is harmless: rows already changed match nothing
   * (the count then covers the last attempt).
   */
  private async runDml(
    statement: string,
    columns: WarehouseTableDef['columns'][number][],
    where: Record<string, string>,
    what: string,
  ): Promise<{ affected: number; pending: boolean }> {
    const params: Record<string, unknown> = {};
    const types: Record<string, string> = {};
    for (const column of columns) {
      params[column.name] = this.queryParameter(column.type, column.name, where[column.name]!);
      types[column.name] = column.type;
    }
    const query: Query = { query: statement, params, types, ...(this.location ? { location: this.location } : {}) };
    try {
      // Typed [rows, job] for a Query object, resolved like the string form (see read()).
      const response = (await this.withRetry(what, () => this.bigquery.query(query))) as unknown as QueryRowsResponse;
      // A DML job reports what it changed in numDmlAffectedRows (int64 as a string).
      const affected = response[2]?.numDmlAffectedRows;
      return { affected: Number(affected ?? 0), pending: false };
    } catch (err) {
      if (isStreamingBufferRefusal(err)) return { affected: 0, pending: true };
      throw err;
    }
  }

  async close(): Promise<void> {
    // The BigQuery client belongs to the caller and holds no connection to release.
  }

  private queryParameter(type: WarehouseTableDef['columns'][number]['type'], column: string, value: string | number | boolean): unknown {
    switch (type) {
      case 'TIMESTAMP': {
        const time = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : NaN;
        if (!Number.isFinite(time)) throw new Error(`${column}: must be a timestamp`);
        return new Date(time); // the client turns a Date into a TIMESTAMP parameter value
      }
      case 'DATE':
        return this.bigquery.date(String(value));
      case 'INT64':
        if (typeof value !== 'number' || !Number.isInteger(value)) throw new Error(`${column}: must be an integer`);
        return BigInt(value).toString();
      case 'NUMERIC':
        if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${column}: must be a finite number`);
        return numericText(value);
      default:
        // Parameter values travel as strings in the REST API (QueryParameterValue.value).
        return String(value);
    }
  }

  private *batches(pending: Pending[], rowBudget: number): Generator<Pending[]> {
    let batch: Pending[] = [];
    let bytes = 0;
    for (const item of pending) {
      if (batch.length > 0 && (batch.length >= this.limits.rowsPerRequest || bytes + item.bytes > rowBudget)) {
        yield batch;
        batch = [];
        bytes = 0;
      }
      batch.push(item);
      bytes += item.bytes;
    }
    if (batch.length > 0) yield batch;
  }

  /**
   * Streams one batch. Rows BigQuery calls invalid are rejected with its message; rows failing
   * for a transient reason are resent alone, with their insertIds, until the attempts run out.
   */
  private async insertBatch(def: WarehouseTableDef, batch: Pending[]): Promise<Rejection[]> {
    const table = this.dataset.table(def.name);
    const rejections: Rejection[] = [];
    let remaining = batch;
    for (let attempt = 1; ; attempt++) {
      let retry: Pending[];
      let lastFailure: string;
      let cause: unknown;
      try {
        await table.insert(
          remaining.map((p) => p.wire),
          INSERT_OPTIONS,
        );
        return rejections;
      } catch (err) {
        cause = err;
        if (isPartialFailure(err)) {
          const outcome = this.splitPartialFailure(err, remaining);
          rejections.push(...outcome.rejections);
          if (outcome.retry.length === 0) return rejections;
          retry = outcome.retry;
          lastFailure = outcome.summary;
        } else if (isRetryableRequestError(err)) {
          retry = remaining;
          lastFailure = describeError(err);
        } else {
          throw new Error(`BigQuery insertAll into ${this.datasetId}.${def.name} failed: ${describeError(err)}`, { cause: err });
        }
      }
      if (attempt >= this.retry.attempts) {
        throw new BigQueryRetryExhaustedError(
          `BigQuery insertAll into ${this.datasetId}.${def.name}: ${retry.length} row(s) still failing after ${attempt} attempts ` +
            `(last: ${lastFailure}). The call is safe to repeat: insertIds and the _latest view make it idempotent.`,
          { cause },
        );
      }
      await this.sleep(backoffDelay(attempt, this.retry));
      remaining = retry;
    }
  }

  private splitPartialFailure(
    err: PartialFailure,
    sent: Pending[],
  ): { rejections: Rejection[]; retry: Pending[]; summary: string } {
    const rejections: Rejection[] = [];
    const retry: Pending[] = [];
    const reasons = new Set<string>();
    for (const { item, errors } of this.insertErrorsOf(err, sent)) {
      const permanent = errors.filter((e) => !RETRYABLE_ROW_REASONS.has(e.reason ?? ''));
      errors.forEach((e) => reasons.add(e.reason ?? 'unknown'));
      if (permanent.length > 0) {
        const reason = permanent.map((e) => (e.location ? `${e.location}: ${e.message || e.reason}` : e.message || e.reason || 'rejected')).join('; ');
        rejections.push({ index: item.index, rejected: { key: item.key, reason, row: item.row } });
      } else {
        retry.push(item);
      }
    }
    return { rejections, retry, summary: `insertErrors with reasons ${[...reasons].join(', ')}` };
  }

  /**
   * The failed rows of a partial failure with their errors. The response's insertErrors carry
   * each row's index and the error location (the client's own `errors` drop the location).
   */
  private insertErrorsOf(
    err: PartialFailure,
    sent: Pending[],
  ): { item: Pending; errors: NonNullable<InsertError['errors']> }[] {
    const body = err.response as unknown as { insertErrors?: InsertError[] } | undefined;
    if (Array.isArray(body?.insertErrors)) {
      return body.insertErrors.flatMap((e) => {
        const item = typeof e.index === 'number' ? sent[e.index] : undefined;
        return item ? [{ item, errors: e.errors ?? [] }] : [];
      });
    }
    return (err.errors ?? []).flatMap((e) => {
      const failure = e as unknown as { row?: unknown; errors?: InsertError['errors'] };
      const item = sent.find((p) => p.wire === failure.row);
      return item ? [{ item, errors: failure.errors ?? [] }] : [];
    });
  }

  private async ensureDataset(): Promise<void> {
    const [exists] = await this.withRetry('get dataset', () => this.dataset.exists());
    if (exists) return;
    try {
      await this.withRetry('create dataset', () => this.bigquery.createDataset(this.datasetId, this.location ? { location: this.location } : {}));
    } catch (err) {
      if (httpStatusOf(err) !== 409) throw err; // another instance created it first
    }
  }

  private async ensureTable(def: WarehouseTableDef, projectId: string): Promise<void> {
    const table = this.dataset.table(def.name);
    let current = await this.metadataOf(table);
    let changed = false;
    if (!current) {
      try {
        await this.withRetry(`create table ${def.name}`, () =>
          this.dataset.createTable(def.name, {
            description: def.description,
            schema: { fields: tableFields(def) },
            ...(def.partitionColumn ? { timePartitioning: { type: 'DAY', field: def.partitionColumn } } : {}),
            ...(def.clusterBy ? { clustering: { fields: [...def.clusterBy] } } : {}),
          }),
        );
        changed = true;
      } catch (err) {
        if (httpStatusOf(err) !== 409) throw err;
        current = await this.metadataOf(table); // created concurrently: check its columns below
      }
    }
    if (current) {
      const existing = (current.schema?.fields ?? []) as BigQueryField[];
      const names = new Set(existing.map((f) => f.name));
      // BigQuery adds columns only as NULLABLE (or REPEATED); old rows read them as null.
      const missing = def.columns
        .filter((c) => !names.has(c.name))
        .map((c) => ({ ...fieldOf(c), mode: c.mode === 'REPEATED' ? ('REPEATED' as const) : ('NULLABLE' as const) }));
      if (missing.length > 0) {
        await this.withRetry(`add columns to ${def.name}`, () => table.setMetadata({ schema: { fields: [...existing, ...missing] } }));
        changed = true;
      }
    }
    await this.ensureView(def, projectId, changed);
  }

  /** Creates or rewrites `{table}_latest`; rewritten too when its table changed, so its schema follows. */
  private async ensureView(def: WarehouseTableDef, projectId: string, tableChanged: boolean): Promise<void> {
    const name = `${def.name}_latest`;
    const view = this.dataset.table(name);
    const definition = { query: latestViewSql(def, `${projectId}.${this.datasetId}.${def.name}`), useLegacySql: false };
    const current = await this.metadataOf(view);
    if (!current) {
      try {
        await this.withRetry(`create view ${name}`, () =>
          this.dataset.createTable(name, { description: `Current rows of ${def.name}: newest ${def.versionColumn} per natural key`, view: definition }),
        );
        return;
      } catch (err) {
        if (httpStatusOf(err) !== 409) throw err;
      }
    } else if (current.view?.query === definition.query && !tableChanged) {
      return;
    }
    await this.withRetry(`update view ${name}`, () => view.setMetadata({ view: definition }));
  }

  private async metadataOf(table: Table) {
    try {
      const response = await this.withRetry(`get table ${table.id}`, () => table.getMetadata());
      // getMetadata resolves [resource, apiResponse] with the resource typed `any`.
      const metadata: unknown = response[0];
      return metadata as { schema?: { fields?: unknown[] }; view?: { query?: string } };
    } catch (err) {
      if (httpStatusOf(err) === 404) return undefined;
      throw err;
    }
  }

  private async resolveProjectId(): Promise<string> {
    this.projectId ??= this.bigquery.projectId && this.bigquery.projectId !== PROJECT_ID_PLACEHOLDER ? this.bigquery.projectId : await this.bigquery.getProjectId();
    return this.projectId;
  }

  /** One idempotent call (metadata, a query page) with the same backoff as inserts. */
  private async withRetry<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (!isRetryableRequestError(err)) throw err;
        if (attempt >= this.retry.attempts) {
          throw new BigQueryRetryExhaustedError(`BigQuery ${what} in ${this.datasetId} failed after ${attempt} attempts: ${describeError(err)}`, { cause: err });
        }
        await this.sleep(backoffDelay(attempt, this.retry));
      }
    }
  }
}

/**
 * BigQuery's answer to DML touching rows not yet out of the streaming buffer: 400 invalidQuery,
 * "UPDATE or DELETE statement over table … would affect rows in the streaming buffer, which is
 * not supported". Recognised by the message: there is no dedicated reason code.
 */
function isStreamingBufferRefusal(err: unknown): boolean {
  const e = (err ?? {}) as { message?: unknown; errors?: { message?: unknown }[] };
  const messages = [e.message, ...(Array.isArray(e.errors) ? e.errors.map((x) => x.message) : [])];
  return messages.some((m) => typeof m === 'string' && /streaming buffer/i.test(m));
}
