import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../lib/errors/app-error';
import type { ApiKeyScope } from './api-key.repository';
import type { ApiKeyService, AuthenticatedKey } from './api-key.service';
import { assertMayUse } from './app-restriction';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      apiKey?: AuthenticatedKey;
    }
  }
}

export interface ScopeOptions {
  /**
   * The route bounds every read to the key's apps (app-restriction.ts
   * readableApps), so a key restricted to some apps may use it. Without
   * this, such a key is refused wherever `scope` spans every app.
   */
  servesRestricted?: boolean;
}

/** Middleware: `Authorization: Bearer <key>` must name an active key that has `scope`. */
export function requireScope(keys: ApiKeyService, scope: ApiKeyScope, options: ScopeOptions = {}) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new AppError('UNAUTHENTICATED', 'missing API key: send Authorization: Bearer <key>');
    const key = await keys.authenticate(match[1]!);
    if (!key) throw new AppError('UNAUTHENTICATED', 'invalid or revoked API key');
    if (!key.scopes.includes(scope)) throw new AppError('FORBIDDEN', `this API key lacks the "${scope}" scope`);
    if (!options.servesRestricted) assertMayUse(key.apps, scope);
    res.locals.apiKey = key;
    // The key is the actor of this request: api_access rows record it.
    res.locals.ctx.actor = { type: 'api_key', id: key.id, name: key.name };
    next();
  };
}
