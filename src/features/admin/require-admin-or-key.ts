import { Router, type RequestHandler } from 'express';
import type { AuthService } from '../auth/auth.service';
import type { ApiKeyScope } from '../api-keys/api-key.repository';
import type { ApiKeyService } from '../api-keys/api-key.service';
import { requireScope, type ScopeOptions } from '../api-keys/require-scope';
import type { AdminAction } from './admin-levels';
import type { AdminServices } from './admin.services';
import { requireAdmin, requireLevel } from './require-admin';

const SESSION_TOKEN = /^Bearer\s+afs_/i;

export interface AdminOrKeyDeps {
  auth: AuthService;
  admin: Pick<AdminServices, 'administrators'>;
  keys: ApiKeyService;
}

/**
 * Middleware for what administrators and API keys may both do: a session
 * token (afs_…) must be a live administrator's, with the admin_level
 * `action` needs when one is given; anything else must be an API key with
 * `scope`. The checks are requireAdmin's, requireLevel's and requireScope's
 * (`options` are requireScope's: whether a key restricted to apps is served).
 */
export function requireAdminOrKey(deps: AdminOrKeyDeps, scope: ApiKeyScope, action?: AdminAction, options: ScopeOptions = {}): RequestHandler {
  const asAdmin = Router().use(requireAdmin(deps.auth, deps.admin), ...(action ? [requireLevel(action)] : []));
  const asKey = Router().use(requireScope(deps.keys, scope, options));
  return (req, res, next) => (SESSION_TOKEN.test(req.get('authorization') ?? '') ? asAdmin : asKey)(req, res, next);
}

/** Who acted, as reports record it in generated_by: `admin:<email>` or `api_key:<name>`. */
export function actorLabel(locals: { admin?: { email: string }; apiKey?: { name: string } }): string {
  if (locals.admin) return `admin:${locals.admin.email}`;
  return `api_key:${locals.apiKey?.name ?? 'unknown'}`;
}
