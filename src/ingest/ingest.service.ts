// Runs POS ingestion: one run per connection at a time across every instance (advisory lock;
// an overlapping run is skipped and logged), a run record from start to finish, the streams of
// the connection's source in dependency order (customers before the transactions that name
// them), and the metrics of every customer whose transactions changed. Also the read side of
// the ingest API: run history and per-source status.
import type { Config } from '../config.js';
import { ADVISORY_LOCKS, withAdvisoryLock } from '../db/advisory-locks.js';
import type { DatabaseHandle } from '../db/db.client.js';
import type { KeysetPosition } from '../db/keyset.js';
import type { PosProvider } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DatabaseSyncService } from '../sync/database-sync.service.js';
import type { Warehouse } from '../warehouse/warehouse.port.js';
import { CredentialSealer, lightspeedCredentials, squareCredentials, type LightspeedCredentials, type SquareCredentials } from './credentials.js';
import { IdentityLinker } from './identity-linker.js';
import { IngestRun, type ProgressEvent } from './ingest-run.js';
import {
  closeInterruptedRuns,
  finishRun,
  findConnection,
  insertConnection,
  listConnections,
  listRuns,
  loadCheckpoints,
  saveConnectionCredentials,
  sourceStatus,
  updateConnection,
  startRun,
  type Checkpoint,
  type IngestRunRow,
  type PosConnection,
} from './ingest.repository.js';
import { createLightspeedIngester } from './lightspeed/lightspeed.ingester.js';
import { createSquareIngester } from './square/square.ingester.js';

export type IngestTrigger = 'schedule' | 'cli' | 'startup';

export interface RunOptions {
  trigger: IngestTrigger;
  /** Only these streams (default: all of the source's). */
  streams?: string[];
  /** Backfill from this time instead of the checkpoints (checkpoints never move backwards). */
  since?: Date;
  onProgress?: (event: ProgressEvent) => void;
}

/** What a source's ingester gets for one run. */
export interface SourceRunContext {
  run: IngestRun;
  streams: string[];
  since?: Date;
  checkpoints: Map<string, Checkpoint>;
  now: Date;
  config: Config['ingest'];
  logger: Logger;
}

export interface SourceIngester {
  run(ctx: SourceRunContext): Promise<void>;
}

export const SOURCE_STREAMS: Record<PosProvider, readonly string[]> = {
  square: ['customers', 'catalog', 'payments', 'refunds'],
  lightspeed: ['customers', 'items', 'sales'],
};

export type RunOutcome = { skipped: true; connectionId: string } | { skipped: false; run: IngestRunRow };

export interface NewConnection {
  businessId: string;
  provider: PosProvider;
  accountId: string;
  credentials: SquareCredentials | LightspeedCredentials;
  apiUrl?: string;
  tokenUrl?: string;
  locationIds?: string[];
  schedule?: string;
}

export class IngestService {
  private readonly sealer: CredentialSealer;
  private readonly linker: IdentityLinker;
  private readonly log: Logger;
  private stopping = false;

  constructor(
    private readonly deps: {
      database: DatabaseHandle;
      warehouse: Warehouse;
      sync: DatabaseSyncService;
      config: Config['ingest'];
      logger: Logger;
      onRows?: (provider: PosProvider, stream: string, rows: number) => void;
      onRunFinished?: (run: IngestRunRow) => void;
    },
  ) {
    this.sealer = new CredentialSealer(deps.config.credentialsKey);
    this.linker = new IdentityLinker(deps.database.db, deps.sync, deps.config.defaultPhoneRegion);
    this.log = deps.logger.child({ module: 'ingest' });
  }

  async createConnection(input: NewConnection): Promise<PosConnection> {
    const schema = input.provider === 'square' ? squareCredentials : lightspeedCredentials;
    const credentials = schema.parse(input.credentials);
    const defaults = input.provider === 'square' ? { apiUrl: this.deps.config.square.apiUrl } : this.deps.config.lightspeed;
    return insertConnection(this.deps.database.db, {
      businessId: input.businessId,
      provider: input.provider,
      accountId: input.accountId,
      apiUrl: input.apiUrl ?? defaults.apiUrl,
      tokenUrl: input.provider === 'lightspeed' ? (input.tokenUrl ?? this.deps.config.lightspeed.tokenUrl) : null,
      locationIds: input.locationIds ?? [],
      schedule: input.schedule ?? this.deps.config.defaultSchedule,
      credentials: this.sealer.seal(credentials),
    });
  }

  /** Points an existing connection elsewhere with new credentials (demo mode: the simulator's new port). */
  async updateConnection(id: string, changes: { apiUrl: string; tokenUrl?: string; credentials: SquareCredentials | LightspeedCredentials }): Promise<void> {
    await updateConnection(this.deps.database.db, id, {
      apiUrl: changes.apiUrl,
      tokenUrl: changes.tokenUrl ?? null,
      credentials: this.sealer.seal(changes.credentials),
    });
  }

  /**
   * Shutdown: runs in progress stop at their next page (failed, "stopped"); the next run resumes
   * from the checkpoint. New runs are refused from now on.
   */
  stopRuns(): void {
    this.stopping = true;
  }

  connections(filter: { provider?: PosProvider; businessId?: string; enabledOnly?: boolean } = {}): Promise<PosConnection[]> {
    return listConnections(this.deps.database.db, filter);
  }

  /** Runs every enabled connection of a provider (optionally of one business), one after another. */
  async runProvider(provider: PosProvider, opts: RunOptions & { businessId?: string }): Promise<RunOutcome[]> {
    const connections = await this.connections({ provider, enabledOnly: true, ...(opts.businessId ? { businessId: opts.businessId } : {}) });
    const outcomes: RunOutcome[] = [];
    for (const connection of connections) outcomes.push(await this.runConnection(connection.id, opts));
    return outcomes;
  }

  async runConnection(connectionId: string, opts: RunOptions): Promise<RunOutcome> {
    if (this.stopping) return { skipped: true, connectionId };
    const connection = await findConnection(this.deps.database.db, connectionId);
    if (!connection) throw new AppError('NOT_FOUND', `POS connection ${connectionId} not found`);
    const streams = this.streamsFor(connection.provider, opts.streams);
    const locked = await withAdvisoryLock(this.deps.database, { key: ADVISORY_LOCKS.ingest, id: connection.id }, () =>
      this.runLocked(connection, streams, opts),
    );
    if (!locked.ran) {
      this.log.info({ connectionId, provider: connection.provider, trigger: opts.trigger }, 'ingest run skipped: another run of this connection is still going');
      return { skipped: true, connectionId };
    }
    return { skipped: false, run: locked.value };
  }

  listRuns(businessId: string, opts: { limit: number; after?: KeysetPosition; provider?: PosProvider }) {
    return listRuns(this.deps.database.db, businessId, opts);
  }

  async status(businessId: string, now = new Date()) {
    const rows = await sourceStatus(this.deps.database.db, businessId);
    return rows.map((r) => ({
      source: r.provider,
      connections: r.connections,
      lastSuccessAt: iso(r.last_success_at),
      lagSeconds: r.last_success_at ? Math.max(0, Math.round((now.getTime() - new Date(r.last_success_at).getTime()) / 1000)) : null,
      lastRun: r.last_run_at ? { status: r.last_run_status, startedAt: iso(r.last_run_at), error: r.last_error } : null,
      transactions: r.transactions,
      transactionsNamingCustomer: r.named_customer,
      linked: r.linked,
      linkedPct: r.named_customer > 0 ? Math.round((r.linked / r.named_customer) * 10000) / 100 : null,
      quarantined: r.quarantined,
    }));
  }

  private streamsFor(provider: PosProvider, requested?: string[]): string[] {
    const known = SOURCE_STREAMS[provider];
    if (!requested || requested.length === 0) return [...known];
    const unknown = requested.filter((s) => !known.includes(s));
    if (unknown.length > 0) {
      throw new AppError('INVALID_INPUT', `Unknown ${provider} stream: ${unknown.join(', ')} (streams: ${known.join(', ')})`, [
        { field: 'stream', message: `must be one of ${known.join(', ')}` },
      ]);
    }
    return known.filter((s) => requested.includes(s));
  }

  private async runLocked(connection: PosConnection, streams: string[], opts: RunOptions): Promise<IngestRunRow> {
    const db = this.deps.database.db;
    const interrupted = await closeInterruptedRuns(db, connection.id);
    if (interrupted > 0) this.log.warn({ connectionId: connection.id, interrupted }, 'closed run records left open by a stopped process');
    const runId = await startRun(db, connection, opts.trigger);
    const logger = this.log.child({ jobId: runId, connectionId: connection.id, provider: connection.provider });
    logger.info({ streams, trigger: opts.trigger, since: opts.since }, 'ingest run started');
    const run = new IngestRun(
      {
        db,
        warehouse: this.deps.warehouse,
        linker: this.linker,
        sync: this.deps.sync,
        logger,
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        ...(this.deps.onRows ? { onRows: this.deps.onRows } : {}),
        shouldStop: () => this.stopping,
      },
      connection,
      runId,
    );
    let error: string | null = null;
    try {
      // Metrics a crashed run left queued are brought up to date first.
      await run.flushMetrics();
      const ingester = this.ingesterFor(connection);
      await ingester.run({
        run,
        streams,
        ...(opts.since ? { since: opts.since } : {}),
        checkpoints: await loadCheckpoints(db, connection.id),
        now: new Date(),
        config: this.deps.config,
        logger,
      });
      await run.drain();
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      // A page still being written when a stream failed finishes (or fails) before the run record closes.
      await run.drain().catch(() => undefined);
    }
    try {
      await run.flushMetrics();
    } catch (err) {
      error ??= `metrics update failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    const finished = await finishRun(db, runId, run.counts, error);
    if (error) logger.error({ error, counts: summary(run) }, 'ingest run failed');
    else logger.info({ counts: summary(run) }, 'ingest run finished');
    this.deps.onRunFinished?.(finished);
    return finished;
  }

  private ingesterFor(connection: PosConnection): SourceIngester {
    if (connection.provider === 'square') {
      return createSquareIngester(connection, this.sealer.open(connection.credentials, squareCredentials));
    }
    const db = this.deps.database.db;
    const sealer = this.sealer;
    let sealed = connection.credentials;
    return createLightspeedIngester(connection, sealer.open(sealed, lightspeedCredentials), {
      // A rotated refresh token is stored (sealed) before the new access token is used.
      saveRefreshToken: async (refreshToken) => {
        const current = sealer.open(sealed, lightspeedCredentials);
        if (!('refreshToken' in current)) return;
        sealed = sealer.seal({ ...current, refreshToken });
        await saveConnectionCredentials(db, connection.id, sealed);
      },
    });
  }
}

/** Raw queries may hand timestamps back as text in PostgreSQL's format; the API speaks ISO-8601. */
function iso(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

function summary(run: IngestRun) {
  const { streams: _streams, ...totals } = run.counts;
  return totals;
}
