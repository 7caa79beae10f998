import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../lib/errors/app-error';
import type { AuthService } from '../auth/auth.service';
import { requireSession } from '../auth/require-session';
import { ADMIN_LEVELS, type AdminAction } from './admin-levels';
import { adminLoginRefusal } from './admin-login.service';
import type { AdminServices } from './admin.services';
import type { AdministratorRow } from './administrator.repository';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      admin?: AdministratorRow;
    }
  }
}

/**
 * Middleware: an admin session whose administrator is still allowed in.
 * The status is read on every request, so suspending an administrator
 * shuts them out at once, whatever sessions they hold.
 */
export function requireAdmin(auth: AuthService, admin: Pick<AdminServices, 'administrators'>) {
  const session = requireSession(auth, 'admin');
  return [
    session,
    async (_req: Request, res: Response, next: NextFunction): Promise<void> => {
      const row = await admin.administrators.byId(res.locals.session!.user_id);
      if (!row) throw new AppError('FORBIDDEN', 'this administrator account no longer exists');
      const refusal = adminLoginRefusal(row);
      if (refusal) throw new AppError('FORBIDDEN', refusal.message);
      res.locals.admin = row;
      res.locals.ctx.actor = { ...res.locals.ctx.actor!, email: row.email };
      next();
    },
  ];
}

/** Middleware: the signed-in administrator's level is at least what `action` needs (admin-levels.ts). */
export function requireLevel(action: AdminAction) {
  const needed = ADMIN_LEVELS[action];
  return (_req: Request, res: Response, next: NextFunction): void => {
    const level = res.locals.admin?.admin_level ?? 0;
    if (level < needed) throw new AppError('FORBIDDEN', `this needs admin_level ${needed} or higher; yours is ${level}`);
    next();
  };
}
