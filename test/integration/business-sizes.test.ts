// Which businesses the search treats as small (one pass over their own customers), on a database of
// this file's own so the shares are known: A has 100 customers, B 1, C 5 (106 in all).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusinessSizes } from '../../src/customers/business-sizes.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

let t: TestDatabase;
const ids: Record<'A' | 'B' | 'C', string> = { A: '', B: '', C: '' };

async function addCustomers(businessId: string, n: number): Promise<void> {
  await t.pool.query(
    `WITH c AS (INSERT INTO customers (first_name) SELECT 'x' FROM generate_series(1, $2) RETURNING id)
     INSERT INTO business_customers (business_id, customer_id) SELECT $1, id FROM c`,
    [businessId, n],
  );
}

beforeAll(async () => {
  t = await createTestDatabase();
  for (const [key, n] of [['A', 100], ['B', 1], ['C', 5]] as const) {
    const { rows } = await t.pool.query<{ id: string }>(`INSERT INTO businesses (name) VALUES ($1) RETURNING id::text`, [key]);
    ids[key] = rows[0]!.id;
    await addCustomers(ids[key], n);
  }
  // The share is read from the statistics, as autovacuum keeps them.
  await t.pool.query('ANALYZE business_customers');
});
afterAll(() => t.drop());

describe('BusinessSizes', () => {
  const db = () => t.handle.db;

  it('is small with at most the bound of customers and under a fiftieth of all', async () => {
    const sizes = new BusinessSizes(10);
    expect(await sizes.isSmall(db(), ids.B)).toBe(true); // 1 of 106
    expect(await sizes.isSmall(db(), ids.C)).toBe(false); // 5 ≤ 10, but 106 is not more than 50 × 5
    expect(await sizes.isSmall(db(), ids.A)).toBe(false); // 100 > 10
    expect(await new BusinessSizes(4).isSmall(db(), ids.C)).toBe(false); // 5 > 4
    expect(await new BusinessSizes(0).isSmall(db(), ids.B)).toBe(false); // 0: never
  });

  it('remembers the answer for a minute, then counts again', async () => {
    let now = 0;
    const sizes = new BusinessSizes(3, () => now);
    const fresh = (await t.pool.query<{ id: string }>(`INSERT INTO businesses (name) VALUES ('D') RETURNING id::text`)).rows[0]!.id;
    await addCustomers(fresh, 1);
    expect(await sizes.isSmall(db(), fresh)).toBe(true); // 1 of about 106 (the statistics)
    await addCustomers(fresh, 3);
    now += 59_000;
    expect(await sizes.isSmall(db(), fresh)).toBe(true);
    now += 2_000;
    expect(await sizes.isSmall(db(), fresh)).toBe(false); // 4 > 3
  });
});
