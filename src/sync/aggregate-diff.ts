// What counts as a change of a customer aggregate, and which fields changed. Bookkeeping
// timestamps and the version are not content; activities are append-only and counted apart.
import type { CustomerAggregate } from '../customers/customers.repository.js';
import { canonicalJson, contentHash } from './content-hash.js';

const BOOKKEEPING = new Set(['version', 'updatedAt', 'calculatedAt', 'enrichedAt', 'lastSyncedAt', 'assessedAt']);
const SECTIONS = ['metrics', 'demographics', 'engagement', 'risk'] as const;

/** The aggregate without bookkeeping fields and activities: what the content hash covers. */
export function aggregateContent(a: CustomerAggregate): Record<string, unknown> {
  return strip({ ...a, activities: undefined }) as Record<string, unknown>;
}

export function aggregateHash(a: CustomerAggregate): string {
  return contentHash(aggregateContent(a));
}

/** Names (never values) of the fields that differ, e.g. ["email", "metrics.totalSpent", "addresses"]. */
export function changedFieldNames(before: CustomerAggregate | undefined, after: CustomerAggregate): string[] {
  const b = before ? aggregateContent(before) : {};
  const a = aggregateContent(after);
  const names: string[] = [];
  for (const key of Object.keys(a).sort()) {
    if (canonicalJson(b[key]) === canonicalJson(a[key])) continue;
    const bSection = b[key];
    const aSection = a[key];
    if ((SECTIONS as readonly string[]).includes(key) && isRecord(bSection) && isRecord(aSection)) {
      for (const field of Object.keys(aSection).sort()) {
        if (canonicalJson(bSection[field]) !== canonicalJson(aSection[field])) names.push(`${key}.${field}`);
      }
    } else {
      names.push(key);
    }
  }
  return names;
}

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k, v]) => !BOOKKEEPING.has(k) && v !== undefined)
        .map(([k, v]) => [k, strip(v)]),
    );
  }
  return value;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}
