// The prediction engine: fits BG/NBD and Gamma-Gamma to a business's purchases (read through
// the Warehouse port), scores every customer, and stores the predictions three ways: the
// warehouse `predictions` history (compared with what happened later by `evaluate`), each
// customer's latest row in customer_predictions, and the prediction fields of customer_metrics
// through DatabaseSyncService, so segments and Firestore see them. A fit that fails or does not
// converge is reported on the run and the previous parameters are kept.
import type { Db } from '../../db/db.client.js';
import { AppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { DatabaseSyncService } from '../../sync/database-sync.service.js';
import type { Warehouse, WarehouseRow } from '../../warehouse/warehouse.port.js';
import type { BgNbdParams } from '../models/bg-nbd.js';
import type { GammaGammaParams } from '../models/gamma-gamma.js';
import type { PurchaseEvent } from '../models/rfm-summary.js';
import { toDayNumber, type TimeUnit } from '../models/time-unit.js';
import { defaultPrior, fitModels, scoreCustomer, type CustomerHistory, type FitReport } from './prediction-model.js';
import {
  customersOf,
  finishPredictionRun,
  interactionCounts,
  loadModel,
  saveModel,
  startPredictionRun,
  survivorsOfMerged,
  upsertCustomerPredictions,
  type PredictionRunRow,
} from './prediction.repository.js';
import type { CustomerPrediction, Predictor } from './predictor.js';
import { CoOccurrence, type BasketItem } from './recommendations.js';

export interface PredictionConfig {
  monthlyDiscountRate: number;
  penalizer: number;
}

interface BusinessData {
  events: PurchaseEvent[];
  lines: BasketItem[];
  meanSpend: number;
}

interface Parameters {
  bg: BgNbdParams;
  gg: GammaGammaParams | null;
  version: string;
  fitted: boolean;
}

const DAY_MS = 86_400_000;
const WRITE_BATCH = 500;

export class PredictionService implements Predictor {
  private readonly log: Logger;

  constructor(
    private readonly deps: { db: Db; warehouse: Warehouse; sync: DatabaseSyncService; config: PredictionConfig; logger: Logger; now?: () => Date },
  ) {
    this.log = deps.logger.child({ module: 'predictions' });
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /**
   * The completed purchases of linked customers of a business, as model events and basket lines.
   * A purchase of a customer since merged into another counts for the survivor.
   */
  async businessData(businessId: string): Promise<BusinessData> {
    const events: PurchaseEvent[] = [];
    const lines: BasketItem[] = [];
    let spend = 0;
    const survivors = await survivorsOfMerged(this.deps.db, businessId);
    for await (const row of this.deps.warehouse.read('purchases', { business_id: businessId, status: 'completed' })) {
      const linked = row.customer_id as string | null;
      if (!linked) continue;
      const customerId = survivors.get(linked) ?? linked;
      const amount = row.amount as number;
      events.push({ customerId, at: row.purchased_at as Date, amount });
      spend += amount;
      for (const item of (row.items as { itemId?: string | null; name?: string | null; quantity?: number }[] | null) ?? []) {
        if (item.itemId && (item.quantity ?? 1) > 0) lines.push({ customerId, itemId: item.itemId, name: item.name ?? null });
      }
    }
    return { events, lines, meanSpend: events.length > 0 ? spend / events.length : 0 };
  }

  /** Fits the models to a business's purchases up to `calibrationEnd` (the CDNOW check uses weeks). */
  async fit(businessId: string, options: { calibrationEnd?: Date; unit?: TimeUnit } = {}): Promise<FitReport> {
    const { events } = await this.businessData(businessId);
    return fitModels(events, { calibrationEnd: options.calibrationEnd ?? this.now(), unit: options.unit ?? 'days', penalizer: this.deps.config.penalizer });
  }

  /** The nightly job for one business: fit, score everyone, store. */
  async runForBusiness(businessId: string, trigger: string): Promise<PredictionRunRow> {
    const runId = await startPredictionRun(this.deps.db, businessId, trigger);
    try {
      const now = this.now();
      const data = await this.businessData(businessId);
      const report = fitModels(data.events, { calibrationEnd: now, unit: 'days', penalizer: this.deps.config.penalizer });
      const params = await this.parameters(businessId, report, data.meanSpend, now);
      if (report.note) this.log.warn({ businessId, note: report.note }, 'model fit not used as is');
      const customers = await customersOf(this.deps.db, businessId);
      const predictions = await this.score(businessId, customers, data, params, now);
      await this.store(businessId, predictions, now);
      return await finishPredictionRun(this.deps.db, runId, {
        customers: predictions.length,
        converged: report.converged,
        modelVersion: params.version,
        note: report.note,
        error: null,
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log.error({ businessId, error: message }, 'prediction run failed');
      return finishPredictionRun(this.deps.db, runId, { customers: 0, converged: null, modelVersion: null, note: null, error: message });
    }
  }

  async predictCustomer(businessId: string, customerId: string): Promise<CustomerPrediction> {
    const customers = await customersOf(this.deps.db, businessId, customerId);
    if (customers.length === 0) throw new AppError('NOT_FOUND', `Customer ${customerId} not found`);
    const now = this.now();
    const data = await this.businessData(businessId);
    const stored = await loadModel(this.deps.db, businessId);
    // Without stored parameters yet, fit now (and keep them) rather than fall back to the prior.
    const params = stored
      ? { bg: stored.bgnbd, gg: stored.gammaGamma, version: stored.modelVersion, fitted: true }
      : await this.parameters(businessId, fitModels(data.events, { calibrationEnd: now, unit: 'days', penalizer: this.deps.config.penalizer }), data.meanSpend, now);
    const [prediction] = await this.score(businessId, customers, data, params, now);
    await this.store(businessId, [prediction!], now);
    return prediction!;
  }

  /**
   * The accuracy job: predictions whose horizon has passed get the actual outcome and an
   * accuracy in 0..1 (1 − relative error for counts and money, 1 − |p − outcome| for churn,
   * 1 − days off / 30 for the next purchase date). Returns how many were evaluated.
   */
  async evaluate(businessId: string): Promise<number> {
    const now = this.now();
    const due: WarehouseRow[] = [];
    for await (const row of this.deps.warehouse.read('predictions', { business_id: businessId })) {
      const horizon = row.horizon_end as Date | null;
      if (horizon && horizon <= now && row.accuracy === null && row.prediction_type !== 'recommendations') due.push(row);
    }
    if (due.length === 0) return 0;
    const { events } = await this.businessData(businessId);
    const purchases = new Map<string, { day: number; amount: number }[]>();
    for (const e of events) {
      const list = purchases.get(e.customerId) ?? [];
      list.push({ day: toDayNumber(e.at), amount: e.amount });
      purchases.set(e.customerId, list);
    }
    const evaluated = due.map((row) => {
      const from = toDayNumber(row.timestamp as Date);
      const to = toDayNumber(row.horizon_end as Date);
      const window = (purchases.get(row.customer_id as string) ?? []).filter((p) => p.day > from && p.day <= to);
      const occasions = new Set(window.map((p) => p.day)).size;
      const predicted = (row.prediction_value as { value: unknown }).value;
      const relative = (pred: number, actual: number) => 1 - Math.abs(pred - actual) / Math.max(1, pred, actual);
      let actual: unknown;
      let accuracy: number;
      switch (row.prediction_type) {
        case 'churn_risk':
          actual = occasions === 0 ? 1 : 0;
          accuracy = 1 - Math.abs(Number(predicted) - (actual as number));
          break;
        case 'clv_12m':
          actual = round(window.reduce((s, p) => s + p.amount, 0), 2);
          accuracy = relative(Number(predicted), actual as number);
          break;
        case 'next_purchase': {
          const first = Math.min(...window.map((p) => p.day));
          actual = Number.isFinite(first) ? new Date(first * DAY_MS).toISOString().slice(0, 10) : null;
          accuracy = actual ? Math.max(0, 1 - Math.abs(first - toDayNumber(new Date(String(predicted)))) / 30) : 0;
          break;
        }
        default:
          actual = occasions;
          accuracy = relative(Number(predicted), occasions);
      }
      return { ...row, actual_value: { value: actual } as WarehouseRow[string], accuracy: round(accuracy, 4), evaluated_at: now, updated_at: now };
    });
    for (let i = 0; i < evaluated.length; i += 2000) await this.deps.warehouse.upsert('predictions', evaluated.slice(i, i + 2000));
    return evaluated.length;
  }

  /** Parameters to score with: a usable new fit (stored), else the last stored fit, else the default prior. */
  private async parameters(businessId: string, report: FitReport, meanSpend: number, now: Date): Promise<Parameters> {
    if (report.models) {
      const version = `bgnbd-gg/${now.toISOString()}`;
      await saveModel(this.deps.db, {
        businessId,
        modelVersion: version,
        bgnbd: report.models.bgnbd,
        gammaGamma: report.models.gammaGamma,
        customers: report.models.customers,
        repeatBuyers: report.models.repeatBuyers,
      });
      return { bg: report.models.bgnbd, gg: report.models.gammaGamma, version, fitted: true };
    }
    const stored = await loadModel(this.deps.db, businessId);
    if (stored) return { bg: stored.bgnbd, gg: stored.gammaGamma, version: stored.modelVersion, fitted: true };
    const prior = defaultPrior(meanSpend);
    return { bg: prior.bgnbd, gg: prior.gammaGamma, version: 'bgnbd-gg/default-prior', fitted: false };
  }

  private async score(
    businessId: string,
    customers: { id: string; created_at: Date }[],
    data: BusinessData,
    params: Parameters,
    now: Date,
  ): Promise<CustomerPrediction[]> {
    const wanted = new Set(customers.map((c) => c.id));
    const summary = fitModels(
      data.events.filter((e) => wanted.has(e.customerId)),
      { calibrationEnd: now, unit: 'days' },
    ).summary;
    const index = new Map(summary.customerIds.map((id, i) => [id, i]));
    const interactions = await interactionCounts(this.deps.db, businessId, new Date(now.getTime() - 90 * DAY_MS));
    const coOccurrence = new CoOccurrence(data.lines);
    const today = toDayNumber(now);
    return customers.map((customer) => {
      const i = index.get(customer.id);
      const history: CustomerHistory =
        i === undefined
          ? {
              x: 0,
              tx: 0,
              T: Math.max(0, today - toDayNumber(customer.created_at)),
              zbar: 0,
              daysSinceLast: Math.max(0, today - toDayNumber(customer.created_at)),
              hasPurchases: false,
              interactions90d: interactions.get(customer.id) ?? 0,
            }
          : {
              x: summary.x[i]!,
              tx: summary.tx[i]!,
              T: summary.T[i]!,
              zbar: summary.zbar[i]!,
              daysSinceLast: summary.T[i]! - summary.tx[i]!,
              hasPurchases: true,
              interactions90d: interactions.get(customer.id) ?? 0,
            };
      const scored = scoreCustomer(params.bg, params.gg, data.meanSpend, history, {
        monthlyDiscountRate: this.deps.config.monthlyDiscountRate,
        fitted: params.fitted,
      });
      return {
        customerId: customer.id,
        modelVersion: params.version,
        computedAt: now.toISOString(),
        churnRisk: round(scored.churnRisk, 5),
        expectedPurchases30d: round(scored.expectedPurchases30d, 4),
        expectedPurchases90d: round(scored.expectedPurchases90d, 4),
        nextPurchaseDate: scored.nextPurchaseInDays === null ? null : new Date(now.getTime() + scored.nextPurchaseInDays * DAY_MS).toISOString().slice(0, 10),
        expectedSpend: round(scored.expectedSpend, 2),
        predictedClv12m: round(scored.predictedClv12m, 2),
        engagementScore: round(scored.engagementScore, 3),
        confidence: round(scored.confidence, 3),
        recommendations: coOccurrence.recommend(customer.id),
        propensity: round(scored.propensity, 4),
      };
    });
  }

  private async store(businessId: string, predictions: CustomerPrediction[], now: Date): Promise<void> {
    for (let i = 0; i < predictions.length; i += WRITE_BATCH) {
      const batch = predictions.slice(i, i + WRITE_BATCH);
      const rows = batch.flatMap((p) => historyRows(businessId, p, now));
      const result = await this.deps.warehouse.upsert('predictions', rows);
      if (result.rejected.length > 0) this.log.error({ businessId, rejected: result.rejected.map((r) => r.reason) }, 'warehouse refused prediction rows');
      await upsertCustomerPredictions(
        this.deps.db,
        batch.map((p) => ({
          customerId: p.customerId,
          businessId,
          modelVersion: p.modelVersion,
          computedAt: new Date(p.computedAt),
          churnRisk: p.churnRisk,
          expectedPurchases30d: p.expectedPurchases30d,
          expectedPurchases90d: p.expectedPurchases90d,
          nextPurchaseDate: p.nextPurchaseDate,
          expectedSpend: p.expectedSpend,
          predictedClv12m: p.predictedClv12m,
          engagementScore: p.engagementScore,
          confidence: p.confidence,
          recommendations: p.recommendations,
        })),
      );
      await this.deps.sync.applyPredictedMetrics(
        batch.map((p) => ({
          customerId: p.customerId,
          churnProbability: p.churnRisk,
          predictedNextOrderDate: p.nextPurchaseDate,
          predictedLifetimeValue: Math.min(p.predictedClv12m, 9_999_999_999.99),
          propensityScore: p.propensity,
        })),
      );
    }
  }
}

/** One warehouse row per prediction type, with the time its outcome can be checked. */
function historyRows(businessId: string, p: CustomerPrediction, now: Date): WarehouseRow[] {
  const at = (days: number) => new Date(now.getTime() + days * DAY_MS);
  const entries: [string, unknown, Date | null][] = [
    ['churn_risk', p.churnRisk, at(90)],
    ['purchases_30d', p.expectedPurchases30d, at(30)],
    ['purchases_90d', p.expectedPurchases90d, at(90)],
    ['next_purchase', p.nextPurchaseDate, p.nextPurchaseDate ? at(365) : null],
    ['spend', p.expectedSpend, null],
    ['clv_12m', p.predictedClv12m, at(365)],
    ['engagement', p.engagementScore, null],
    ['recommendations', p.recommendations, null],
  ];
  return entries.map(([type, value, horizon]) => ({
    business_id: businessId,
    prediction_id: `${p.customerId}:${type}:${now.toISOString()}`,
    customer_id: p.customerId,
    timestamp: now,
    prediction_type: type,
    prediction_value: JSON.parse(JSON.stringify({ value })) as WarehouseRow[string],
    confidence: p.confidence,
    model_version: p.modelVersion,
    horizon_end: horizon,
    actual_value: null,
    accuracy: null,
    evaluated_at: null,
    updated_at: now,
  }));
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
