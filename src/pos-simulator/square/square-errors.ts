// Square's error body: `{ errors: [{ category, code, detail?, field? }] }`, with the HTTP status
// of the first error (POS-APIS.md, Square "Errors"). Handlers throw SquareApiError; the app's
// error middleware writes it.
export type SquareErrorCategory =
  | 'API_ERROR'
  | 'AUTHENTICATION_ERROR'
  | 'INVALID_REQUEST_ERROR'
  | 'RATE_LIMIT_ERROR'
  | 'PAYMENT_METHOD_ERROR'
  | 'REFUND_ERROR';

export interface SquareErrorEntry {
  category: SquareErrorCategory;
  code: string;
  detail?: string;
  field?: string;
}

export class SquareApiError extends Error {
  constructor(
    readonly status: number,
    readonly entries: SquareErrorEntry[],
  ) {
    super(entries[0]?.detail ?? entries[0]?.code ?? 'Square API error');
  }

  static invalid(code: string, detail: string, field?: string): SquareApiError {
    return new SquareApiError(400, [{ category: 'INVALID_REQUEST_ERROR', code, detail, ...(field ? { field } : {}) }]);
  }

  static notFound(detail: string): SquareApiError {
    return new SquareApiError(404, [{ category: 'INVALID_REQUEST_ERROR', code: 'NOT_FOUND', detail }]);
  }

  body(): { errors: SquareErrorEntry[] } {
    return { errors: this.entries };
  }
}

const SERVER_ERROR_CODES: Record<number, string> = {
  500: 'INTERNAL_SERVER_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

export function squareServerError(status: number): SquareApiError {
  return new SquareApiError(status, [
    { category: 'API_ERROR', code: SERVER_ERROR_CODES[status] ?? 'INTERNAL_SERVER_ERROR', detail: 'Simulated server error.' },
  ]);
}
