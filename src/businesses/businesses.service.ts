// Tenants: operators create businesses (npm run business) and demo mode seeds one.
import type { Db } from '../db/db.client.js';
import { findBusinessByName, insertBusiness, listBusinesses } from './businesses.repository.js';

export const DEMO_BUSINESS_NAME = 'Demo Retail Co.';

export class BusinessesService {
  constructor(private readonly db: Db) {}

  create(name: string) {
    return insertBusiness(this.db, name);
  }

  list() {
    return listBusinesses(this.db);
  }

  /** The demo business, created on first start; the same one after a restart. */
  async ensureDemoBusiness() {
    return (await findBusinessByName(this.db, DEMO_BUSINESS_NAME)) ?? insertBusiness(this.db, DEMO_BUSINESS_NAME);
  }
}
