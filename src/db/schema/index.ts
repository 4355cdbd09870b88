// Every table of the system of record, for drizzle and drizzle-kit. Descending index columns are
// `.desc().nullsFirst()`: that is what `ORDER BY x DESC` means, and the planner uses an index only
// when the nulls order matches too (even on NOT NULL columns).
export * from './businesses.js';
export * from './customers.js';
export * from './customer-profile.js';
export * from './customer-history.js';
export * from './sync-logs.js';
export * from './relations.js';
export * from './reconcile-runs.js';
export * from './ingest.js';
export * from './memory.js';
export * from './tiers.js';
export * from './segments.js';
export * from './preferences.js';
export * from './domain-events.js';
export * from './recalculation-runs.js';
export * from './privacy.js';
