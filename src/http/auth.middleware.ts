// Authentication (Bearer JWT) and authorization (role permissions). The principal's businessId
// scopes every query made for the request.
import type { Request, RequestHandler } from 'express';
import { can, type Permission, type Principal, type TokenService } from '../auth/tokens.js';
import { AppError } from '../errors.js';

export function authenticate(tokens: TokenService): RequestHandler {
  return (req, _res, next) => {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new AppError('UNAUTHORIZED', 'Missing bearer token in the Authorization header');
    const result = tokens.verify(match[1]!);
    if (!result.ok) throw new AppError('UNAUTHORIZED', `Unauthorized: ${result.reason}`);
    req.principal = result.principal;
    req.log.setBindings({ businessId: result.principal.businessId, role: result.principal.role });
    next();
  };
}

export function requirePermission(permission: Permission): RequestHandler {
  return (req, _res, next) => {
    const principal = principalOf(req);
    if (!can(principal.role, permission)) {
      throw new AppError('FORBIDDEN', `Role ${principal.role} may not ${permission.replace(':', ' ')}`);
    }
    next();
  };
}

export function principalOf(req: Request): Principal {
  if (!req.principal) throw new AppError('UNAUTHORIZED', 'Not authenticated');
  return req.principal;
}
