// Request ids and request logging. Each request gets an id (the caller's x-request-id when it is a
// plain token, otherwise a new UUID), echoed in the x-request-id header and in every error body,
// and a child logger, req.log, carrying { requestId, req: { method, url } } (the path only: a
// query string may hold a searched name or email). Authentication adds { businessId, role } to it.
// When the response ends, one line: its status and duration, "request completed" or, if the
// client went away first, "request aborted". Health checks and metrics scrapes are not logged.
//
// pino-http did the same with three child loggers and four listeners per request: a third of the
// CPU of a request that does nothing (GET /healthz: 0.23 ms against 0.15 ms without it).
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const NOT_LOGGED = new Set(['/healthz', '/readyz', '/metrics']);

export function requestLogging(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', id);
    req.id = id;
    const path = req.url.split('?', 1)[0]!;
    req.log = logger.child({ requestId: id, req: { method: req.method, url: path } });
    if (NOT_LOGGED.has(path) || !logger.isLevelEnabled('info')) {
      next();
      return;
    }
    const started = performance.now();
    res.once('close', () => {
      const fields = { res: { statusCode: res.statusCode }, responseTime: Math.round(performance.now() - started) };
      req.log.info(fields, res.writableFinished ? 'request completed' : 'request aborted');
    });
    next();
  };
}
