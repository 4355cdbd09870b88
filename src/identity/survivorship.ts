// Survivorship: which value each field of two merged customers keeps. The rule is "the most
// recent non-null value from the most trusted source": sources are ranked (MERGE_SOURCE_RANKING,
// overridable per merge), a record is trusted as its best-ranked source, and among values of
// equally trusted records the one set most recently wins. A value from a less trusted record is
// taken only when every more trusted one is missing. A few fields have rules of their own (tags
// are united, the latest activity time is kept, a block is never lifted by a merge). Pure: no I/O,
// no values in the decisions (they name fields, customers and sources only).
import { canonicalJson } from '../sync/content-hash.js';

export const DEFAULT_SOURCE_RANKING = ['manual', 'square', 'lightspeed', 'import'] as const;
/** The source of a customer with no customer_sources row: entered by hand (API, admin UI). */
export const MANUAL_SOURCE = 'manual';

export type MergeRole = 'survivor' | 'merged';

/** One of the two customers, as the rules see it. */
export interface SurvivorshipRecord {
  customerId: string;
  role: MergeRole;
  /** The record's trusted source (recordSource) and its rank (0 = most trusted). */
  source: string;
  rank: number;
  /** When the record last set this field (falls back to the record's creation). */
  fieldTime: (field: string) => Date;
}

export type DecisionRule =
  | 'most-trusted-source'
  | 'most-recent'
  | 'only-value'
  | 'tie-survivor'
  | 'no-value'
  | 'union'
  | 'latest'
  | 'blocked-wins'
  | 'combined';

/** Why a field took its value: which record and which rule (never the value). */
export interface FieldDecision {
  field: string;
  rule: DecisionRule;
  /** The record the value came from; 'both' for united or combined values; null when none had one. */
  from: MergeRole | 'both' | null;
  customerId: string | null;
  source: string | null;
  /** When the chosen record set the field (ISO), for the rules that compare times. */
  at: string | null;
}

/** Position of a source in the ranking; sources the ranking does not name come after every named one. */
export function rankOf(source: string, ranking: readonly string[]): number {
  const i = ranking.indexOf(source);
  return i >= 0 ? i : ranking.length;
}

/** The source a record is trusted as: the best-ranked of its sources, 'manual' without any. */
export function recordSource(sourceNames: readonly string[], ranking: readonly string[]): string {
  const names = [...new Set(sourceNames)];
  if (names.length === 0) return MANUAL_SOURCE;
  return names.sort((a, b) => rankOf(a, ranking) - rankOf(b, ranking) || (a < b ? -1 : a > b ? 1 : 0))[0]!;
}

/** A field value counts as missing when null, undefined or a blank string. */
export function isMissing(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

interface Candidate {
  record: SurvivorshipRecord;
  value: unknown;
  at: Date;
}

const byTrust = (x: Candidate, y: Candidate): number =>
  x.record.rank - y.record.rank || y.at.getTime() - x.at.getTime() || (x.record.role === 'survivor' ? -1 : y.record.role === 'survivor' ? 1 : 0);

function decision(field: string, rule: DecisionRule, chosen: Candidate | null): FieldDecision {
  return {
    field,
    rule,
    from: chosen ? chosen.record.role : null,
    customerId: chosen ? chosen.record.customerId : null,
    source: chosen ? chosen.record.source : null,
    at: chosen ? chosen.at.toISOString() : null,
  };
}

/**
 * The most recent non-null value from the most trusted source: present values sorted by the
 * record's rank, then by when the record set the field (newest first); on a full tie the
 * survivor's value stays.
 */
export function chooseValue<T>(field: string, values: { record: SurvivorshipRecord; value: T | null | undefined }[]): { value: T | null; decision: FieldDecision } {
  const present = values
    .filter((v) => !isMissing(v.value))
    .map((v): Candidate => ({ record: v.record, value: v.value, at: v.record.fieldTime(field) }))
    .sort(byTrust);
  const best = present[0];
  if (!best) return { value: null, decision: decision(field, 'no-value', null) };
  const next = present[1];
  const rule: DecisionRule = !next
    ? 'only-value'
    : next.record.rank > best.record.rank
      ? 'most-trusted-source'
      : next.at.getTime() < best.at.getTime()
        ? 'most-recent'
        : 'tie-survivor';
  return { value: best.value as T, decision: decision(field, rule, best) };
}

/** Two records' values differ (canonical JSON: dates, key order and numbers compare by value). */
export function differ(a: unknown, b: unknown): boolean {
  const norm = (v: unknown) => (isMissing(v) ? 'null' : canonicalJson(v));
  return norm(a) !== norm(b);
}

/** Everything the merged customer's core fields become, and the decisions behind them. */
export interface CoreFields {
  email: string | null;
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
  dateOfBirth: string | null;
  status: string;
  customerType: string;
  lastActiveAt: Date | null;
  tags: string[];
  notes: string | null;
  internalNotes: string | null;
  customAttributes: Record<string, unknown>;
}

export const NOTES_MAX_LENGTH = 10_000;

/**
 * Decides every core field. `survivor` and `merged` pair each record with its current values.
 * Decisions are recorded for the fields whose values differ between the two records.
 */
export function mergeCoreFields(
  survivor: { record: SurvivorshipRecord; values: CoreFields },
  merged: { record: SurvivorshipRecord; values: CoreFields },
): { values: CoreFields; decisions: FieldDecision[] } {
  const both = [survivor, merged];
  const decisions: FieldDecision[] = [];
  const pick = <K extends keyof CoreFields>(field: K, filter: (v: CoreFields[K]) => boolean = () => true): CoreFields[K] | null => {
    const usable = both.filter((r) => filter(r.values[field]));
    const { value, decision: d } = chooseValue(field, (usable.length > 0 ? usable : both).map((r) => ({ record: r.record, value: r.values[field] })));
    if (differ(survivor.values[field], merged.values[field])) decisions.push(d);
    return value;
  };
  const record = (field: keyof CoreFields, rule: DecisionRule, from: SurvivorshipRecord | 'both') => {
    if (!differ(survivor.values[field], merged.values[field])) return;
    decisions.push(
      from === 'both'
        ? { field, rule, from: 'both', customerId: null, source: null, at: null }
        : { field, rule, from: from.role, customerId: from.customerId, source: from.source, at: from.fieldTime(field).toISOString() },
    );
  };

  const email = pick('email');
  const phone = pick('phone');
  const firstName = pick('firstName');
  const lastName = pick('lastName');
  const dateOfBirth = pick('dateOfBirth');

  // A block is a decision about the person: merging never lifts it.
  const blocked = both.find((r) => r.values.status === 'blocked');
  let status: string;
  if (blocked) {
    status = 'blocked';
    record('status', 'blocked-wins', blocked.record);
  } else {
    status = pick('status') ?? survivor.values.status;
  }
  // A registered (or wholesale, affiliate) profile says more than a walk-in guest one.
  const customerType = pick('customerType', (t) => t !== 'guest') ?? survivor.values.customerType;

  // The last time the person was seen is a fact of either record: the later one.
  const lastActive = both
    .filter((r) => r.values.lastActiveAt !== null)
    .sort((a, b) => b.values.lastActiveAt!.getTime() - a.values.lastActiveAt!.getTime())[0];
  const lastActiveAt = lastActive?.values.lastActiveAt ?? null;
  if (lastActive) record('lastActiveAt', 'latest', lastActive.record);

  const tags = [...new Set([...survivor.values.tags, ...merged.values.tags])];
  record('tags', 'union', 'both');

  const notes = combineNotes('notes', survivor, merged, decisions);
  const internalNotes = combineNotes('internalNotes', survivor, merged, decisions);

  // Attributes of both, the more trusted record's value where both have a key.
  const [trusted, other] = [survivor, merged].sort((x, y) =>
    byTrust(
      { record: x.record, value: null, at: x.record.fieldTime('customAttributes') },
      { record: y.record, value: null, at: y.record.fieldTime('customAttributes') },
    ),
  ) as [typeof survivor, typeof merged];
  const customAttributes = { ...other.values.customAttributes, ...trusted.values.customAttributes };
  record('customAttributes', 'combined', 'both');

  return {
    values: { email, phone, firstName, lastName, dateOfBirth, status, customerType, lastActiveAt, tags, notes, internalNotes, customAttributes },
    decisions,
  };
}

/** Notes of both records are kept (the trusted one first) when they differ and fit; else the rule decides. */
function combineNotes(
  field: 'notes' | 'internalNotes',
  survivor: { record: SurvivorshipRecord; values: CoreFields },
  merged: { record: SurvivorshipRecord; values: CoreFields },
  decisions: FieldDecision[],
): string | null {
  const chosen = chooseValue(field, [survivor, merged].map((r) => ({ record: r.record, value: r.values[field] })));
  const a = survivor.values[field];
  const b = merged.values[field];
  if (!differ(a, b)) return chosen.value;
  if (!isMissing(a) && !isMissing(b)) {
    const first = chosen.value!;
    const second = first === a ? b! : a!;
    const combined = `${first}\n\n${second}`;
    if (combined.length <= NOTES_MAX_LENGTH) {
      decisions.push({ field, rule: 'combined', from: 'both', customerId: null, source: null, at: null });
      return combined;
    }
  }
  decisions.push(chosen.decision);
  return chosen.value;
}

/** Bookkeeping columns of a one-row section: kept from the row the section is based on, never decided. */
const SECTION_BOOKKEEPING = new Set(['id', 'customerId', 'updatedAt', 'calculatedAt', 'enrichedAt', 'assessedAt']);

/**
 * Merges a one-row section (demographics, engagement, risk) field by field: lists are united,
 * objects combined (the trusted record's keys win), every other field follows the rule with the
 * time the record set `section.field` (or the section). Null when neither record has the section.
 */
export function mergeSection(
  section: string,
  survivor: { record: SurvivorshipRecord; row: Record<string, unknown> | null },
  merged: { record: SurvivorshipRecord; row: Record<string, unknown> | null },
): { values: Record<string, unknown> | null; decisions: FieldDecision[] } {
  if (!survivor.row && !merged.row) return { values: null, decisions: [] };
  const base = survivor.row ?? merged.row!;
  const values: Record<string, unknown> = {};
  const decisions: FieldDecision[] = [];
  const withRows = [survivor, merged].filter((r) => r.row !== null) as { record: SurvivorshipRecord; row: Record<string, unknown> }[];
  const keys = [...new Set(withRows.flatMap((r) => Object.keys(r.row)))].filter((k) => !SECTION_BOOKKEEPING.has(k));
  for (const key of ['calculatedAt', 'enrichedAt', 'assessedAt']) if (key in base) values[key] = base[key];
  for (const key of keys) {
    const field = `${section}.${key}`;
    const sv = survivor.row?.[key];
    const mv = merged.row?.[key];
    if (Array.isArray(sv) || Array.isArray(mv)) {
      values[key] = [...new Set([...((sv as unknown[] | undefined) ?? []), ...((mv as unknown[] | undefined) ?? [])])];
      if (differ(sv, mv)) decisions.push({ field, rule: 'union', from: 'both', customerId: null, source: null, at: null });
      continue;
    }
    if (isPlainObject(sv) || isPlainObject(mv)) {
      const chosen = chooseValue(field, withRows.map((r) => ({ record: r.record, value: r.row[key] })));
      // Later spreads win: the less trusted record's keys first.
      const [lower, higher] = chosen.decision.from === 'merged' ? [sv, mv] : [mv, sv];
      values[key] = { ...(lower as object | undefined), ...(higher as object | undefined) };
      if (differ(sv, mv)) decisions.push({ field, rule: 'combined', from: 'both', customerId: null, source: null, at: null });
      continue;
    }
    const chosen = chooseValue(field, withRows.map((r) => ({ record: r.record, value: r.row[key] })));
    values[key] = chosen.value;
    if (differ(sv, mv)) decisions.push(chosen.decision);
  }
  return { values, decisions };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}

/** Parses a ranking such as "manual,square,lightspeed,import": lower-case names, each once. */
export function parseSourceRanking(text: string): string[] {
  return [...new Set(text.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0))];
}
