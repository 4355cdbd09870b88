// What the middleware attaches to each request.
import type { Principal } from '../auth/tokens.js';
import type { Logger } from '../logger.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** The request id (request-log.ts): the caller's x-request-id, or a new UUID. */
    id: string;
    /** The request's logger, carrying its id (and, once authenticated, the business and role). */
    log: Logger;
    principal?: Principal;
  }
}

export {};
