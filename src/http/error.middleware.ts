// The one error middleware: every failure leaves as
// { success: false, error, code, details?, requestId, timestamp } with the code's status.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, toAppError } from '../errors.js';

interface BodyParserError {
  type?: string;
  status?: number;
}

export const notFoundHandler: RequestHandler = (req) => {
  throw new AppError('NOT_FOUND', `No route for ${req.method} ${req.path}`);
};

export const errorHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  const error = fromHttpLayer(err) ?? toAppError(err);
  if (error.code === 'INTERNAL_ERROR' || error.code === 'DATABASE_ERROR') {
    req.log.error({ err }, 'request failed');
  } else {
    req.log.info({ code: error.code }, 'request refused');
  }
  res.status(error.status).json({
    success: false,
    error: error.message,
    code: error.code,
    ...(error.details !== undefined ? { details: error.details } : {}),
    requestId: req.id,
    timestamp: new Date().toISOString(),
  });
};

/** Errors raised by body-parser before any of our code runs. */
function fromHttpLayer(err: unknown): AppError | undefined {
  const e = err as BodyParserError;
  switch (e?.type) {
    case 'entity.parse.failed':
      return new AppError('INVALID_INPUT', 'Malformed JSON in request body', [{ field: 'body', message: 'is not valid JSON' }]);
    case 'entity.too.large':
      return new AppError('PAYLOAD_TOO_LARGE', 'Request body is too large');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Request body encoding is not supported');
    case 'request.aborted':
      return new AppError('INVALID_INPUT', 'Request body was aborted');
  }
  return undefined;
}
