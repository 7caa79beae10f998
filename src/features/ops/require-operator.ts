import type { RequestHandler } from 'express';
import { requireAdminOrKey } from '../admin/require-admin-or-key';
import type { AdminServices } from '../admin/admin.services';
import type { AuthService } from '../auth/auth.service';
import type { ApiKeyService } from '../api-keys/api-key.service';

/** Makes a browser ask for credentials (and ask again after a wrong one). */
const CHALLENGE = 'Basic realm="auditflow operations", charset="UTF-8"';

/**
 * Middleware for operator pages a browser opens (Bull Board): an
 * administrator's session token (afs_…) or an API key with the `admin`
 * scope, sent as `Authorization: Bearer <credential>` or, since a browser
 * cannot add a header to a page it navigates to, as the password of Basic
 * auth (any user name). The checks are requireAdminOrKey's.
 */
export function requireOperator(auth: AuthService, admin: Pick<AdminServices, 'administrators'>, keys: ApiKeyService): RequestHandler[] {
  return [
    (req, res, next) => {
      res.set('WWW-Authenticate', CHALLENGE);
      const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.get('authorization') ?? '');
      if (basic) {
        const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
        // One credential check for both spellings: the checks below read the Bearer form.
        req.headers.authorization = `Bearer ${decoded.slice(decoded.indexOf(':') + 1)}`;
      }
      next();
    },
    requireAdminOrKey({ auth, admin, keys }, 'admin'),
    (_req, res, next) => {
      res.removeHeader('WWW-Authenticate');
      next();
    },
  ];
}
