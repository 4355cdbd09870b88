// Duplicate detection for a business: candidate pairs with a score and the reasons (rule names and
// similarities, never the values), a page at a time in (score desc, ids) order.
import type { Db } from '../db/db.client.js';
import { AppError, invalidInput } from '../errors.js';
import {
  findDuplicatePairs,
  isLiveCustomerOf,
  isStatementTimeout,
  loadPairCustomers,
  NAME_CONFLICT_BELOW,
  NAME_MIN_SIMILARITY,
  NAME_SEARCH_TIMEOUT_MS,
  type DuplicatePairRow,
  type PairCustomer,
  type PairPosition,
} from './duplicates.repository.js';
import { duplicatesQuery } from './merge.schema.js';

export type DuplicateReason =
  | { rule: 'email'; detail: string }
  | { rule: 'phone'; detail: string }
  | { rule: 'name'; similarity: number; detail: string };

export interface DuplicatePair {
  customerIds: [string, string];
  score: number;
  reasons: DuplicateReason[];
  customers: [PairCustomer | null, PairCustomer | null];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SCORE = /^(0(\.\d{1,3})?|1(\.0{1,3})?)$/;

export class DuplicatesService {
  constructor(private readonly db: Db) {}

  async list(businessId: string, query: unknown): Promise<{ items: DuplicatePair[]; nextCursor: string | null; limit: number; minScore: number }> {
    const parsed = duplicatesQuery.safeParse(query ?? {});
    if (!parsed.success) throw invalidInput(parsed.error, 'query');
    const q = parsed.data;
    if (q.customerId && !(await isLiveCustomerOf(this.db, businessId, q.customerId))) {
      throw new AppError('NOT_FOUND', `Customer ${q.customerId} not found`, [{ field: 'query.customerId', message: 'no such customer' }]);
    }
    const rows = await findDuplicatePairs(this.db, {
      businessId,
      minScore: q.minScore,
      limit: q.limit,
      customerId: q.customerId,
      after: q.cursor ? decodePairCursor(q.cursor) : undefined,
    }).catch((err: unknown) => {
      if (!isStatementTimeout(err)) throw err;
      const message = `the business-wide name search took longer than ${NAME_SEARCH_TIMEOUT_MS / 1000} s: raise minScore above 0.5, or list one customer's candidates with customerId`;
      throw new AppError('GATEWAY_TIMEOUT', `query.minScore: ${message}`, [{ field: 'query.minScore', message }]);
    });
    const page = rows.slice(0, q.limit);
    const customers = await loadPairCustomers(this.db, [...new Set(page.flatMap((r) => [r.a, r.b]))]);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        customerIds: [r.a, r.b],
        score: Number(r.score),
        reasons: reasonsOf(r),
        customers: [customers.get(r.a) ?? null, customers.get(r.b) ?? null],
      })),
      nextCursor: rows.length > q.limit && last ? encodePairCursor({ score: last.score, a: last.a, b: last.b }) : null,
      limit: q.limit,
      minScore: q.minScore,
    };
  }
}

/** The reasons of a pair: which rules matched (and how alike the names are), never the values. */
export function reasonsOf(r: Pick<DuplicatePairRow, 'same_email' | 'same_email_key' | 'same_phone' | 'name_similarity'>): DuplicateReason[] {
  const reasons: DuplicateReason[] = [];
  if (r.same_email_key) reasons.push({ rule: 'email', detail: r.same_email ? 'same email' : 'same normalised email (case, +tag or Gmail dots)' });
  if (r.same_phone) reasons.push({ rule: 'phone', detail: 'same E.164 phone' });
  if (r.name_similarity !== null) {
    const similarity = Math.round(r.name_similarity * 100) / 100;
    if (r.name_similarity >= NAME_MIN_SIMILARITY) reasons.push({ rule: 'name', similarity, detail: similarity === 1 ? 'same name' : 'similar names' });
    else if (r.name_similarity < NAME_CONFLICT_BELOW) reasons.push({ rule: 'name', similarity, detail: 'names differ (lowers the score)' });
  }
  return reasons;
}

export function encodePairCursor(p: PairPosition): string {
  return Buffer.from(JSON.stringify([p.score, p.a, p.b])).toString('base64url');
}

export function decodePairCursor(cursor: string): PairPosition {
  try {
    const [score, a, b] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof score === 'string' && SCORE.test(score) && typeof a === 'string' && UUID.test(a) && typeof b === 'string' && UUID.test(b)) {
      return { score, a, b };
    }
  } catch {
    // fall through to the error below
  }
  throw new AppError('INVALID_INPUT', 'Invalid input: query.cursor: is not a cursor this API returned', [
    { field: 'query.cursor', message: 'is not a cursor this API returned' },
  ]);
}
