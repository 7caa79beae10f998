import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../lib/errors/app-error';
import type { AuthService } from './auth.service';
import type { SessionRow } from './session.repository';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      session?: SessionRow;
    }
  }
}

/** Middleware: a live session token (`Authorization: Bearer afs_…`) of the given subject type. */
export function requireSession(auth: AuthService, subject: 'user' | 'admin' | 'any' = 'user') {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const match = /^Bearer\s+(afs_\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!match) throw new AppError('UNAUTHENTICATED', 'log in first: send Authorization: Bearer <session token>');
    const session = await auth.session(match[1]!);
    if (!session) throw new AppError('UNAUTHENTICATED', 'this session has ended or expired; log in again');
    if (subject !== 'any' && session.subject_type !== subject) {
      throw new AppError('FORBIDDEN', subject === 'admin' ? 'administrators only' : 'this endpoint is for user accounts');
    }
    res.locals.session = session;
    res.locals.ctx.actor = { type: session.subject_type, id: session.user_id, sessionId: session.session_id };
    next();
  };
}
