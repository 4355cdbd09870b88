// Array parameters (one bind value however long the list) arrive in PostgreSQL exactly as given:
// quotes, backslashes, commas, braces, the word NULL, empty strings and non-ASCII text included.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, textArray, uuidArray } from '../../src/db/db.client.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

let d: TestDatabase;
beforeAll(async () => {
  d = await createTestDatabase({ migrated: false });
});
afterAll(() => d.drop());

const roundTrip = async (param: ReturnType<typeof textArray>) => (await queryRows<{ a: string[] }>(d.handle.db, sql`SELECT ${param} AS a`))[0]!.a;

describe('array parameters', () => {
  it('keeps every text as it was, with and without characters that need quoting', async () => {
    const awkward = ['a"b', 'c\\d', '\\"', "o'neil", '{x,y}', ' padded ', 'NULL', '', 'Müller, Zoë'];
    expect(await roundTrip(textArray(awkward))).toEqual(awkward);
    const plain = ['smith', "o'neil", 'a,b', '{}', 'NULL', '', ' ', 'garcía'];
    expect(await roundTrip(textArray(plain))).toEqual(plain);
    expect(await roundTrip(textArray([]))).toEqual([]);
    const many = Array.from({ length: 5000 }, (_, i) => `name-${i}`);
    expect(await roundTrip(textArray(many))).toEqual(many);
  });

  it('passes uuids as one uuid[] value', async () => {
    const ids = [randomUUID(), randomUUID()];
    expect(await roundTrip(uuidArray(ids))).toEqual(ids);
  });
});
