// SQL of the tenants table.
import { asc, eq } from 'drizzle-orm';
import type { Executor } from '../db/db.client.js';
import { businesses } from '../db/schema/index.js';

export async function insertBusiness(ex: Executor, name: string) {
  const [row] = await ex.insert(businesses).values({ name }).returning();
  return row!;
}

export async function findBusinessByName(ex: Executor, name: string) {
  const [row] = await ex.select().from(businesses).where(eq(businesses.name, name)).orderBy(asc(businesses.createdAt)).limit(1);
  return row;
}

export async function listBusinesses(ex: Executor) {
  return ex.select().from(businesses).orderBy(asc(businesses.createdAt));
}
