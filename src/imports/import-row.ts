// How a row of an import file becomes customer fields: the accepted header names (with their
// spellings), and the validation of each row with the customer API's own schema
// (customers.schema.ts), so a value the API refuses is refused here with the same message.
// Rejections name the column and say why, never what the value was (no PII).
import type { z } from 'zod';
import { customerPatch, type CustomerPatch } from '../customers/customers.schema.js';

/** Fields a column may fill: the customer's core fields and one address. */
const CORE_FIELDS = ['email', 'phone', 'firstName', 'lastName', 'dateOfBirth', 'status', 'customerType', 'tags', 'notes'] as const;
const ADDRESS_FIELDS = [
  'addressType',
  'addressLine1',
  'addressLine2',
  'city',
  'stateProvince',
  'stateProvinceCode',
  'postalCode',
  'country',
  'countryCode',
] as const;
type CoreField = (typeof CORE_FIELDS)[number];
type AddressField = (typeof ADDRESS_FIELDS)[number];
export type ImportField = CoreField | AddressField;

/**
 * Accepted header names per field, after normalising (see normaliseHeader: `First Name`,
 * `firstName`, `first-name` and `first_name` are one name). The first spelling is the canonical one.
 */
export const HEADER_NAMES: Record<ImportField, readonly string[]> = {
  email: ['email', 'email_address', 'e_mail'],
  phone: ['phone', 'phone_number', 'mobile'],
  firstName: ['first_name', 'given_name'],
  lastName: ['last_name', 'family_name', 'surname'],
  dateOfBirth: ['date_of_birth', 'birth_date', 'birthday', 'dob'],
  status: ['status'],
  customerType: ['customer_type'],
  tags: ['tags'],
  notes: ['notes'],
  addressType: ['address_type'],
  addressLine1: ['address_line1', 'address_line_1', 'address1', 'address', 'street'],
  addressLine2: ['address_line2', 'address_line_2', 'address2'],
  city: ['city'],
  stateProvince: ['state', 'state_province', 'province', 'region'],
  stateProvinceCode: ['state_code', 'state_province_code'],
  postalCode: ['postal_code', 'zip', 'zip_code', 'postcode'],
  country: ['country'],
  countryCode: ['country_code'],
};

const FIELD_BY_NAME = new Map<string, ImportField>(
  (Object.entries(HEADER_NAMES) as [ImportField, readonly string[]][]).flatMap(([field, names]) => names.map((n) => [n, field] as const)),
);

/** `First Name`, `firstName`, `first-name` → `first_name`. */
export function normaliseHeader(name: string): string {
  return name
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

/** Where each field is in a row: the column index and the header as the file spells it. */
export interface ColumnMap {
  columns: { index: number; field: ImportField; header: string }[];
  /** The header of a field's column, for messages (canonical name when the file has none). */
  headerOf(field: ImportField): string;
}

/** Why a header is unusable: logged instead of the message. */
export type HeaderErrorCode = 'UNKNOWN_COLUMNS' | 'REPEATED_COLUMN' | 'NO_EMAIL_COLUMN';

/**
 * The header is unusable: unknown or repeated columns, or no email column. The whole import fails.
 * The message names columns by position only: a file without a header row makes its first data
 * row (an email, names) the "header", and the message is stored and shown (customer_imports.last_error).
 */
export class HeaderError extends Error {
  constructor(
    readonly code: HeaderErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A cell that looks like a value rather than a column name: an email, a phone, a date, a number. */
const LOOKS_LIKE_DATA = /[@\d]/;

/**
 * Maps a header row. Unknown columns fail the import (a misspelt column would otherwise drop its
 * data silently); columns with an empty header are ignored. Columns are named by position (1 is
 * the first), never by their text.
 */
export function mapHeader(header: readonly string[]): ColumnMap {
  const columns: ColumnMap['columns'] = [];
  const unknown: number[] = [];
  let looksLikeData = false;
  const seen = new Map<ImportField, { name: string; position: number }>();
  header.forEach((raw, index) => {
    const name = raw.trim();
    if (name === '') return;
    const field = FIELD_BY_NAME.get(normaliseHeader(name));
    if (!field) {
      unknown.push(index + 1);
      if (LOOKS_LIKE_DATA.test(name)) looksLikeData = true;
      return;
    }
    const earlier = seen.get(field);
    if (earlier !== undefined) {
      throw new HeaderError('REPEATED_COLUMN', `Columns ${earlier.position} and ${index + 1} both give ${HEADER_NAMES[field][0]}; keep one`);
    }
    seen.set(field, { name, position: index + 1 });
    columns.push({ index, field, header: name });
  });
  if (unknown.length > 0) {
    const accepted = Object.values(HEADER_NAMES).map((names) => names[0]).join(', ');
    const positions = unknown.length > 20 ? `${unknown.slice(0, 20).join(', ')} and ${unknown.length - 20} more` : unknown.join(', ');
    const hint = looksLikeData ? '; the first row looks like data, not column names: the file seems to have no header row, and it needs one' : '';
    throw new HeaderError(
      'UNKNOWN_COLUMNS',
      `Unknown header in column${unknown.length > 1 ? 's' : ''} ${positions} (counting from 1)${hint}; accepted columns: ${accepted} (see the README for other spellings)`,
    );
  }
  if (!seen.has('email')) throw new HeaderError('NO_EMAIL_COLUMN', 'The header has no email column: rows are matched to customers by email');
  return { columns, headerOf: (field) => seen.get(field)?.name ?? HEADER_NAMES[field][0]! };
}

export interface RowProblem {
  field: string;
  message: string;
}

/** A validated row: the customer fields it sets (empty cells set nothing) and its address, if any. */
export interface ImportRow {
  /** As written (trimmed); `emailKey` is its lower-case form, the matching key. */
  email: string;
  emailKey: string;
  /** Parsed by the API's schema: trimmed, normalised values of the core fields the row sets. */
  fields: Omit<CustomerPatch, 'addresses'>;
  address: NonNullable<CustomerPatch['addresses']>[number] | null;
}

export type RowResult = { ok: true; row: ImportRow } | { ok: false; problems: RowProblem[] };

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
const LOWER_CASE_FIELDS = new Set<ImportField>(['status', 'customerType', 'addressType']);

/** The lower-case email of a row, for duplicate detection before validation (undefined when empty). */
export function emailKeyOf(map: ColumnMap, cells: readonly string[]): string | undefined {
  const column = map.columns.find((c) => c.field === 'email')!;
  const value = cells[column.index]?.trim();
  return value ? value.toLowerCase() : undefined;
}

/**
 * Validates one data row. Cells beyond the header, a missing email, and every value the customer
 * API would refuse are problems, each naming the column.
 */
export function readRow(map: ColumnMap, cells: readonly string[], headerLength: number): RowResult {
  const problems: RowProblem[] = [];
  if (cells.slice(headerLength).some((c) => c.trim() !== '')) {
    problems.push({ field: '(row)', message: `has values in ${cells.length - headerLength} column(s) beyond the header` });
  }
  const values = new Map<ImportField, string>();
  for (const { index, field } of map.columns) {
    const value = cells[index]?.trim() ?? '';
    if (value !== '') values.set(field, LOWER_CASE_FIELDS.has(field) ? value.toLowerCase() : value);
  }
  if (!values.has('email')) problems.push({ field: map.headerOf('email'), message: 'is required: rows are matched to customers by email' });

  const candidate: Record<string, unknown> = {};
  for (const field of CORE_FIELDS) {
    const value = values.get(field);
    if (value === undefined) continue;
    candidate[field] = field === 'tags' ? [...new Set(value.split(';').map((t) => t.trim()).filter((t) => t !== ''))] : value;
  }
  const address: Record<string, unknown> = {};
  for (const field of ADDRESS_FIELDS) {
    const value = values.get(field);
    if (value !== undefined) address[field] = value;
  }
  if (Object.keys(address).length > 0) {
    // A country code alone names the country too.
    if (address.country === undefined && typeof address.countryCode === 'string') {
      const name = safeRegionName(address.countryCode);
      if (name) address.country = name;
    }
    candidate.addresses = [address];
  }

  const parsed = customerPatch.safeParse(candidate);
  if (!parsed.success) problems.push(...issuesToProblems(parsed.error, map));
  if (problems.length > 0 || !parsed.success) return { ok: false, problems: dedupe(problems) };
  const { addresses, ...fields } = parsed.data;
  const email = fields.email!;
  return { ok: true, row: { email, emailKey: email.toLowerCase(), fields, address: addresses?.[0] ?? null } };
}

function safeRegionName(code: string): string | undefined {
  try {
    const name = regionNames.of(code.trim().toUpperCase());
    return name && name !== code.trim().toUpperCase() ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The column of a customer API field path (`email`, `addresses.0.city`): its header in the
 * file, or the API's name when imports have no such column.
 */
export function columnOf(map: ColumnMap, path: readonly string[]): string {
  const field = path[0] === 'addresses' ? path[2] : path[0];
  if (field !== undefined && Object.hasOwn(HEADER_NAMES, field)) return map.headerOf(field as ImportField);
  return path.join('.') || '(row)';
}

/** zod issues as column problems. zod's messages and ours never echo the value. */
function issuesToProblems(error: z.ZodError, map: ColumnMap): RowProblem[] {
  return error.issues.map((issue) => ({ field: columnOf(map, issue.path.map(String)), message: issue.message }));
}

function dedupe(problems: RowProblem[]): RowProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.field}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
