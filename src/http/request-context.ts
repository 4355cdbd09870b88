// What the middleware attaches to each request.
import type { Principal } from '../auth/tokens.js';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

export {};
