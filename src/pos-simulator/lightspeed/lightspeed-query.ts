// Lightspeed R-Series list queries (POS-APIS.md, "Lightspeed Retail R-Series API V3"): filters
// `field=op,value` with operators `>`, `>=`, `<`, `<=`, `><` (between), `!=`, `~` (LIKE, `%`
// wildcards), `IN,[…]` and plain `field=value`; `sort=field` / `sort=-field`; `limit` 0–100
// (default 100); `load_relations` as a JSON array; paging only by the opaque `after`/`before`
// of the `@attributes` URLs (an `offset` is refused). Values compare by the field's type, so
// `timeStamp` compares as a time and `calcTotal` as a number even though both travel as strings.
import { decodeCursor, encodeCursor, type KeysetBound } from '../keyset-page.js';

export type FieldType = 'id' | 'number' | 'bool' | 'time' | 'string';

export interface FieldSpec<T> {
  type: FieldType;
  get(record: T): number | string | boolean | undefined;
}

export type FieldTable<T> = Record<string, FieldSpec<T>>;

export class LightspeedQueryError extends Error {}

export type Comparable = number | string | boolean;

const OPERATORS = ['><', '>=', '<=', '!=', '>', '<', '~', '=', 'IN'] as const;
type Operator = (typeof OPERATORS)[number];

const RESERVED = new Set(['limit', 'sort', 'load_relations', 'after', 'before', 'offset', 'orderby', 'orderby_desc', 'count']);

function convert(raw: string, type: FieldType, field: string): Comparable {
  const value = raw.trim();
  switch (type) {
    case 'id':
    case 'number': {
      const n = Number(value);
      if (value === '' || Number.isNaN(n)) throw new LightspeedQueryError(`Invalid value "${raw}" for ${field}.`);
      return n;
    }
    case 'bool':
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      throw new LightspeedQueryError(`Invalid boolean "${raw}" for ${field}.`);
    case 'time': {
      const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
      if (Number.isNaN(ms)) throw new LightspeedQueryError(`Invalid date "${raw}" for ${field}; URL-encode "+" in offsets.`);
      return ms;
    }
    case 'string':
      return raw;
  }
}

function likeToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

/** Parses one `field=op,value` filter into a predicate on records. */
export function parseFilter<T>(field: string, raw: string, spec: FieldSpec<T>): (record: T) => boolean {
  let op: Operator = '=';
  let rest = raw;
  for (const candidate of OPERATORS) {
    if (raw.startsWith(`${candidate},`)) {
      op = candidate;
      rest = raw.slice(candidate.length + 1);
      break;
    }
  }
  const value = (r: T) => spec.get(r);
  switch (op) {
    case '><': {
      const [lowRaw, highRaw] = rest.split(',');
      if (lowRaw === undefined || highRaw === undefined) throw new LightspeedQueryError(`"><" needs two values for ${field}.`);
      const low = convert(lowRaw, spec.type, field);
      const high = convert(highRaw, spec.type, field);
      return (r) => {
        const v = value(r);
        return v !== undefined && v >= low && v <= high;
      };
    }
    case 'IN': {
      const match = /^\[(.*)\]$/.exec(rest.trim());
      if (!match) throw new LightspeedQueryError(`IN needs a [list] for ${field}.`);
      const list = (match[1] ?? '').split(',').filter((s) => s.trim() !== '').map((s) => convert(s.replace(/^"|"$/g, ''), spec.type, field));
      return (r) => list.includes(value(r) as Comparable);
    }
    case '~': {
      const re = likeToRegExp(rest);
      return (r) => re.test(String(value(r) ?? ''));
    }
    default: {
      const target = convert(rest, spec.type, field);
      return (r) => {
        const v = value(r);
        if (v === undefined) return op === '!=';
        switch (op) {
          case '>':
            return v > target;
          case '>=':
            return v >= target;
          case '<':
            return v < target;
          case '<=':
            return v <= target;
          case '!=':
            return v !== target;
          default:
            return v === target;
        }
      };
    }
  }
}

export interface ParsedListQuery<T> {
  filters: Array<(record: T) => boolean>;
  sortField: string;
  descending: boolean;
  limit: number;
  relations: string[];
  after?: KeysetBound;
  before?: KeysetBound;
}

/** Reads a list request's query string; throws LightspeedQueryError for a 400. */
export function parseListQuery<T>(query: URLSearchParams, fields: FieldTable<T>, idField: string): ParsedListQuery<T> {
  if (query.has('offset')) throw new LightspeedQueryError('Offset paging is not supported; follow @attributes.next.');
  const limitRaw = query.get('limit');
  const limit = limitRaw === null || limitRaw === '' ? 100 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 0 || limit > 100) throw new LightspeedQueryError('limit must be an integer from 0 to 100.');

  const sortRaw = query.get('sort') ?? idField;
  const descending = sortRaw.startsWith('-');
  const sortField = descending ? sortRaw.slice(1) : sortRaw;
  if (!fields[sortField]) throw new LightspeedQueryError(`Cannot sort by ${sortField}.`);

  let relations: string[] = [];
  const relationsRaw = query.get('load_relations');
  if (relationsRaw !== null && relationsRaw !== '') {
    if (relationsRaw === 'all') relations = ['all'];
    else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(relationsRaw);
      } catch {
        throw new LightspeedQueryError('load_relations must be a JSON array, e.g. ["SaleLines","Customer"].');
      }
      const names: unknown[] = Array.isArray(parsed) ? parsed : [0];
      relations = names.filter((r): r is string => typeof r === 'string');
      if (relations.length !== names.length) throw new LightspeedQueryError('load_relations must be a JSON array of relation names.');
    }
  }

  const filters: Array<(record: T) => boolean> = [];
  for (const [field, raw] of query) {
    if (RESERVED.has(field)) continue;
    const spec = fields[field];
    if (!spec) throw new LightspeedQueryError(`Unknown field ${field}.`);
    filters.push(parseFilter(field, raw, spec));
  }

  const after = readBound(query.get('after'), 'after');
  const before = readBound(query.get('before'), 'before');
  return { filters, sortField, descending, limit, relations, ...(after ? { after } : {}), ...(before ? { before } : {}) };
}

function readBound(raw: string | null, name: string): KeysetBound | undefined {
  if (raw === null || raw === '') return undefined;
  const decoded = decodeCursor(raw) as { k?: unknown; id?: unknown } | undefined;
  const ok = (v: unknown): v is string | number => typeof v === 'string' || typeof v === 'number';
  if (!decoded || !ok(decoded.k) || !ok(decoded.id)) throw new LightspeedQueryError(`Invalid ${name} cursor.`);
  return { k: decoded.k, id: decoded.id };
}

export const boundToken = (bound: KeysetBound): string => encodeCursor(bound);
