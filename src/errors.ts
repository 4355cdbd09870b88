// The one error type. Services throw AppError with a stable code; the HTTP error middleware maps
// codes to statuses. PostgreSQL SQLSTATEs are translated here, once.
import { ZodError } from 'zod';

export const ERROR_STATUS = {
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  DATABASE_ERROR: 503,
  /** A feature this instance was started without (e.g. no prediction engine wired). */
  GATEWAY_TIMEOUT: 504,
  INTERNAL_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface FieldProblem {
  field: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** Turns zod issues into field problems, with a path prefix such as `body` or `query`. */
export function fieldProblems(error: ZodError, prefix?: string): FieldProblem[] {
  return error.issues.map((issue) => {
    const path = [...(prefix ? [prefix] : []), ...issue.path.map(String)];
    const keys = 'keys' in issue && Array.isArray(issue.keys) ? issue.keys.map(String) : [];
    // Unknown keys are reported one field each, so the message names them.
    const field = keys.length > 0 ? [...path, keys.join(',')].join('.') : path.join('.') || '(root)';
    return { field, message: issue.message };
  });
}

export function invalidInput(error: ZodError, prefix?: string): AppError {
  const problems = fieldProblems(error, prefix);
  const summary = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
  return new AppError('INVALID_INPUT', `Invalid input: ${summary}`, problems);
}

interface PgLikeError {
  code?: unknown;
  constraint?: unknown;
  detail?: unknown;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', '57P01', '57P03', '08006', '08001', '08004', '53300']);

/** Maps a PostgreSQL error (node-postgres or PGlite) to an AppError; anything else becomes INTERNAL_ERROR. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) return invalidInput(err);
  const cause = findPgError(err);
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const constraint = typeof cause?.constraint === 'string' ? cause.constraint : undefined;
  switch (code) {
    case '23505':
      return new AppError('CONFLICT', describeUnique(constraint), constraint ? { constraint } : undefined);
    case '23503':
      return new AppError('NOT_FOUND', 'A referenced record does not exist', constraint ? { constraint } : undefined);
    case '23514':
    case '23502':
    case '22P02':
    case '22001':
    case '22003':
    case '22007':
    case '22008':
    case '22021':
    case '22P05':
    case '21000':
      return new AppError('INVALID_INPUT', 'A value is not accepted by the database', constraint ? { constraint } : { sqlstate: code });
    case '40001':
    case '40P01':
      return new AppError('CONFLICT', 'Concurrent update, please retry');
  }
  if (code && CONNECTION_CODES.has(code)) return new AppError('DATABASE_ERROR', 'The database is unavailable');
  return new AppError('INTERNAL_ERROR', 'Internal error');
}

export function isRetryableTransactionError(err: unknown): boolean {
  const code = findPgError(err)?.code;
  return code === '40001' || code === '40P01';
}

// drizzle wraps driver errors (DrizzleQueryError.cause); walk the cause chain to the driver's error.
function findPgError(err: unknown): PgLikeError | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const candidate = current as PgLikeError & { cause?: unknown };
    if (typeof candidate.code === 'string') return candidate;
    current = candidate.cause;
  }
  return undefined;
}

const UNIQUE_MESSAGES: Record<string, string> = {
  uq_business_customers_email: 'email: a customer with this email already exists in this business',
  uq_customer_sources_source_external: 'sources: this source id already belongs to another customer',
  uq_customer_ip_addresses_customer_ip: 'ipAddresses: the same IP address is listed twice',
  customer_addresses_pkey: 'addresses: an address with this id already exists',
  customer_activities_pkey: 'activities: an activity with this id already exists',
};

function describeUnique(constraint: string | undefined): string {
  return (constraint && UNIQUE_MESSAGES[constraint]) ?? 'A record with the same unique value already exists';
}
