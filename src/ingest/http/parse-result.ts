// The outcome of parsing one raw POS record, shared by the Square and Lightspeed parsers: a typed
// value, or a reason naming the bad field (e.g. "amount_money.amount: expected integer, received
// string") plus the record's id when it could be read, so an ingester quarantines that record and
// goes on with the rest of the page.
import type { z } from 'zod';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string; id?: string };

/** One line for the first problem (the others usually follow from it): `path: what was wrong`. */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return '(record): invalid';
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(record)';
  return `${path}: ${describeIssue(issue)}`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    // zod 4 words this "Invalid input: expected number, received string".
    const received = /received (\w+)/.exec(issue.message)?.[1];
    if (received === 'undefined') return 'missing';
    const expected = issue.expected === 'int' ? 'integer' : issue.expected;
    return received ? `expected ${expected}, received ${received}` : `expected ${expected}`;
  }
  return issue.message.replace(/^Invalid input: /, '');
}

/** Runs a schema and shapes the result; `idOf` reads the id from the raw record for quarantine rows. */
export function parseWith<T>(schema: z.ZodType<T>, raw: unknown, idOf: (raw: unknown) => string | undefined): ParseResult<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  const id = idOf(raw);
  return { ok: false, reason: describeZodError(parsed.error), ...(id !== undefined ? { id } : {}) };
}

/** `raw[key]` when raw is an object and the value a non-empty string or a number. */
export function readId(raw: unknown, key: string): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const value = (raw as Record<string, unknown>)[key];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}
