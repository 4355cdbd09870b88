// Route-side validation of path parameters, query strings and headers; bodies are validated by
// the service that owns the write. Errors name the field (`params.id`, `query.limit`, ...).
import type { z } from 'zod';
import { AppError, invalidInput } from '../errors.js';

export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'params' | 'query' | 'headers'): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw invalidInput(result.error, where);
  return result.data;
}

/** If-Match: "v3", W/"v3" or 3. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = /^(?:W\/)?"?v?(\d{1,15})"?$/.exec(header.trim());
  if (!match) {
    throw new AppError('INVALID_INPUT', 'If-Match must be a version such as "v3"', [
      { field: 'headers.if-match', message: 'must be a version such as "v3"' },
    ]);
  }
  return Number(match[1]);
}
