// The import row mapping: header spellings, unknown and repeated columns, and row validation
// with the customer API's schema, reporting the column and the reason but never the value.
import { describe, expect, it } from 'vitest';
import { HeaderError, mapHeader, normaliseHeader, readRow } from '../../../src/imports/import-row.js';

describe('import header', () => {
  it('accepts the documented spellings of each column', () => {
    expect(['First Name', 'firstName', 'first-name', ' first_name ', 'FIRST_NAME'].map(normaliseHeader)).toEqual(Array(5).fill('first_name'));
    const map = mapHeader(['E-mail', 'firstName', 'Surname', 'DOB', 'Zip', 'addressLine1', 'Country Code', '']);
    expect(map.columns.map((c) => c.field)).toEqual(['email', 'firstName', 'lastName', 'dateOfBirth', 'postalCode', 'addressLine1', 'countryCode']);
    expect(map.headerOf('dateOfBirth')).toBe('DOB');
    expect(map.headerOf('city')).toBe('city');
  });

  it('refuses unknown columns (naming them), a field given twice, and a header without email', () => {
    expect(() => mapHeader(['email', 'favourite colour', 'shoe size'])).toThrow(/Unknown header in columns 2, 3 /);
    expect(() => mapHeader(['email', 'first_name', 'firstName'])).toThrow(/Columns 2 and 3 both give first_name/);
    expect(() => mapHeader(['first_name', 'phone'])).toThrow(HeaderError);
    expect(() => mapHeader(['first_name', 'phone'])).toThrow(/no email column/);
  });

  it('never quotes a header cell: a first row of data is named by position and reported as a missing header row', () => {
    const data = ['ann@example.com', 'Zebedee', 'Quarterfield', '+14155550177'];
    const err = (() => {
      try {
        mapHeader(data);
      } catch (e) {
        return e as HeaderError;
      }
      throw new Error('mapHeader accepted a row of data');
    })();
    expect(err).toBeInstanceOf(HeaderError);
    expect(err.code).toBe('UNKNOWN_COLUMNS');
    expect(err.message).toMatch(/^Unknown header in columns 1, 2, 3, 4 .*seems to have no header row/);
    for (const value of data) expect(err.message.toLowerCase()).not.toContain(value.toLowerCase());
    // Unknown names that do not look like data get no such hint, and are not quoted either.
    const plain = (() => {
      try {
        mapHeader(['email', 'Favourite Colour']);
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(plain).toMatch(/column 2 /);
    expect(plain).not.toMatch(/Favourite|no header row/);
  });
});

describe('import row', () => {
  const header = ['email', 'first_name', 'date_of_birth', 'status', 'customer_type', 'tags', 'phone', 'address', 'city', 'country_code', 'postal_code'];
  const map = mapHeader(header);
  const row = (values: Record<string, string>) => header.map((h) => values[h] ?? '');

  it('reads a valid row: empty cells set nothing, enums in any case, tags split on semicolons, country named from its code', () => {
    const result = readRow(map, row({ email: ' Ann@Example.com ', first_name: 'Ann', status: 'VIP', customer_type: 'Wholesale', tags: 'a; b;;a ', address: '1 Main St', city: 'Lyon', country_code: 'fr' }), header.length);
    expect(result).toEqual({
      ok: true,
      row: {
        email: 'Ann@Example.com',
        emailKey: 'ann@example.com',
        fields: { email: 'Ann@Example.com', firstName: 'Ann', status: 'vip', customerType: 'wholesale', tags: ['a', 'b'] },
        address: { addressLine1: '1 Main St', city: 'Lyon', country: 'France', countryCode: 'FR' },
      },
    });
  });

  it('reports each refused value by column and reason, never echoing the value', () => {
    const secret = 'not-an-email-7f3a';
    const result = readRow(
      map,
      row({ email: secret, date_of_birth: '2000-02-30', status: 'gold', phone: '12345', address: '1 Main St', postal_code: '75001' }),
      header.length,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.field).sort()).toEqual(['city', 'country', 'country_code', 'date_of_birth', 'email', 'phone', 'status'].sort());
    expect(JSON.stringify(result.problems)).not.toMatch(/not-an-email|2000-02-30|gold|12345|Main St|75001/);
  });

  it('requires an email, and refuses values beyond the header', () => {
    const none = readRow(map, row({ first_name: 'Zoe' }), header.length);
    expect(none).toEqual({ ok: false, problems: [{ field: 'email', message: expect.stringMatching(/required/) }] });
    const extra = readRow(map, [...row({ email: 'z@example.com' }), 'stray'], header.length);
    expect(extra).toEqual({ ok: false, problems: [{ field: '(row)', message: expect.stringMatching(/beyond the header/) }] });
    // An empty trailing cell is not a problem.
    expect(readRow(map, [...row({ email: 'z@example.com' }), ' '], header.length).ok).toBe(true);
  });
});
